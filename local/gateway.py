"""A local gateway that behaves like API Gateway, in front of the very same handlers.

- WebSocket at `/ws?room_id=…&token=…` (also `/ws/{room_id}?token=…`): the $connect
  authorizer, then $connect (a non-200 answer refuses the handshake with that status),
  route selection on `$request.body.type`, API Gateway's limits (close 1009 on a frame
  over 32 KB or a message over 128 KB; 10 min idle; 2 h per connection), protocol pings
  every 30 s with a 10 s deadline, and $disconnect on close. `{"type":"ping"}` is
  answered `{"type":"pong"}` here, as the cloud's MOCK route does, without a Lambda.
  Frames of one connection are served concurrently, as separate Lambda invocations are.
- `@connections/{id}` (POST, GET, DELETE; 410 for an unknown connection or one whose
  $connect has not finished), for the handlers' `http` and `boto3` transports, as in
  the cloud; only SigV4-signed calls (the local credentials) get past it, as with API
  Gateway's IAM auth. The `inprocess` transport hands frames to the same sockets
  without HTTP.
- The HTTP API (`/api/*`, payload format 2.0), the token issuer's JWKS, a same-origin
  proxy to the S3 stand-in (so presigned browser uploads need no CORS) that passes only
  presigned requests (signature, expiry, POST policy checked, as S3 does; moto checks
  none) and serves objects with `nosniff` and a sandboxing CSP, `config.json` and the
  built web client.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import secrets
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import WSMsgType, web
from aiohttp.http_websocket import WebSocketError

from local.events import LambdaContext, WsConnection, http_event, is_text_type
from local.issuer import LocalIssuer
from local.sigv4 import (
    LOCAL_SIGNING_KEYS,
    Refused,
    SigningKeys,
    verify_header_signature,
    verify_post_policy,
    verify_presigned_url,
)
from warroom import inbound
from warroom.bounds import MAX_CLIENT_FRAME_BYTES, MAX_LAMBDA_RESPONSE_BYTES, MAX_MESSAGE_BYTES
from warroom.errors import ValidationFailed
from warroom.fanout import PostStatus, Transport
from warroom.frames import ROUTES

logger = logging.getLogger("local.gateway")

MAX_CONNECTION_SECONDS = 2 * 3600
CLOSE_LINGER_SECONDS = 0.25  # see FrameSizeGuard
INTEGRATION_TIMEOUT_SECONDS = 29.0  # API Gateway's integration timeout
PONG = b'{"type":"pong"}'
Handler = Callable[[dict[str, Any], Any], Any]


@dataclass
class Handlers:
    authorizer: Handler
    connect: Handler
    message: Handler
    http: Handler


class IntegrationTimeout(Exception):
    """The handler did not answer within API Gateway's integration timeout."""


class ResponseTooLarge(Exception):
    """The handler's answer is over Lambda's response payload limit."""


@dataclass
class GatewayConfig:
    public_url: str
    web_dir: Path | None
    s3_upstream: str
    # The credentials the handlers sign with: the S3 proxy and @connections accept only
    # requests signed with them, as S3 and API Gateway (IAM) do. `make dev` passes the
    # ones it gives the handlers; the default is the same pair.
    signing: SigningKeys = LOCAL_SIGNING_KEYS
    idle_timeout: float = 600.0
    max_connection_seconds: float = MAX_CONNECTION_SECONDS
    ping_interval: float = 30.0
    pong_timeout: float = 10.0
    integration_timeout: float = INTEGRATION_TIMEOUT_SECONDS
    dev_users: list[dict[str, str]] = field(default_factory=list)


@dataclass
class LiveSocket:
    ws: web.WebSocketResponse
    info: WsConnection
    outbox: asyncio.Queue[bytes] = field(default_factory=asyncio.Queue)
    pong_waiter: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def gone(self) -> bool:
        return self.ws.closed

    def deliver(self, data: bytes) -> None:
        """Queue a frame for the client (event loop only). One writer per socket keeps
        posts in the order they were accepted."""
        if not self.ws.closed:
            self.outbox.put_nowait(data)

    async def write_outbox(self) -> None:
        while True:
            data = await self.outbox.get()
            try:
                await self.ws.send_frame(data, WSMsgType.TEXT)
            except (ConnectionResetError, RuntimeError):
                return  # closed underneath us; $disconnect follows
            except Exception:
                # Not expected: say so, since every later frame to this socket is lost.
                logger.exception("writing to %s failed", self.info.connection_id)
                await self.ws.close(code=1011, message=b"internal error")
                return


class FrameSizeGuard:
    """Sits in front of aiohttp's WebSocket parser and closes the socket with 1009 when a
    data frame declares a payload over `limit` bytes, as API Gateway does for a frame
    over 32 KB. aiohttp only bounds a whole (reassembled) message, so this reads the
    frame headers of the raw stream itself: 2 bytes, the 16- or 64-bit length, the mask.
    """

    def __init__(
        self, parser: Any, queue: Any, limit: int, linger: float = CLOSE_LINGER_SECONDS
    ) -> None:
        self.parser = parser
        self.queue = queue
        self.limit = limit
        self.linger = linger
        self._header = bytearray()
        self._skip = 0  # payload bytes of the current frame still to come
        self._failed = False

    def feed_eof(self) -> None:
        self.parser.feed_eof()

    def feed_data(self, data: bytes) -> tuple[bool, bytes]:
        if self._failed:
            return False, b""
        position, size = 0, len(data)
        while position < size:
            if self._skip:
                step = min(self._skip, size - position)
                self._skip -= step
                position += step
                continue
            wanted = (self._header_length() or 2) - len(self._header)
            piece = data[position : position + wanted]
            self._header += piece
            position += len(piece)
            needed = self._header_length()
            if needed is None or len(self._header) < needed:
                continue  # the rest of the header is in this read or the next
            opcode, length = self._header[0] & 0x0F, self._payload_length()
            if opcode <= 0x2 and length > self.limit:  # continuation, text, binary
                # The frames before this one in the read still reach the handler.
                self.parser.feed_data(data[: max(0, position - len(self._header))])
                self._failed = True
                # Read and drop what the client is still writing for a moment before
                # closing: closing a socket with unread bytes makes the kernel reset it,
                # and a reset can destroy the close frame (1009) before the client reads it.
                error = WebSocketError(1009, f"frame of {length} bytes over {self.limit}")
                if self.linger > 0:
                    asyncio.get_running_loop().call_later(
                        self.linger, self.queue.set_exception, error
                    )
                else:
                    self.queue.set_exception(error)
                return False, b""
            self._skip = length
            self._header.clear()
        return self.parser.feed_data(data)

    def _header_length(self) -> int | None:
        if len(self._header) < 2:
            return None
        flag = self._header[1] & 0x7F
        extra = 2 if flag == 126 else 8 if flag == 127 else 0
        return 2 + extra + (4 if self._header[1] & 0x80 else 0)

    def _payload_length(self) -> int:
        flag = self._header[1] & 0x7F
        if flag == 126:
            return int.from_bytes(self._header[2:4], "big")
        if flag == 127:
            return int.from_bytes(self._header[2:10], "big")
        return flag


class LimitedWebSocketResponse(web.WebSocketResponse):
    """aiohttp's server socket with the frame guard in front of its parser. Reaches into
    two private attributes of aiohttp's request handler (pinned version): the parser slot
    and the bytes that arrived with the upgrade request."""

    def _post_start(self, request: Any, protocol: Any, writer: Any) -> None:
        handler = request.protocol
        early, handler._message_tail = handler._message_tail, b""
        super()._post_start(request, protocol, writer)
        guard = FrameSizeGuard(handler._payload_parser, self._reader, MAX_CLIENT_FRAME_BYTES)
        handler._payload_parser = guard
        if early:
            eof, _ = guard.feed_data(early)
            if eof:
                handler.close()


def _connection_id() -> str:
    return base64.b64encode(secrets.token_bytes(10)).decode()


def select_route(body: str) -> str:
    """API Gateway's `$request.body.type`: a JSON object's `type`, if it names a route."""
    try:
        payload = json.loads(body)
    except (json.JSONDecodeError, TypeError, RecursionError):
        # A document nested too deep for the parser is still a frame to answer.
        return "$default"
    kind = payload.get("type") if isinstance(payload, dict) else None
    return kind if isinstance(kind, str) and kind in ROUTES else "$default"


class Gateway:
    def __init__(
        self,
        config: GatewayConfig,
        handlers: Handlers,
        issuer: LocalIssuer,
        dev_login: Callable[[str, str], dict[str, Any]],
    ) -> None:
        self.config = config
        self.handlers = handlers
        self.issuer = issuer
        self.dev_login = dev_login
        self.sockets: dict[str, LiveSocket] = {}
        # Each invocation runs on its own thread, like concurrent Lambda invocations; a
        # bounded number, so the event loop that serves their callbacks is never starved.
        self.executor = ThreadPoolExecutor(max_workers=32, thread_name_prefix="lambda")
        self._session: aiohttp.ClientSession | None = None
        self.invocations: Counter[str] = Counter()  # by function, for tests and the log

    def transport(self) -> InProcessTransport:
        """The `inprocess` transport for handlers running in this process."""
        return InProcessTransport(self, asyncio.get_running_loop())

    # --- app ------------------------------------------------------------------
    def app(self) -> web.Application:
        app = web.Application(client_max_size=30 * 1024 * 1024)
        app.router.add_get("/ws", self.websocket)
        app.router.add_get("/ws/{room_id}", self.websocket)
        app.router.add_route("*", "/@connections/{connection_id}", self.management)
        app.router.add_get("/local-issuer/.well-known/jwks.json", self.jwks)
        app.router.add_get("/local/invocations", self.invocation_counts)
        app.router.add_get("/local/connections", self.live_connections)
        app.router.add_post("/api/dev/login", self.login)
        app.router.add_get("/api/dev/users", self.users)
        app.router.add_route("*", "/api/{tail:.*}", self.http_api)
        app.router.add_route("*", "/s3/{tail:.*}", self.s3_proxy)
        app.router.add_get("/config.json", self.web_config)
        app.router.add_get("/{tail:.*}", self.static)
        app.on_shutdown.append(self._close_all)
        return app

    async def invoke(self, handler: Handler, name: str, event: dict[str, Any]) -> Any:
        """Run a handler as Lambda behind API Gateway would: an answer after the
        integration timeout is not waited for (IntegrationTimeout), and an answer over
        Lambda's 6 MB response limit is an error (ResponseTooLarge). A thread cannot be
        killed, so a timed-out handler runs on in its container; see docs/design.md."""
        self.invocations[name] += 1
        loop = asyncio.get_running_loop()
        call = loop.run_in_executor(
            self.executor, handler, event, LambdaContext(function_name=name)
        )
        try:
            result = await asyncio.wait_for(call, self.config.integration_timeout)
        except TimeoutError as exc:
            raise IntegrationTimeout(name) from exc
        if _response_bytes(result) > MAX_LAMBDA_RESPONSE_BYTES:
            raise ResponseTooLarge(f"{name} answered over {MAX_LAMBDA_RESPONSE_BYTES} bytes")
        return result

    # --- WebSocket API --------------------------------------------------------
    async def websocket(self, request: web.Request) -> web.StreamResponse:
        query = dict(request.query)
        if request.match_info.get("room_id"):
            query["room_id"] = request.match_info["room_id"]
        info = WsConnection(
            connection_id=_connection_id(),
            domain_name=request.host,
            source_ip=request.remote or "127.0.0.1",
            user_agent=request.headers.get("User-Agent", ""),
            headers={k: v for k, v in request.headers.items()},
            query=query,
        )
        try:
            policy = await self.invoke(
                self.handlers.authorizer, "connect-authorizer", info.authorizer_event()
            )
        except Exception as exc:
            status = 401 if str(exc) == "Unauthorized" else 500
            return web.Response(
                status=status, text="Unauthorized" if status == 401 else "Internal server error"
            )
        statements = policy.get("policyDocument", {}).get("Statement", [])
        if not statements or any(s.get("Effect") != "Allow" for s in statements):
            return web.Response(status=403, text="Forbidden")
        info.authorizer = {**policy.get("context", {}), "principalId": policy.get("principalId")}
        answer = await self.invoke(self.handlers.connect, "connect", info.connect_event())
        status = int((answer or {}).get("statusCode", 500))
        if status != 200:
            return web.Response(status=status, text=str((answer or {}).get("body") or "refused"))

        # API Gateway negotiates no compression: frame sizes are the bytes on the wire.
        # aiohttp refuses a message of exactly max_msg_size, so one byte more.
        ws = LimitedWebSocketResponse(
            max_msg_size=MAX_MESSAGE_BYTES + 1, autoping=False, autoclose=True, compress=False
        )
        await ws.prepare(request)
        live = LiveSocket(ws=ws, info=info)
        self.sockets[info.connection_id] = live
        writer = asyncio.create_task(live.write_outbox())
        heartbeat = asyncio.create_task(self._heartbeat(live))
        pending: set[asyncio.Task[Any]] = set()
        close_code, reason = 1000, "Connection closed normally by client"
        last_data = opened = time.monotonic()
        try:
            while True:
                # Only data frames count as activity; pings and pongs do not.
                now = time.monotonic()
                idle_left = self.config.idle_timeout - (now - last_data)
                life_left = self.config.max_connection_seconds - (now - opened)
                try:
                    if min(idle_left, life_left) <= 0:
                        raise TimeoutError
                    msg = await ws.receive(timeout=min(idle_left, life_left))
                except TimeoutError:
                    expired = life_left <= idle_left
                    reason = "Going away: " + ("connection duration" if expired else "idle timeout")
                    close_code = 1001
                    await ws.close(
                        code=1001,
                        message=b"connection duration exceeded" if expired else b"idle timeout",
                    )
                    break
                if msg.type in (WSMsgType.TEXT, WSMsgType.BINARY):
                    last_data = time.monotonic()
                    info.last_active_ms = int(time.time() * 1000)
                    body = (
                        msg.data
                        if msg.type == WSMsgType.TEXT
                        else msg.data.decode("utf-8", "replace")
                    )
                    route = select_route(body)
                    if route == "ping":
                        # The cloud's ping route is a MOCK integration: no Lambda runs.
                        live.deliver(PONG)
                        continue
                    task = asyncio.create_task(self._frame(live, route, body))
                    pending.add(task)
                    task.add_done_callback(pending.discard)
                elif msg.type == WSMsgType.PING:
                    await ws.pong(msg.data)
                elif msg.type == WSMsgType.PONG:
                    live.pong_waiter.set()
                elif msg.type == WSMsgType.ERROR:
                    # A frame over 32 KB or a message over 128 KB: aiohttp has closed with
                    # 1009, as API Gateway does.
                    close_code, reason = ws.close_code or 1009, "Message too big"
                    break
                else:  # CLOSE, CLOSING, CLOSED
                    close_code = ws.close_code or 1005
                    break
        finally:
            heartbeat.cancel()
            self.sockets.pop(info.connection_id, None)
            if not ws.closed:
                await ws.close(code=close_code)
            writer.cancel()
            if pending:
                await asyncio.gather(*pending, return_exceptions=True)
            await self.invoke(
                self.handlers.connect, "connect", info.disconnect_event(close_code, reason)
            )
        return ws

    async def _frame(self, live: LiveSocket, route: str, body: str) -> None:
        try:
            await self.invoke(
                self.handlers.message, "message", live.info.message_event(route, body)
            )
        except IntegrationTimeout:
            # What API Gateway sends the client when the integration does not answer.
            live.deliver(
                json.dumps(
                    {
                        "message": "Endpoint request timed out",
                        "connectionId": live.info.connection_id,
                    }
                ).encode()
            )
        except Exception:
            logger.exception("message handler crashed")
            # API Gateway tells the client about an integration failure like this.
            live.deliver(b'{"message": "Internal server error"}')

    async def _heartbeat(self, live: LiveSocket) -> None:
        while not live.ws.closed:
            await asyncio.sleep(self.config.ping_interval)
            live.pong_waiter.clear()
            try:
                await live.ws.ping()
                await asyncio.wait_for(live.pong_waiter.wait(), self.config.pong_timeout)
            except (TimeoutError, ConnectionResetError):
                logger.info("no pong from %s; closing", live.info.connection_id)
                await live.ws.close(code=1001, message=b"no pong")
                return

    async def _close_all(self, app: web.Application) -> None:
        for live in list(self.sockets.values()):
            await live.ws.close(code=1001, message=b"server shutdown")

    # --- Management API -------------------------------------------------------
    async def management(self, request: web.Request) -> web.Response:
        # IAM auth, as API Gateway's endpoint: only SigV4-signed calls, before any lookup.
        try:
            verify_header_signature(
                method=request.method,
                url=f"http://{request.host}{request.raw_path}",
                headers=request.headers,
                body=await request.read(),
                keys=self.config.signing,
                service="execute-api",
            )
        except Refused as refused:
            return web.json_response(
                {"message": refused.message},
                status=403,
                headers={"x-amzn-ErrorType": refused.code},
            )
        connection_id = request.match_info["connection_id"]
        live = self.sockets.get(connection_id)
        if live is None or live.ws.closed:
            return web.json_response(
                {"message": f"Connection {connection_id} is gone"},
                status=410,
                headers={"x-amzn-ErrorType": "GoneException"},
            )
        if request.method == "POST":
            data = await request.read()
            if len(data) > MAX_MESSAGE_BYTES:
                return web.json_response(
                    {"message": "Message too long"},
                    status=413,
                    headers={"x-amzn-ErrorType": "PayloadTooLargeException"},
                )
            live.deliver(data)
            return web.Response(status=200)
        if request.method == "GET":
            return web.json_response(
                {
                    "ConnectedAt": _iso(live.info.connected_at_ms),
                    "LastActiveAt": _iso(live.info.last_active_ms),
                    "Identity": {
                        "SourceIp": live.info.source_ip,
                        "UserAgent": live.info.user_agent,
                    },
                }
            )
        if request.method == "DELETE":
            await live.ws.close(code=1001, message=b"closed by the server")
            return web.Response(status=204)
        return web.Response(status=405)

    # --- HTTP API ---------------------------------------------------------------
    async def http_api(self, request: web.Request) -> web.Response:
        body = await request.read()
        if is_text_type(request.headers.get("content-type", "")) and not _is_utf8(body):
            return _error(400, "VALIDATION", "the request body is not valid UTF-8")
        event = http_event(
            method=request.method,
            path=request.path,
            raw_query=request.query_string,
            query={k: ",".join(request.query.getall(k)) for k in request.query},
            headers={k.lower(): ",".join(request.headers.getall(k)) for k in request.headers},
            body=body,
            source_ip=request.remote or "127.0.0.1",
            domain_name=request.host,
        )
        try:
            result = await self.invoke(self.handlers.http, "history", event)
        except IntegrationTimeout:
            # What an HTTP API answers when its integration does not answer in 29 s.
            return web.json_response({"message": "Service Unavailable"}, status=503)
        except ResponseTooLarge:
            # Lambda refuses the oversized answer; the HTTP API reports a failed integration.
            return web.json_response({"message": "Internal Server Error"}, status=500)
        headers = dict(result.get("headers") or {})
        for name, values in (result.get("multiValueHeaders") or {}).items():
            headers[name] = ",".join(values)
        payload = result.get("body") or ""
        raw = base64.b64decode(payload) if result.get("isBase64Encoded") else payload.encode()
        return web.Response(status=int(result.get("statusCode", 200)), body=raw, headers=headers)

    # --- local-only helpers -----------------------------------------------------
    async def jwks(self, request: web.Request) -> web.Response:
        return web.json_response(self.issuer.jwks())

    async def login(self, request: web.Request) -> web.Response:
        body = await request.read()
        if not _is_utf8(body):
            return _error(400, "VALIDATION", "the request body is not valid UTF-8")
        try:
            data = inbound.loads(body)
        except ValidationFailed as exc:
            return _error(422, "VALIDATION", exc.message)
        except (json.JSONDecodeError, RecursionError):
            return _error(400, "VALIDATION", "the request body is not JSON")
        try:
            user_id = str(data["user_id"]).strip().lower()
            display_name = str(data.get("display_name") or "").strip() or user_id.split("@")[0]
        except (KeyError, TypeError, AttributeError):
            return _error(422, "VALIDATION", 'send {"user_id": e-mail, "display_name": name}')
        loop = asyncio.get_running_loop()
        try:
            user = await loop.run_in_executor(self.executor, self.dev_login, user_id, display_name)
        except ValueError as exc:
            return _error(422, "VALIDATION", str(exc))
        token = self.issuer.mint(user["user_id"], user["display_name"])
        return web.json_response({"token": token, **user})

    async def invocation_counts(self, request: web.Request) -> web.Response:
        """Lambda invocations so far, by function (local diagnostics, for tests)."""
        return web.json_response(dict(self.invocations))

    async def live_connections(self, request: web.Request) -> web.Response:
        """Open sockets: connection id, user and room (local diagnostics, for tests of the
        `@connections` endpoint, whose callers must know an id)."""
        return web.json_response(
            [
                {
                    "connection_id": connection_id,
                    "user_id": (live.info.authorizer or {}).get("user_id"),
                    "room_id": live.info.query.get("room_id"),
                }
                for connection_id, live in self.sockets.items()
            ]
        )

    async def users(self, request: web.Request) -> web.Response:
        return web.json_response({"users": self.config.dev_users})

    async def web_config(self, request: web.Request) -> web.Response:
        base = self.config.public_url
        return web.json_response(
            {"mode": "local", "apiBase": base, "wsUrl": base.replace("http", "ws", 1) + "/ws"}
        )

    async def s3_proxy(self, request: web.Request) -> web.StreamResponse:
        if self._session is None:
            self._session = aiohttp.ClientSession(auto_decompress=False)
        data = await request.read()
        try:
            self._check_s3_request(request, data)
        except Refused as refused:
            return _s3_error(refused)
        target = self.config.s3_upstream + "/" + request.match_info["tail"]
        if request.query_string:
            target += "?" + request.query_string
        skip = {"host", "content-length", "transfer-encoding", "connection"}
        headers = {k: v for k, v in request.headers.items() if k.lower() not in skip}
        async with self._session.request(
            request.method,
            target,
            headers=headers,
            data=data,
            allow_redirects=False,
        ) as upstream:
            body = await upstream.read()
            out = {k: v for k, v in upstream.headers.items() if k.lower() not in skip}
            # Objects are served from the app's origin: never sniffed into HTML, and even
            # an HTML object runs no script and reaches nothing.
            out.update(PROXIED_OBJECT_HEADERS)
            return web.Response(status=upstream.status, body=body, headers=out)

    def _check_s3_request(self, request: web.Request, data: bytes) -> None:
        """Only what a presigned URL or a presigned POST allows, as S3 itself checks."""
        url = f"http://{request.host}{request.raw_path}"
        tail = request.match_info["tail"].strip("/")
        if "X-Amz-Signature" in request.query and request.method in ("GET", "HEAD", "PUT"):
            verify_presigned_url(
                method=request.method, url=url, headers=request.headers, keys=self.config.signing
            )
            return
        content_type = request.headers.get("Content-Type", "")
        form_upload = content_type.startswith("multipart/form-data")
        if (
            request.method == "POST"
            and "/" not in tail
            and not request.query_string
            and form_upload
        ):
            verify_post_policy(
                bucket=tail, body=data, content_type=content_type, keys=self.config.signing
            )
            return
        raise Refused("AccessDenied", "Access Denied")

    async def static(self, request: web.Request) -> web.StreamResponse:
        root = self.config.web_dir
        if root is None or not (root / "index.html").exists():
            return web.Response(text=PLACEHOLDER, content_type="text/html")
        relative = request.match_info["tail"] or "index.html"
        candidate = (root / relative).resolve()
        if not (root.resolve() in candidate.parents and candidate.is_file()):
            candidate = root / "index.html"  # single-page app routes
        # Images only from this origin (attachments come through /s3/) and the
        # client's own data:/blob: charts and thumbnails: a report cannot make the
        # browser fetch an outside image (issue 10, item 5).
        csp = WEB_CSP.format(ws=f"ws://{request.host}")
        return web.FileResponse(candidate, headers={"Content-Security-Policy": csp})

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
        self.executor.shutdown(wait=False, cancel_futures=True)


class InProcessTransport(Transport):
    """`@connections` without HTTP, for handlers running in the gateway's process: a post
    checks the socket (410 if it is unknown, closed, or its $connect has not finished)
    and queues the bytes on the event loop; the caller does not wait for the write,
    just as API Gateway answers a post before the client has read it."""

    blocking = False

    def __init__(self, gateway: Gateway, loop: asyncio.AbstractEventLoop) -> None:
        self.gateway = gateway
        self.loop = loop

    def post(self, connection_id: str, data: bytes) -> PostStatus:
        live = self.gateway.sockets.get(connection_id)
        if live is None or live.gone:
            return PostStatus.GONE
        if len(data) > MAX_MESSAGE_BYTES:
            return PostStatus.FAILED
        self.loop.call_soon_threadsafe(live.deliver, data)
        return PostStatus.DELIVERED

    def post_many(self, connection_ids: list[str], data: bytes) -> list[PostStatus]:
        # One wake-up of the event loop for the whole fan-out, not one per recipient.
        if len(data) > MAX_MESSAGE_BYTES:
            return [PostStatus.FAILED] * len(connection_ids)
        statuses: list[PostStatus] = []
        targets: list[LiveSocket] = []
        for connection_id in connection_ids:
            live = self.gateway.sockets.get(connection_id)
            if live is None or live.gone:
                statuses.append(PostStatus.GONE)
            else:
                statuses.append(PostStatus.DELIVERED)
                targets.append(live)
        if targets:
            self.loop.call_soon_threadsafe(_deliver_all, targets, data)
        return statuses

    def delete(self, connection_id: str) -> PostStatus:
        live = self.gateway.sockets.get(connection_id)
        if live is None or live.gone:
            return PostStatus.GONE
        asyncio.run_coroutine_threadsafe(
            live.ws.close(code=1001, message=b"closed by the server"), self.loop
        )
        return PostStatus.DELIVERED


def _deliver_all(targets: list[LiveSocket], data: bytes) -> None:
    for live in targets:
        live.deliver(data)


def _response_bytes(result: Any) -> int:
    """The size of a handler's answer as Lambda counts it, cheaply: the body is the bulk
    of any answer that could come near the limit (small answers are not serialised)."""
    body = result.get("body") if isinstance(result, dict) else None
    if not isinstance(body, str) or len(body) * 4 < MAX_LAMBDA_RESPONSE_BYTES:
        return 0 if not isinstance(body, str) else len(body)
    return len(json.dumps(result, default=str).encode())


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


PROXIED_OBJECT_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; sandbox",
}


def _s3_error(refused: Refused) -> web.Response:
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{refused.code}</Code><Message>{refused.message}</Message></Error>"
    )
    return web.Response(
        status=403, text=body, content_type="application/xml", headers=PROXIED_OBJECT_HEADERS
    )


def _is_utf8(body: bytes) -> bool:
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _error(status: int, code: str, message: str) -> web.Response:
    return web.json_response({"error": {"code": code, "message": message}}, status=status)


WEB_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; connect-src 'self' {ws}; object-src 'none'; "
    "base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)

PLACEHOLDER = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>War room</title></head>
<body><h1>War room — local stack</h1><p>The web client is not built yet (<code>make web</code>).
The APIs are up: <code>/api/health</code>, <code>/ws</code>.</p></body></html>"""
