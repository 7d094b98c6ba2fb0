"""Both Lambda transports of the fan-out (boto3 and the lean SigV4 POST) against a real
HTTP endpoint on loopback that records what it is sent and answers as the Management
API does (200, 410 Gone, 429 throttled, 413)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from warroom.fanout import (
    Boto3Transport,
    Broadcaster,
    PostStatus,
    SigV4HttpTransport,
    Transport,
    make_transport,
)

pytestmark = pytest.mark.integration

CREDENTIALS = Credentials("AKIDTEST", "secret-test-key", "session-token")
STAGE = "/prod"


@dataclass
class Recorded:
    method: str
    connection_id: str
    body: bytes
    headers: dict[str, str]
    client_port: int


@dataclass
class ManagementApi:
    """What the endpoint does per connection id: a list of statuses to answer in turn
    (the last one repeats); unknown ids are delivered (200)."""

    url: str
    script: dict[str, list[int]] = field(default_factory=dict)
    requests: list[Recorded] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self, connection_id: str) -> int:
        with self.lock:
            plan = self.script.get(connection_id)
            if not plan:
                return 200
            return plan.pop(0) if len(plan) > 1 else plan[0]

    def posts_to(self, connection_id: str) -> list[Recorded]:
        return [r for r in self.requests if r.connection_id == connection_id]


ERRORS = {410: "GoneException", 429: "LimitExceededException", 413: "PayloadTooLargeException"}


@pytest.fixture
def api() -> Iterator[ManagementApi]:
    holder: dict[str, ManagementApi] = {}

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as API Gateway

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            assert self.path.startswith(STAGE + "/@connections/")
            connection_id = unquote(self.path.removeprefix(STAGE + "/@connections/"))
            recorder = holder["api"]
            with recorder.lock:
                recorder.requests.append(
                    Recorded(
                        self.command,
                        connection_id,
                        body,
                        {k.lower(): v for k, v in self.headers.items()},
                        self.client_address[1],
                    )
                )
            status = recorder.answer(connection_id)
            payload = b"" if status == 200 else json.dumps({"message": ERRORS[status]}).encode()
            self.send_response(status)
            if status != 200:
                self.send_header("x-amzn-ErrorType", ERRORS[status])
                self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_POST = do_DELETE = _serve

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    holder["api"] = ManagementApi(f"http://127.0.0.1:{server.server_address[1]}{STAGE}")
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield holder["api"]
    server.shutdown()
    server.server_close()


def _boto3(url: str) -> Transport:
    import boto3
    from botocore.config import Config

    client = boto3.client(
        "apigatewaymanagementapi",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id=CREDENTIALS.access_key,
        aws_secret_access_key=CREDENTIALS.secret_key,
        config=Config(retries={"total_max_attempts": 1}),
    )
    return Boto3Transport(url, client=client)


def _http(url: str) -> Transport:
    return SigV4HttpTransport(url, region="us-east-1", credentials=CREDENTIALS)


TRANSPORTS: dict[str, Callable[[str], Transport]] = {"boto3": _boto3, "http": _http}


class RecordingStore:
    def __init__(self) -> None:
        self.deleted: list[str] = []

    def forget_gone(self, connection_id: str) -> bool:
        self.deleted.append(connection_id)
        return True


@pytest.fixture(params=sorted(TRANSPORTS))
def transport(request, api: ManagementApi) -> Transport:
    return TRANSPORTS[request.param](api.url)


def test_a_gone_connection_is_forgotten_and_the_others_still_get_the_frame(api, transport):
    # Given five connections, the second of which is gone (410)
    api.script["b="] = [410]
    store = RecordingStore()
    broadcaster = Broadcaster(api.url, store, transport=transport, max_workers=4)  # type: ignore[arg-type]
    # When a frame is fanned out to all of them
    report = broadcaster.to_connections(["a=", "b=", "c", "d", "e"], {"type": "typing"})
    # Then the gone one is deleted through the store, once, and every other one got it
    assert report.gone == ["b="] and report.failed == [] and report.delivered == 4
    assert store.deleted == ["b="]
    for other in ("a=", "c", "d", "e"):
        (posted,) = api.posts_to(other)
        assert posted.method == "POST" and json.loads(posted.body) == {"type": "typing"}


def test_throttling_is_retried_until_it_is_delivered(api, transport):
    # Given a connection that is throttled twice
    api.script["slow"] = [429, 429, 200]
    broadcaster = Broadcaster(api.url, RecordingStore(), transport=transport, base_delay=0.001)  # type: ignore[arg-type]
    # When a frame is posted to it
    report = broadcaster.post("slow", {"type": "pong"})
    # Then it is tried three times and delivered once
    assert report.delivered == 1 and len(api.posts_to("slow")) == 3


def test_throttling_that_never_ends_counts_as_failed(api, transport):
    api.script["stuck"] = [429]
    broadcaster = Broadcaster(
        api.url,
        RecordingStore(),  # type: ignore[arg-type]
        transport=transport,
        base_delay=0.001,
        max_attempts=3,
    )
    report = broadcaster.post("stuck", {"type": "pong"})
    assert report.failed == ["stuck"] and len(api.posts_to("stuck")) == 3


def test_an_oversized_frame_is_never_posted(api, transport):
    # Given a frame that cannot fit 128 KB even without message content
    store = RecordingStore()
    broadcaster = Broadcaster(api.url, store, transport=transport)  # type: ignore[arg-type]
    # When it is fanned out
    report = broadcaster.to_connections(["a", "b"], {"type": "sync", "messages": ["x" * 140_000]})
    # Then nothing reaches the endpoint and both count as failed
    assert report.failed == ["a", "b"] and api.requests == [] and store.deleted == []


def test_payload_too_large_from_the_api_is_a_failure_not_a_gone(api, transport):
    api.script["big"] = [413]
    store = RecordingStore()
    broadcaster = Broadcaster(api.url, store, transport=transport)  # type: ignore[arg-type]
    report = broadcaster.post("big", {"type": "pong"})
    assert report.failed == ["big"] and store.deleted == [] and len(api.posts_to("big")) == 1


def test_close_sends_a_delete(api, transport):
    broadcaster = Broadcaster(api.url, RecordingStore(), transport=transport)  # type: ignore[arg-type]
    broadcaster.close("bye=")
    (deleted,) = api.posts_to("bye=")
    assert deleted.method == "DELETE"


def test_the_lean_transport_signs_like_botocore_and_keeps_its_connection(api):
    # Given the lean transport with known credentials
    transport = _http(api.url)
    # When it posts three frames one after another
    for n in range(3):
        assert transport.post("conn/1=", f'{{"n":{n}}}'.encode()) is PostStatus.DELIVERED
    first = api.requests[0]
    # Then every request is SigV4-signed for execute-api in the region, with the token
    auth = first.headers["authorization"]
    assert auth.startswith("AWS4-HMAC-SHA256 Credential=AKIDTEST/")
    assert "/us-east-1/execute-api/aws4_request" in auth
    assert first.headers["x-amz-security-token"] == "session-token"
    # And the signature is the one botocore computes for the same request and time
    url = f"{api.url}/@connections/conn%2F1%3D"
    expected = AWSRequest(method="POST", url=url, data=first.body)
    expected.context["timestamp"] = first.headers["x-amz-date"]
    expected.headers["X-Amz-Date"] = first.headers["x-amz-date"]
    expected.headers["X-Amz-Security-Token"] = "session-token"
    signer = SigV4Auth(CREDENTIALS.get_frozen_credentials(), "execute-api", "us-east-1")
    signature = signer.signature(
        signer.string_to_sign(expected, signer.canonical_request(expected)), expected
    )
    assert auth.endswith("Signature=" + signature)
    # And the id's "/" and "=" were escaped, and one kept-alive connection served all three
    assert [r.connection_id for r in api.requests] == ["conn/1="] * 3
    assert len({r.client_port for r in api.requests}) == 1


def test_the_transport_is_chosen_by_name():
    assert isinstance(
        make_transport("http", "https://x.execute-api.eu-west-1.amazonaws.com/p"),
        SigV4HttpTransport,
    )
    assert isinstance(make_transport("boto3", "https://x"), Boto3Transport)
    lean = make_transport("http", "https://abc.execute-api.eu-west-1.amazonaws.com/prod")
    assert isinstance(lean, SigV4HttpTransport) and lean.region == "eu-west-1"
    from warroom.errors import ConfigurationError

    with pytest.raises(ConfigurationError, match="WS_TRANSPORT"):
        make_transport("carrier-pigeon", "https://x")
