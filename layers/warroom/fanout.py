"""Fan-out through the API Gateway Management API (`post_to_connection`).

- Bounded parallelism: at most `max_workers` posts in flight per broadcast.
- A gone connection (410 `GoneException`) is deleted from the table (unless it is within
  the registration grace: the post raced `$connect`) and never delays the others. `GoneException` is a subclass of `ClientError`, so it is caught first.
- Throttling (429) is retried with exponential backoff and jitter.
- Nothing over 128 KB is ever posted: a message frame that would be larger is sent
  without its content and marked `content_truncated` (the client fetches it by
  history); any other oversized frame is dropped and counted as failed.
"""

from __future__ import annotations

import json
import logging
import os
import random
import threading
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from warroom.connections import ConnectionStore, connection_store
from warroom.errors import ConfigurationError
from warroom.lazy import Lazy

logger = logging.getLogger(__name__)

MAX_FRAME_BYTES = 128 * 1024
THROTTLE_CODES = {"TooManyRequestsException", "LimitExceededException", "ThrottlingException"}


def encode_frame(frame: dict[str, Any]) -> bytes | None:
    """JSON bytes of a frame, within the 128 KB limit, or None if it cannot fit."""
    data = json.dumps(frame, ensure_ascii=False, separators=(",", ":"), default=str).encode()
    if len(data) <= MAX_FRAME_BYTES:
        return data
    message = frame.get("message")
    if isinstance(message, dict):
        slim = {**frame, "message": {**message, "content": None, "content_truncated": True}}
        data = json.dumps(slim, ensure_ascii=False, separators=(",", ":"), default=str).encode()
        if len(data) <= MAX_FRAME_BYTES:
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
        max_workers: int = 16,
        max_attempts: int = 4,
        base_delay: float = 0.05,
    ) -> None:
        self.endpoint_url = endpoint_url
        self.store = store
        self._client = client
        self.max_workers = max_workers
        self.max_attempts = max_attempts
        self.base_delay = base_delay
        self._pool: ThreadPoolExecutor | None = None
        self._pool_lock = threading.Lock()

    @property
    def client(self) -> Any:
        if self._client is None:
            # Our own retry loop handles throttling; botocore must not multiply it.
            self._client = boto3.client(
                "apigatewaymanagementapi",
                endpoint_url=self.endpoint_url,
                config=Config(
                    retries={"total_max_attempts": 1},
                    connect_timeout=2,
                    read_timeout=10,
                    # one pooled connection per post in flight, so bursts reuse sockets
                    max_pool_connections=self.max_workers * 4,
                ),
            )
        return self._client

    def post(self, connection_id: str, frame: dict[str, Any]) -> FanoutReport:
        data = encode_frame(frame)
        if data is None:
            logger.error("frame of type %s over 128 KB not posted", frame.get("type"))
            return FanoutReport(failed=[connection_id])
        return self._post_bytes(connection_id, data)

    def _post_bytes(self, connection_id: str, data: bytes) -> FanoutReport:
        gone_exception = self.client.exceptions.GoneException
        for attempt in range(1, self.max_attempts + 1):
            try:
                self.client.post_to_connection(ConnectionId=connection_id, Data=data)
                return FanoutReport(delivered=1)
            except gone_exception:
                # Must come before ClientError: GoneException is one.
                self._forget(connection_id)
                return FanoutReport(gone=[connection_id])
            except ClientError as exc:
                error = exc.response.get("Error", {})
                status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
                if error.get("Code") == "GoneException" or status == 410:
                    self._forget(connection_id)
                    return FanoutReport(gone=[connection_id])
                throttled = error.get("Code") in THROTTLE_CODES or status == 429
                if throttled and attempt < self.max_attempts:
                    delay = self.base_delay * 2 ** (attempt - 1)
                    time.sleep(delay + random.uniform(0, delay))
                    continue
                logger.warning("post to %s failed: %s", connection_id, error.get("Code") or status)
                return FanoutReport(failed=[connection_id])
            except BotoCoreError as exc:
                logger.warning("post to %s failed: %s", connection_id, type(exc).__name__)
                return FanoutReport(failed=[connection_id])
        return FanoutReport(failed=[connection_id])

    def close(self, connection_id: str) -> None:
        """Close a client's socket (DELETE @connections/{id}); already gone is fine."""
        try:
            self.client.delete_connection(ConnectionId=connection_id)
        except (ClientError, BotoCoreError) as exc:
            logger.info("closing %s: %s", connection_id, type(exc).__name__)

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

    def to_room(
        self, room_id: str, frame: dict[str, Any], *, exclude: str | None = None
    ) -> FanoutReport:
        records = self.store.in_room(room_id)
        return self.to_connections(
            (r.connection_id for r in records if r.connection_id != exclude), frame
        )


def _broadcaster_from_settings() -> Broadcaster:
    endpoint = os.environ.get("WS_MANAGEMENT_ENDPOINT")
    if not endpoint:
        raise ConfigurationError("WS_MANAGEMENT_ENDPOINT is not set")
    return Broadcaster(endpoint, connection_store())


_broadcaster = Lazy(_broadcaster_from_settings)
broadcaster = _broadcaster.get
set_broadcaster = _broadcaster.set
