"""The local gateway holds handlers to what Lambda behind API Gateway allows: an answer
after the 29 s integration timeout is not waited for, and an answer over Lambda's 6 MB
response limit is an error, not a response. A real gateway with stand-in handlers."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from typing import Any

import pytest
from websockets.sync.client import connect

from local.gateway import MAX_LAMBDA_RESPONSE_BYTES, Handlers
from tests.integration.standin_gateway import allow_everyone, answer_200, running_gateway

pytestmark = pytest.mark.integration


def _get(url: str) -> tuple[int, Any]:
    try:
        with urllib.request.urlopen(url, timeout=30) as resp:
            return resp.status, json.loads(resp.read() or b"null")
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"null")


def test_an_http_answer_after_the_integration_timeout_is_a_503():
    # Given an HTTP handler that answers only after the (shortened) integration timeout
    release = threading.Event()

    def slow(event: dict[str, Any], context: Any) -> dict[str, Any]:
        release.wait(10)
        return {"statusCode": 200, "body": '{"late":true}'}

    handlers = Handlers(
        authorizer=allow_everyone, connect=answer_200, message=answer_200, http=slow
    )
    with running_gateway(handlers, integration_timeout=0.5) as gateway:
        # When a request reaches it
        status, body = _get(gateway.url + "/api/anything")
        release.set()
    # Then the caller gets the HTTP API's timeout answer, not the late one
    assert (status, body) == (503, {"message": "Service Unavailable"})


def test_an_answer_over_six_megabytes_is_a_500_and_a_smaller_one_passes():
    # Given an HTTP handler whose answer size the request chooses
    def sized(event: dict[str, Any], context: Any) -> dict[str, Any]:
        size = int(event["queryStringParameters"]["bytes"])
        return {"statusCode": 200, "body": json.dumps({"pad": "x" * size})}

    handlers = Handlers(
        authorizer=allow_everyone, connect=answer_200, message=answer_200, http=sized
    )
    with running_gateway(handlers) as gateway:
        # When one answer is just over Lambda's limit and another well under it
        over = _get(f"{gateway.url}/api/big?bytes={MAX_LAMBDA_RESPONSE_BYTES}")
        under = _get(f"{gateway.url}/api/big?bytes={MAX_LAMBDA_RESPONSE_BYTES // 2}")
    # Then the oversized one is refused as a failed integration, the other is served
    assert over == (500, {"message": "Internal Server Error"})
    assert under[0] == 200 and len(under[1]["pad"]) == MAX_LAMBDA_RESPONSE_BYTES // 2


def test_a_websocket_frame_whose_handler_times_out_gets_the_gateways_error_and_the_socket_lives():
    # Given a message handler that hangs on "slow" frames and answers nothing on others
    release = threading.Event()

    def message(event: dict[str, Any], context: Any) -> dict[str, Any]:
        if "slow" in (event.get("body") or ""):
            release.wait(10)
        return {"statusCode": 200}

    handlers = Handlers(
        authorizer=allow_everyone, connect=answer_200, message=message, http=answer_200
    )
    with (
        running_gateway(handlers, integration_timeout=0.5) as gateway,
        connect(gateway.url.replace("http", "ws", 1) + "/ws?token=t") as ws,
    ):
        # When a frame's handler does not answer in time
        ws.send(json.dumps({"type": "slow"}))
        reply = json.loads(ws.recv(timeout=5))  # the handler itself would take 10 s
        release.set()
        # Then the client is told of the failed integration (not left waiting for the
        # handler), and the socket still answers
        assert reply["message"] == "Endpoint request timed out"
        ws.send(json.dumps({"type": "ping"}))
        assert json.loads(ws.recv(timeout=10)) == {"type": "pong"}
