"""Carrying out a paging step after its transaction commits (issue 19): room events to
live clients, pushes onto the push queue, and the escalation timer.

The timer is never a polling loop: in the cloud a delayed message on the escalation
queue (SQS, at most 15 minutes; an early wake-up just sets the next one), in `make dev`
an in-process timer. Either way it ends in `on_timer(room_id)`.
"""

from __future__ import annotations

import json
import logging
import math
import threading
from collections.abc import Callable
from typing import Protocol
from uuid import UUID

from warroom.lazy import Lazy
from warroom.logic import oncall
from warroom.push_queue import push_queue
from warroom.settings import push_settings

logger = logging.getLogger(__name__)

MAX_SQS_DELAY_SECONDS = 900


def dispatch(paged: oncall.Paged | None) -> None:
    """Each part on its own: the incident is committed already, so a part that fails is
    logged (and counted by the log's alarm), never turned into a failed request."""
    if paged is None:
        return
    if paged.events:
        from warroom.delivery import room_delivery

        _attempt("room events", lambda: room_delivery().room_events(paged.events))
    if paged.notices:
        _attempt("pushes", lambda: push_queue().enqueue(paged.notices))
    if paged.check_in_seconds is not None:
        seconds = paged.check_in_seconds
        _attempt("escalation timer", lambda: escalation_timer().schedule(paged.room_id, seconds))


def _attempt(what: str, work: Callable[[], object]) -> None:
    try:
        work()
    except Exception:
        logger.exception("paging: %s failed", what)


def rearm_pending() -> int:
    """`make dev` after a restart: in-process timers died with the process, so every
    untaken page gets its timer again (the cloud's delayed messages outlive a deploy)."""
    from warroom.dal import push as push_dal
    from warroom.db import get_database

    pending = get_database().run(push_dal.pending_pages)
    for room_id, seconds in pending:
        escalation_timer().schedule(room_id, max(0.05, seconds))
    return len(pending)


def on_timer(room_id: UUID) -> None:
    dispatch(oncall.escalate(room_id=room_id))


class EscalationTimer(Protocol):
    def schedule(self, room_id: UUID, seconds: float) -> None: ...


class InProcessTimer:
    def schedule(self, room_id: UUID, seconds: float) -> None:
        def fire() -> None:
            try:
                on_timer(room_id)
            except Exception:
                logger.exception("escalation of room %s failed", room_id)

        timer = threading.Timer(seconds, fire)
        timer.daemon = True
        timer.start()


class SqsDelayTimer:
    def __init__(self, queue_url: str) -> None:
        import boto3

        self._url = queue_url
        self._sqs = boto3.client("sqs")

    def schedule(self, room_id: UUID, seconds: float) -> None:
        self._sqs.send_message(
            QueueUrl=self._url,
            MessageBody=json.dumps({"room_id": str(room_id)}),
            DelaySeconds=min(MAX_SQS_DELAY_SECONDS, max(0, math.ceil(seconds))),
        )


def _timer_from_settings() -> EscalationTimer:
    settings = push_settings()
    if settings.transport == "sqs":
        if not settings.escalation_queue_url:
            from warroom.errors import ConfigurationError

            raise ConfigurationError("PUSH_TRANSPORT=sqs needs ESCALATION_QUEUE_URL")
        return SqsDelayTimer(settings.escalation_queue_url)
    return InProcessTimer()


_timer: Lazy[EscalationTimer] = Lazy(_timer_from_settings)
escalation_timer = _timer.get
set_escalation_timer = _timer.set
