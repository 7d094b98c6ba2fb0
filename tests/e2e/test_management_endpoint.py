"""The Lambda transports against the local gateway's real `@connections` endpoint (the
stack itself posts in process; `WS_TRANSPORT=http make dev` takes this path): a signed
POST reaches a real WebSocket client, an unknown connection is 410, an oversized post is
refused, and DELETE closes the socket."""

from __future__ import annotations

import json
import time
from collections.abc import Callable

import boto3
import pytest
from botocore.config import Config
from botocore.credentials import Credentials
from websockets.exceptions import ConnectionClosed

from tests.e2e.conftest import frames_until, of_type
from warroom.fanout import Boto3Transport, PostStatus, SigV4HttpTransport, Transport

pytestmark = pytest.mark.e2e

# The credentials the local stack gives its handlers (local/stack.py).
LOCAL = Credentials("local", "local")


def _http(url: str) -> Transport:
    return SigV4HttpTransport(url, region="us-east-1", credentials=LOCAL)


def _boto3(url: str) -> Transport:
    client = boto3.client(
        "apigatewaymanagementapi",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id=LOCAL.access_key,
        aws_secret_access_key=LOCAL.secret_key,
        config=Config(retries={"total_max_attempts": 1}),
    )
    return Boto3Transport(url, client=client)


TRANSPORTS: dict[str, Callable[[str], Transport]] = {"http": _http, "boto3": _boto3}


def _connection_id(local_stack, user_id: str, room_id: str) -> str:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        for row in local_stack.request("GET", "/local/connections").body:
            if row["user_id"] == user_id and row["room_id"] == room_id:
                return str(row["connection_id"])
        time.sleep(0.05)
    raise AssertionError(f"no open socket of {user_id} in {room_id}")


@pytest.mark.parametrize("name", sorted(TRANSPORTS))
def test_a_signed_post_reaches_the_client_and_an_unknown_connection_is_gone(
    local_stack, incident, name
):
    # Given a member's open socket and a transport pointed at the gateway
    viewer, room = incident["viewer"], incident["room_id"]
    transport = TRANSPORTS[name](local_stack.base_url)
    with local_stack.connect(viewer.token, room) as ws:
        connection_id = _connection_id(local_stack, viewer.user_id, room)
        # When a frame is posted to it over HTTP
        frame = {"type": "typing", "user_id": "probe@factory.example", "is_typing": True}
        status = transport.post(connection_id, json.dumps(frame).encode())
        # Then the post is accepted and the client receives exactly that frame
        assert status is PostStatus.DELIVERED
        assert frames_until(ws, of_type("typing", user_id="probe@factory.example"))[-1] == frame
    # And a connection the gateway does not have is gone (410)
    assert transport.post("no-such-connection=", b'{"type":"pong"}') is PostStatus.GONE


def test_an_oversized_post_is_refused_and_delete_closes_the_socket(local_stack, incident):
    viewer, room = incident["viewer"], incident["room_id"]
    transport = _http(local_stack.base_url)
    with local_stack.connect(viewer.token, room) as ws:
        connection_id = _connection_id(local_stack, viewer.user_id, room)
        # When a post is over 128 KB, Then it fails (413) and the socket stays open
        big = json.dumps({"type": "typing", "pad": "x" * (129 * 1024)}).encode()
        assert transport.post(connection_id, big) is PostStatus.FAILED
        ws.send(json.dumps({"type": "ping"}))
        frames_until(ws, of_type("pong"))
        # When the connection is deleted, Then the client is closed by the server
        assert transport.delete(connection_id) is PostStatus.DELIVERED
        with pytest.raises(ConnectionClosed) as closed:
            while True:
                ws.recv(timeout=10)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1001
