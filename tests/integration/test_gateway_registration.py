"""The local gateway answers 410 for a connection whose $connect has not finished, on its
HTTP `@connections` endpoint and through the in-process transport alike, as API Gateway
does; once $connect has answered 200, posts reach the client. A real gateway on
loopback with stand-in handlers and a real WebSocket client; no database."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from botocore.credentials import Credentials
from websockets.sync.client import connect

from local.gateway import Handlers, InProcessTransport
from tests.integration.standin_gateway import allow_everyone, answer_200, running_gateway
from warroom.fanout import PostStatus, SigV4HttpTransport

pytestmark = pytest.mark.integration


@dataclass
class DuringConnect:
    """What the stand-in $connect saw when it posted to its own connection."""

    connection_id: str = ""
    in_process: PostStatus | None = None
    over_http: PostStatus | None = None
    done: threading.Event = field(default_factory=threading.Event)


@dataclass
class Running:
    url: str
    transport: InProcessTransport
    seen: DuringConnect


@pytest.fixture
def running() -> Iterator[Running]:
    holder: dict[str, Any] = {}
    seen = DuringConnect()

    def connect_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        if event["requestContext"]["routeKey"] == "$connect" and not seen.done.is_set():
            # While $connect runs, post to this very connection both ways.
            connection_id = event["requestContext"]["connectionId"]
            seen.connection_id = connection_id
            seen.in_process = holder["transport"].post(connection_id, b'{"type":"early"}')
            # Signed, as the handlers' `http` transport signs in the cloud and locally.
            seen.over_http = SigV4HttpTransport(
                holder["url"], region="us-east-1", credentials=Credentials("local", "local")
            ).post(connection_id, b'{"type":"early"}')
            seen.done.set()
        return {"statusCode": 200}

    handlers = Handlers(
        authorizer=allow_everyone, connect=connect_handler, message=answer_200, http=answer_200
    )
    with running_gateway(handlers) as gateway:
        holder.update(url=gateway.url, transport=gateway.transport)
        yield Running(gateway.url, gateway.transport, seen)


def test_posts_racing_connect_are_gone_and_later_ones_arrive(running: Running):
    # Given a client connecting, whose $connect posts to its own connection while it runs
    with connect(running.url.replace("http", "ws", 1) + "/ws?token=t") as ws:
        assert running.seen.done.wait(10)
        # Then both the in-process transport and the HTTP endpoint answered 410 (Gone)
        assert running.seen.in_process is PostStatus.GONE
        assert running.seen.over_http is PostStatus.GONE
        # And once $connect has answered, a post reaches the client, and only that one
        status = running.transport.post(running.seen.connection_id, b'{"type":"late"}')
        assert status is PostStatus.DELIVERED
        assert json.loads(ws.recv(timeout=10)) == {"type": "late"}
