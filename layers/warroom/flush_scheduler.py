"""Trailing joins and departures: a change left pending schedules its own room's flush.

A join or departure inside a room's announcement window is left pending (delivery.py,
docs/design.md "Joins and departures"). Nothing polls for it: the change schedules one
flush of its room for when the window has passed.

- In the cloud (`PRESENCE_FLUSH_QUEUE_URL` set): an SQS message with a per-message
  `DelaySeconds` of the window (rounded up to whole seconds, SQS's unit), consumed by
  `functions/presence_flush`.
- Locally (unset): an in-process timer of the same delay.

Both end in `warroom.delivery.flush_room`, the same code path (this module imports
nothing of delivery's: delivery owns the process-wide scheduler). A flush that finds nothing pending (the
room's next event took the changes with it) announces nothing and leaves the room's
window alone.
"""

from __future__ import annotations

import json
import logging
import math
import threading
from collections.abc import Callable, Iterable
from typing import Any, Protocol
from uuid import UUID

logger = logging.getLogger(__name__)

# SQS's per-message delay is whole seconds, 0 to 900.
SQS_MAX_DELAY_SECONDS = 900


class FlushScheduler(Protocol):
    def schedule(self, room_id: UUID, delay_seconds: float) -> None:
        """Flush `room_id`'s pending joins and departures in `delay_seconds`."""


def flush_message(room_id: UUID) -> str:
    return json.dumps({"room_id": str(room_id)})


def rooms_in_messages(bodies: Iterable[str]) -> list[UUID]:
    """The rooms named by flush messages (each once, in order). A malformed body raises
    ValueError: the queue's redrive policy moves it aside."""
    rooms: dict[UUID, None] = {}
    for body in bodies:
        payload = json.loads(body)
        if not isinstance(payload, dict) or "room_id" not in payload:
            raise ValueError(f"not a flush message: {body[:100]!r}")
        rooms[UUID(str(payload["room_id"]))] = None
    return list(rooms)


class SqsFlushScheduler:
    def __init__(self, queue_url: str, client: Any = None) -> None:
        self._queue_url = queue_url
        self._client = client

    def _sqs(self) -> Any:
        if self._client is None:
            import boto3

            self._client = boto3.client("sqs")
        return self._client

    def schedule(self, room_id: UUID, delay_seconds: float) -> None:
        """Never raises: a $connect must not fail because SQS did. The change stays
        pending; the room's next event or the minute's sweep announces it."""
        delay = min(SQS_MAX_DELAY_SECONDS, max(0, math.ceil(delay_seconds)))
        try:
            self._sqs().send_message(
                QueueUrl=self._queue_url, MessageBody=flush_message(room_id), DelaySeconds=delay
            )
        except Exception:
            logger.warning(
                "could not schedule the presence flush of room %s", room_id, exc_info=True
            )


class InProcessFlushScheduler:
    """The local stack's delay queue: a daemon timer per scheduled flush."""

    def __init__(self, flush: Callable[[UUID], object]) -> None:
        self._flush = flush

    def schedule(self, room_id: UUID, delay_seconds: float) -> None:
        timer = threading.Timer(max(0.0, delay_seconds), self._run, args=(room_id,))
        timer.daemon = True
        timer.start()

    def _run(self, room_id: UUID) -> None:
        try:
            self._flush(room_id)
        except Exception:  # a timer thread has no caller to tell; the next event retries
            logger.exception("presence flush of room %s failed", room_id)


def scheduler_from_settings(flush: Callable[[UUID], object]) -> FlushScheduler:
    """SQS where PRESENCE_FLUSH_QUEUE_URL names a queue, else in-process timers that call
    `flush` (delivery.flush_room, which the queue's function calls too)."""
    from warroom.settings import presence_settings

    queue_url = presence_settings().flush_queue_url
    return SqsFlushScheduler(queue_url) if queue_url else InProcessFlushScheduler(flush)
