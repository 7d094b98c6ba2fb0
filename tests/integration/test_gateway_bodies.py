"""The local gateway answers a body it cannot read with the project's typed 400, never
aiohttp's own 500 page (issue 14, point 7). A real gateway with stand-in handlers."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

import pytest

from local.gateway import Handlers
from tests.integration.standin_gateway import allow_everyone, answer_200, running_gateway

pytestmark = pytest.mark.integration

NOT_UTF8 = b'{"title": "Line 3 \xff\xfe down"}'


def _post(url: str, body: bytes, content_type: str) -> tuple[int, str, Any]:
    request = urllib.request.Request(
        url, data=body, method="POST", headers={"content-type": content_type}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as resp:
            return resp.status, resp.headers.get_content_type(), json.loads(resp.read())
    except urllib.error.HTTPError as err:
        return err.code, err.headers.get_content_type(), json.loads(err.read())


@pytest.fixture
def gateway():
    """A gateway whose HTTP function records what reaches it."""
    reached: list[dict[str, Any]] = []

    def http(event: dict[str, Any], context: Any) -> dict[str, Any]:
        reached.append(event)
        return {"statusCode": 200, "body": '{"ok":true}'}

    handlers = Handlers(
        authorizer=allow_everyone, connect=answer_200, message=answer_200, http=http
    )
    with running_gateway(handlers) as running:
        yield running.url, reached


def test_a_json_body_that_is_not_utf8_is_a_typed_400_and_reaches_no_function(gateway):
    url, reached = gateway
    # Given a JSON request whose body holds bytes that are not UTF-8
    # When it is sent to the HTTP API
    status, content_type, body = _post(url + "/api/rooms", NOT_UTF8, "application/json")
    # Then the gateway answers the project's typed 400, and no function was invoked
    assert (status, content_type) == (400, "application/json")
    assert body["error"]["code"] == "VALIDATION"
    assert "UTF-8" in body["error"]["message"]
    assert reached == []


def test_a_binary_body_is_passed_on_base64_encoded(gateway):
    url, reached = gateway
    # Given the same bytes sent as a binary type (an upload through the API, say)
    # When it is sent
    status, _, _ = _post(url + "/api/anything", NOT_UTF8, "application/octet-stream")
    # Then it reaches the function, base64-encoded as the HTTP API does
    assert status == 200
    assert [e["isBase64Encoded"] for e in reached] == [True]


@pytest.mark.parametrize(
    ("body", "problem"),
    [(NOT_UTF8, "UTF-8"), (b"user_id=ann@factory.example", "not JSON")],
)
def test_the_dev_sign_in_answers_a_body_it_cannot_read_with_a_typed_400(gateway, body, problem):
    url, _ = gateway
    # Given a sign-in request whose body is not UTF-8, or not JSON
    # When it is posted to the local sign-in
    status, content_type, answer = _post(url + "/api/dev/login", body, "application/json")
    # Then the answer is the typed 400 naming the problem
    assert (status, content_type) == (400, "application/json")
    assert answer["error"]["code"] == "VALIDATION"
    assert problem in answer["error"]["message"]
