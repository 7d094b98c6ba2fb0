"""A real local gateway on loopback, in its own event-loop thread, in front of stand-in
handlers (no database): for tests of what the gateway itself enforces."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from local.gateway import Gateway, GatewayConfig, Handlers, InProcessTransport
from local.sigv4 import SigningKeys

# The credentials the stand-in gateway accepts signatures from (as local/stack.py sets).
SIGNING = SigningKeys("local", "local", "us-east-1")


@dataclass
class RunningGateway:
    url: str
    gateway: Gateway
    transport: InProcessTransport


def allow_everyone(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """A stand-in REQUEST authorizer that lets every connection in."""
    return {
        "principalId": "someone@factory.example",
        "policyDocument": {"Statement": [{"Effect": "Allow"}]},
        "context": {"user_id": "someone@factory.example"},
    }


def answer_200(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return {"statusCode": 200}


@contextmanager
def running_gateway(handlers: Handlers, **config: Any) -> Iterator[RunningGateway]:
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    holder: dict[str, Any] = {}

    async def start() -> web.AppRunner:
        gateway = Gateway(
            GatewayConfig(
                public_url="",
                web_dir=None,
                s3_upstream="http://127.0.0.1:9",
                signing=SIGNING,
                **config,
            ),
            handlers,
            issuer=None,  # type: ignore[arg-type]
            dev_login=lambda user_id, name: {},
        )
        runner = web.AppRunner(gateway.app(), access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        holder.update(url=f"http://127.0.0.1:{port}", gateway=gateway, runner=runner)
        holder["transport"] = gateway.transport()
        return runner

    def serve() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(start())
        ready.set()
        loop.run_forever()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    assert ready.wait(10)
    try:
        yield RunningGateway(holder["url"], holder["gateway"], holder["transport"])
    finally:
        asyncio.run_coroutine_threadsafe(holder["runner"].cleanup(), loop).result(10)
        asyncio.run_coroutine_threadsafe(holder["gateway"].close(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
