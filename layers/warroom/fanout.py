"""Fan-out: frames posted to WebSocket connections (API Gateway's `@connections`).

The Broadcaster holds the policy; a Transport only moves bytes (the shape of
encode/broadcaster's `_base.py`: the backend behind a small interface).

- Bounded parallelism: at most `max_workers` posts in flight per process for transports
  that wait on the network.
- A gone connection (410) is forgotten through the store's `forget_gone` (which keeps a
  row within the registration grace: the post raced `$connect`) and never delays the
  others.
- Throttling (429) is retried with exponential backoff and jitter.
- Nothing over 128 KB is ever posted: a message frame that would be larger is sent
  without its content and marked `content_truncated` (the client fetches it by
  history); any other oversized frame is dropped and counted as failed.

Transports, chosen by `WS_TRANSPORT` (read once, when the broadcaster is built):
- `http` (the default): the Management API's POST signed with botocore's SigV4 signer
  and sent on a urllib3 keep-alive pool: under half of boto3's CPU per post (`make
  bench` measures both); Lambda bills that CPU once per recipient.
- `boto3`: `post_to_connection` through a boto3 client.
- any name a long-running process registered with `register_transport` (the local
  stack's gateway registers `inprocess`, which hands frames to its sockets directly).
"""

from __future__ import annotations

import enum
import logging
import random
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

from warroom.bounds import MAX_MESSAGE_BYTES, encode, slim
from warroom.errors import ConfigurationError
from warroom.lazy import Lazy
from warroom.settings import fanout_settings

if TYPE_CHECKING:
    import urllib3.connectionpool
    from botocore.auth import SigV4Auth

    from warroom.connections import ConnectionStore

logger = logging.getLogger(__name__)

THROTTLE_CODES = {"TooManyRequestsException", "LimitExceededException", "ThrottlingException"}
GONE_CODES = {"GoneException"}
DEFAULT_TRANSPORT = "http"


class PostStatus(enum.Enum):
    DELIVERED = "delivered"
    GONE = "gone"  # 410: the connection no longer exists (or its $connect has not finished)
    THROTTLED = "throttled"  # 429: try again later
    FAILED = "failed"  # anything else; not retried


def status_of(http_status: int | None, error_code: str | None = None) -> PostStatus:
    """How an answer of the Management API reads, by status code or error type."""
    if error_code in GONE_CODES or http_status == 410:
        return PostStatus.GONE
    if error_code in THROTTLE_CODES or http_status == 429:
        return PostStatus.THROTTLED
    if http_status is not None and 200 <= http_status < 300 and not error_code:
        return PostStatus.DELIVERED
    return PostStatus.FAILED


class Transport(ABC):
    """Moves one frame's bytes to one connection. No retries, no policy: the Broadcaster
    decides what a status means."""

    #: True when a post waits on the network: the Broadcaster then spreads a fan-out
    #: over its thread pool. A transport that only hands bytes over posts inline.
    blocking: bool = True

    @abstractmethod
    def post(self, connection_id: str, data: bytes) -> PostStatus: ...

    def post_many(self, connection_ids: list[str], data: bytes) -> list[PostStatus]:
        """One frame to several connections, statuses in order. A non-blocking transport
        may hand them over in one step; the default posts one by one."""
        return [self.post(connection_id, data) for connection_id in connection_ids]

    @abstractmethod
    def delete(self, connection_id: str) -> PostStatus:
        """Close the client's socket (DELETE @connections/{id})."""


def connection_path(connection_id: str) -> str:
    # As botocore writes a URI label: `=` and `/` of a connection id are escaped.
    return "/@connections/" + quote(connection_id, safe="-_.~")


class Boto3Transport(Transport):
    """`post_to_connection` through a boto3 client (built on first use)."""

    def __init__(self, endpoint_url: str, *, client: Any | None = None, pool: int = 64) -> None:
        self.endpoint_url = endpoint_url
        self._client = client
        self._pool = pool
        self._lock = threading.Lock()

    @property
    def client(self) -> Any:
        if self._client is None:
            with self._lock:
                if self._client is None:
                    import boto3
                    from botocore.config import Config

                    # The Broadcaster retries throttling; botocore must not multiply it.
                    self._client = boto3.client(
                        "apigatewaymanagementapi",
                        endpoint_url=self.endpoint_url,
                        config=Config(
                            retries={"total_max_attempts": 1},
                            connect_timeout=2,
                            read_timeout=10,
                            max_pool_connections=self._pool,
                        ),
                    )
        return self._client

    def _call(self, operation: str, **kwargs: Any) -> PostStatus:
        from botocore.exceptions import BotoCoreError, ClientError

        client = self.client
        try:
            getattr(client, operation)(**kwargs)
            return PostStatus.DELIVERED
        except client.exceptions.GoneException:
            # Before ClientError: GoneException is one.
            return PostStatus.GONE
        except ClientError as exc:
            error = exc.response.get("Error", {})
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            result = status_of(status, error.get("Code"))
            if result is PostStatus.FAILED:
                logger.warning("%s failed: %s", operation, error.get("Code") or status)
            return result
        except BotoCoreError as exc:
            logger.warning("%s failed: %s", operation, type(exc).__name__)
            return PostStatus.FAILED

    def post(self, connection_id: str, data: bytes) -> PostStatus:
        return self._call("post_to_connection", ConnectionId=connection_id, Data=data)

    def delete(self, connection_id: str) -> PostStatus:
        return self._call("delete_connection", ConnectionId=connection_id)


class SigV4HttpTransport(Transport):
    """The Management API's POST/DELETE, signed with botocore's SigV4 signer, on a urllib3
    pool of keep-alive connections. What boto3 adds on top (parameter validation, the
    event hooks, the response parser) is most of its cost per post and none of it is
    needed for a body of bytes and a status code."""

    def __init__(
        self,
        endpoint_url: str,
        *,
        region: str | None = None,
        credentials: Any | None = None,
        pool: int = 64,
        connect_timeout: float = 2.0,
        read_timeout: float = 10.0,
    ) -> None:
        self.endpoint_url = endpoint_url.rstrip("/")
        parts = urlsplit(self.endpoint_url)
        self._origin = f"{parts.scheme}://{parts.netloc}"
        self._path = parts.path  # the stage, e.g. /prod
        self.region = region or _region_of(self.endpoint_url)
        self._credentials = credentials
        self._signers: dict[Any, SigV4Auth] = {}
        self._pool_size = pool
        self._timeouts = (connect_timeout, read_timeout)
        self._http: urllib3.connectionpool.HTTPConnectionPool | None = None
        self._lock = threading.Lock()

    def _pool(self) -> urllib3.connectionpool.HTTPConnectionPool:
        if self._http is None:
            with self._lock:
                if self._http is None:
                    import urllib3

                    # One host, so one connection pool: urllib3's PoolManager would parse
                    # the URL and look the pool up again on every post.
                    self._http = urllib3.connection_from_url(
                        self.endpoint_url,
                        maxsize=self._pool_size,
                        retries=False,
                        timeout=urllib3.Timeout(connect=self._timeouts[0], read=self._timeouts[1]),
                    )
        return self._http

    def _signer(self) -> SigV4Auth:
        credentials = self._credentials
        if credentials is None:
            import botocore.session

            # The standard chain (environment in Lambda); refreshable ones renew themselves.
            credentials = self._credentials = botocore.session.get_session().get_credentials()
            if credentials is None:
                raise ConfigurationError("no AWS credentials for the Management API")
        frozen = credentials.get_frozen_credentials()
        signer = self._signers.get(frozen)
        if signer is None:
            from botocore.auth import SigV4Auth

            signer = SigV4Auth(frozen, "execute-api", self.region)
            self._signers = {frozen: signer}  # only the current credentials
        return signer

    def _send(self, method: str, connection_id: str, data: bytes | None) -> PostStatus:
        import urllib3
        from botocore.awsrequest import AWSRequest

        path = self._path + connection_path(connection_id)
        request = AWSRequest(method=method, url=self._origin + path, data=data or b"")
        self._signer().add_auth(request)
        try:
            response = self._pool().urlopen(
                method,
                path,
                body=data,
                headers=dict(request.headers.items()),
                retries=False,
                redirect=False,
                assert_same_host=False,
                preload_content=True,
            )
        except urllib3.exceptions.HTTPError as exc:
            logger.warning("%s %s failed: %s", method, connection_id, type(exc).__name__)
            return PostStatus.FAILED
        error_code = response.headers.get("x-amzn-ErrorType", "").split(":", 1)[0] or None
        result = status_of(response.status, error_code)
        if result is PostStatus.FAILED:
            logger.warning("%s %s failed: %s", method, connection_id, error_code or response.status)
        return result

    def post(self, connection_id: str, data: bytes) -> PostStatus:
        return self._send("POST", connection_id, data)

    def delete(self, connection_id: str) -> PostStatus:
        return self._send("DELETE", connection_id, None)


def _region_of(endpoint_url: str) -> str:
    """`https://{api}.execute-api.{region}.amazonaws.com/{stage}` → region; else the
    environment's region (a local endpoint)."""
    host = urlsplit(endpoint_url).hostname or ""
    parts = host.split(".")
    if "execute-api" in parts and parts.index("execute-api") + 1 < len(parts):
        return parts[parts.index("execute-api") + 1]
    return fanout_settings().region


def encode_frame(frame: dict[str, Any]) -> bytes | None:
    """JSON bytes of a frame, within the 128 KB limit, or None if it cannot fit. A frame
    carrying a message that is too big goes with the message slimmed (`bounds.slim`)."""
    data = encode(frame)
    if len(data) <= MAX_MESSAGE_BYTES:
        return data
    message = frame.get("message")
    if isinstance(message, dict):
        data = encode({**frame, "message": slim(message)})
        if len(data) <= MAX_MESSAGE_BYTES:
            return data
    return None


@dataclass
class FanoutReport:
    delivered: int = 0
    gone: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)

    def merge(self, other: FanoutReport) -> FanoutReport:
        self.delivered += other.delivered
        self.gone += other.gone
        self.failed += other.failed
        return self


class Broadcaster:
    def __init__(
        self,
        endpoint_url: str,
        store: ConnectionStore,
        *,
        client: Any | None = None,
        transport: Transport | None = None,
        max_workers: int = 16,
        max_attempts: int = 4,
        base_delay: float = 0.05,
    ) -> None:
        self.endpoint_url = endpoint_url
        self.store = store
        self.transport: Transport = transport or Boto3Transport(
            endpoint_url, client=client, pool=max_workers * 4
        )
        self.max_workers = max_workers
        self.max_attempts = max_attempts
        self.base_delay = base_delay
        self._pool: ThreadPoolExecutor | None = None
        self._pool_lock = threading.Lock()

    def post(self, connection_id: str, frame: dict[str, Any]) -> FanoutReport:
        data = encode_frame(frame)
        if data is None:
            logger.error("frame of type %s over 128 KB not posted", frame.get("type"))
            return FanoutReport(failed=[connection_id])
        return self._post_bytes(connection_id, data)

    def _post_bytes(self, connection_id: str, data: bytes) -> FanoutReport:
        for attempt in range(1, self.max_attempts + 1):
            status = self.transport.post(connection_id, data)
            if status is PostStatus.DELIVERED:
                return FanoutReport(delivered=1)
            if status is PostStatus.GONE:
                self._forget(connection_id)
                return FanoutReport(gone=[connection_id])
            if status is PostStatus.THROTTLED and attempt < self.max_attempts:
                delay = self.base_delay * 2 ** (attempt - 1)
                time.sleep(delay + random.uniform(0, delay))
                continue
            break
        return FanoutReport(failed=[connection_id])

    def close(self, connection_id: str) -> None:
        """Close a client's socket (DELETE @connections/{id}); already gone is fine."""
        status = self.transport.delete(connection_id)
        if status is not PostStatus.DELIVERED:
            logger.info("closing %s: %s", connection_id, status.value)

    def _forget(self, connection_id: str) -> None:
        # A row younger than the registration grace survives a 410: the post raced $connect.
        try:
            self.store.forget_gone(connection_id)
        except Exception:  # cleaning up is best effort; the sweep removes the row anyway
            logger.warning("could not delete gone connection %s", connection_id)

    def to_connections(self, connection_ids: Iterable[str], frame: dict[str, Any]) -> FanoutReport:
        ids = list(dict.fromkeys(connection_ids))
        report = FanoutReport()
        if not ids:
            return report
        data = encode_frame(frame)
        if data is None:
            logger.error("frame of type %s over 128 KB not posted", frame.get("type"))
            return FanoutReport(failed=ids)
        if not self.transport.blocking:
            statuses = self.transport.post_many(ids, data)
            for connection_id, status in zip(ids, statuses, strict=True):
                if status is PostStatus.DELIVERED:
                    report.delivered += 1
                elif status is PostStatus.GONE:
                    self._forget(connection_id)
                    report.gone.append(connection_id)
                else:  # throttled or failed: the usual path, retries included
                    report.merge(self._post_bytes(connection_id, data))
            return report
        if len(ids) == 1:
            return self._post_bytes(ids[0], data)
        for result in self._executor().map(lambda cid: self._post_bytes(cid, data), ids):
            report.merge(result)
        return report

    def _executor(self) -> ThreadPoolExecutor:
        # One bounded pool per process, not one per broadcast: in Lambda that is the
        # parallelism of the one invocation; in a long-running process it caps the posts
        # in flight across all concurrent requests.
        if self._pool is None:
            with self._pool_lock:
                if self._pool is None:
                    self._pool = ThreadPoolExecutor(self.max_workers, thread_name_prefix="fanout")
        return self._pool


TransportFactory = Callable[[str], Transport]
_TRANSPORTS: dict[str, TransportFactory] = {
    "http": lambda endpoint: SigV4HttpTransport(endpoint),
    "boto3": lambda endpoint: Boto3Transport(endpoint),
}


def register_transport(name: str, factory: TransportFactory) -> None:
    """Make a transport choosable by `WS_TRANSPORT` (the local stack's `inprocess`)."""
    _TRANSPORTS[name] = factory


def make_transport(name: str, endpoint_url: str) -> Transport:
    try:
        factory = _TRANSPORTS[name]
    except KeyError:
        choices = ", ".join(sorted(_TRANSPORTS))
        raise ConfigurationError(f"WS_TRANSPORT={name!r} is not one of: {choices}") from None
    return factory(endpoint_url)


def _broadcaster_from_settings() -> Broadcaster:
    from warroom.connections import connection_store

    settings = fanout_settings()
    endpoint = settings.management_endpoint
    if not endpoint:
        raise ConfigurationError("WS_MANAGEMENT_ENDPOINT is not set")
    name = settings.transport or DEFAULT_TRANSPORT
    return Broadcaster(endpoint, connection_store(), transport=make_transport(name, endpoint))


_broadcaster = Lazy(_broadcaster_from_settings)
broadcaster = _broadcaster.get
set_broadcaster = _broadcaster.set
