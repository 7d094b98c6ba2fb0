"""The local gateway answers 410 for a connection whose $connect has not finished, on its
HTTP `@connections` endpoint and through the in-process transport alike, as API Gateway
does; once $connect has answered 200, posts reach the client. A real gateway on
loopback with stand-in handlers and a real WebSocket client; no database."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web
from botocore.credentials import Credentials
from websockets.sync.client import connect

from local.gateway import Gateway, GatewayConfig, Handlers, InProcessTransport
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
class RunningGateway:
    url: str
    gateway: Gateway
    transport: InProcessTransport
    seen: DuringConnect


@pytest.fixture
def running() -> Iterator[RunningGateway]:
    holder: dict[str, Any] = {}
    seen = DuringConnect()

    def authorizer(event: dict[str, Any], context: Any) -> dict[str, Any]:
        return {
            "principalId": "someone@factory.example",
            "policyDocument": {"Statement": [{"Effect": "Allow"}]},
            "context": {"user_id": "someone@factory.example"},
        }

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

    def unused(event: dict[str, Any], context: Any) -> dict[str, Any]:
        return {"statusCode": 200}

    loop = asyncio.new_event_loop()
    ready = threading.Event()

    async def start() -> web.AppRunner:
        gateway = Gateway(
            GatewayConfig(public_url="", web_dir=None, s3_upstream="http://127.0.0.1:9"),
            Handlers(authorizer=authorizer, connect=connect_handler, message=unused, http=unused),
            issuer=None,  # type: ignore[arg-type]
            dev_login=lambda user_id, name: {},
        )
        runner = web.AppRunner(gateway.app(), access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        holder["url"] = f"http://127.0.0.1:{port}"
        holder["gateway"] = gateway
        holder["transport"] = gateway.transport()
        return runner

    def serve() -> None:
        asyncio.set_event_loop(loop)
        holder["runner"] = loop.run_until_complete(start())
        ready.set()
        loop.run_forever()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    assert ready.wait(10)
    yield RunningGateway(holder["url"], holder["gateway"], holder["transport"], seen)
    asyncio.run_coroutine_threadsafe(holder["runner"].cleanup(), loop).result(10)
    asyncio.run_coroutine_threadsafe(holder["gateway"].close(), loop).result(10)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)


def test_posts_racing_connect_are_gone_and_later_ones_arrive(running: RunningGateway):
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
