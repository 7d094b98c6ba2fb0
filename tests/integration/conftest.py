"""The Lambda handlers as API Gateway drives them, for integration tests: a recording
Management API (moto's own joins posts and never says 410), a token issuer with a JWKS
endpoint, the real PostgreSQL (messages and connections) and moto's S3."""

from __future__ import annotations

import json
import threading
import uuid
from collections import defaultdict
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import boto3
import pytest
from moto import mock_aws

from functions.connect import handler as connect
from functions.message import handler as message
from local.aws import create_bucket
from local.events import LambdaContext, WsConnection
from local.issuer import LocalIssuer
from warroom.auth import reset_token_verifier
from warroom.connections import ConnectionStore
from warroom.delivery import RoomDelivery, set_room_delivery
from warroom.fanout import Broadcaster
from warroom.models import Role
from warroom.realtime import Realtime, set_realtime
from warroom.settings import clear_settings_cache
from warroom.storage import set_attachment_store


class RecordingManagementApi:
    """Keeps every post per connection; answers 410 for connections marked gone."""

    def __init__(self) -> None:
        real = boto3.client(
            "apigatewaymanagementapi", endpoint_url="https://ws.test/local", region_name="us-east-1"
        )
        self.exceptions = real.exceptions
        self.posts: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.gone: set[str] = set()
        self.closed: list[str] = []
        self._lock = threading.Lock()

    def post_to_connection(self, ConnectionId: str, Data: bytes) -> dict[str, Any]:
        if ConnectionId in self.gone:
            raise self.exceptions.GoneException(
                {
                    "Error": {"Code": "GoneException", "Message": "gone"},
                    "ResponseMetadata": {"HTTPStatusCode": 410},
                },
                "PostToConnection",
            )
        with self._lock:
            self.posts[ConnectionId].append(json.loads(Data))
        return {}

    def delete_connection(self, ConnectionId: str) -> dict[str, Any]:
        self.closed.append(ConnectionId)
        return {}

    def frames(self, connection_id: str, kind: str) -> list[dict[str, Any]]:
        return [f for f in self.posts[connection_id] if f.get("type") == kind]


@pytest.fixture(scope="module")
def issuer(tmp_path_factory):
    key = tmp_path_factory.mktemp("issuer") / "key.pem"
    holder: dict[str, Any] = {}

    class Jwks(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = json.dumps(holder["issuer"].jwks()).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Jwks)
    base = f"http://127.0.0.1:{server.server_address[1]}/issuer"
    holder["issuer"] = LocalIssuer(base, "test-client", key)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield holder["issuer"]
    server.shutdown()


@pytest.fixture
def aws(db, issuer, monkeypatch):
    env = {
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "ATTACHMENTS_BUCKET": "attachments",
        "WS_MANAGEMENT_ENDPOINT": "https://ws.test/local",
        "JWT_ISSUER": issuer.issuer,
        "JWT_AUDIENCE": issuer.audience,
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_NAMESPACE": "WarRoomTest",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL_S3", raising=False)
    clear_settings_cache()
    reset_token_verifier()
    set_attachment_store(None)
    with mock_aws():
        create_bucket(boto3.client("s3"), "attachments")
        api = RecordingManagementApi()
        store = ConnectionStore(db)
        broadcaster = Broadcaster("https://ws.test/local", store, client=api)
        # No announcement window and no departure grace: every join and departure is
        # announced as it happens (the coalescing and the grace have tests of their own).
        delivery = RoomDelivery(broadcaster, db=db, join_window=0.0, leave_grace=0.0)
        set_realtime(Realtime(store, broadcaster, delivery))
        set_room_delivery(delivery)
        yield api, store
        set_realtime(None)
        set_room_delivery(None)
        set_attachment_store(None)
    clear_settings_cache()
    reset_token_verifier()


def ws(room_id: str | None, token: str) -> WsConnection:
    query = {"token": token} | ({"room_id": room_id} if room_id else {})
    return WsConnection(
        connection_id=uuid.uuid4().hex[:12],
        domain_name="ws.test",
        source_ip="10.0.0.1",
        user_agent="pytest",
        headers={"Host": "ws.test"},
        query=query,
    )


def ctx(name: str) -> LambdaContext:
    return LambdaContext(function_name=name)


def open_connection(conn: WsConnection) -> dict[str, Any]:
    return connect.lambda_handler(conn.connect_event(), ctx("connect"))


def frame(conn: WsConnection, body: Any, route: str | None = None) -> None:
    text = body if isinstance(body, str) else json.dumps(body)
    route = route or (body.get("type") if isinstance(body, dict) else "$default")
    assert message.lambda_handler(conn.message_event(route, text), ctx("message")) == {
        "statusCode": 200
    }


@pytest.fixture
def room(make_user, make_room, issuer):
    owner, editor, viewer = make_user("owner"), make_user("editor"), make_user("viewer")
    created = make_room(owner, {editor: Role.EDITOR, viewer: Role.VIEWER})
    tokens = {
        who: issuer.mint(uid, who.title())
        for who, uid in (("owner", owner), ("editor", editor), ("viewer", viewer))
    }
    return {
        "room_id": str(created.room_id),
        "ids": {"owner": owner, "editor": editor, "viewer": viewer},
        "tokens": tokens,
    }


class RecordedPushes:
    """Issue 19's push queue, recording instead of sending."""

    def __init__(self) -> None:
        self.notices: list[Any] = []

    def enqueue(self, notices: Any) -> None:
        self.notices.extend(notices)


@pytest.fixture(autouse=True)
def recorded_pushes() -> Iterator[RecordedPushes]:
    """Pushes are recorded, not sent: the push worker's reads would otherwise run beside
    the tests that count the send path's round trips."""
    from warroom.push_queue import set_push_queue

    recorded = RecordedPushes()
    set_push_queue(recorded)
    yield recorded
    set_push_queue(None)
