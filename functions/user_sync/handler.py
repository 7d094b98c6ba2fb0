"""Cognito trigger (post-confirmation and pre-token-generation): keeps `tr_users` in step
with the user pool.

The user id is the e-mail address in lower case (the pool signs people in by e-mail); the
display name is the `name` attribute, or the address when there is none.

Pre-token generation runs at every sign-in and token refresh. A failed sync must never lock
anyone out in the middle of an incident, so it is logged and counted (`UserSyncFailed`) and
the event goes back unchanged: the next sign-in or refresh tries again.

Cognito fails the sign-in when a trigger does not answer within 5 s, so the sync gets a
deadline: it runs on a worker thread and the handler waits for it only as long as the
invocation's remaining time allows, less a reserve for the reply, and never more than
2.5 s (a cold start eats into Cognito's 5 s without showing in the remaining time). Past that (a database
that does not answer, an Aurora instance still resuming) the event goes back anyway; the
worker finishes or fails on its own within its connect and statement timeouts
(DB_CONNECT_TIMEOUT is 2 s for this function). With too little time to even try, it does
not start.
"""

from __future__ import annotations

import threading
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict, Field

from warroom.logic.users import sync_user
from warroom.observability import capture_lambda_handler
from warroom.settings import database_settings

logger = Logger()
metrics = Metrics()

# Kept back from the remaining time for the reply, the metric flush and Lambda itself.
REPLY_RESERVE_MS = 700
# Cognito's 5 s also covers a cold start, which the remaining time does not show: never
# wait longer than this (one 2 s connect attempt and a one-row upsert fit in it).
MAX_SYNC_MS = 2500
# Below this there is no point starting: not even a connection could be made.
MIN_SYNC_MS = 300
USER_SYNC_FAILED = "UserSyncFailed"

_executor: ThreadPoolExecutor | None = None
_executor_lock = threading.Lock()


def _worker() -> ThreadPoolExecutor:
    """One worker per container: a sync left running by a timed-out invocation holds it,
    so the next invocation's sync queues behind it (and waits no longer than its own
    deadline) instead of racing it on the same connection."""
    global _executor
    with _executor_lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="user-sync")
        return _executor


class UserAttributes(BaseModel):
    model_config = ConfigDict(extra="ignore")

    email: str | None = None
    name: str | None = None


class TriggerRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")

    user_attributes: UserAttributes = Field(alias="userAttributes")


class CognitoTriggerEvent(BaseModel):
    """The part of every Cognito user-pool trigger event this function reads."""

    model_config = ConfigDict(extra="ignore")

    trigger_source: str = Field(alias="triggerSource")
    request: TriggerRequest


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
@capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    trigger = CognitoTriggerEvent.model_validate(event)
    logger.append_keys(trigger_source=trigger.trigger_source)
    attributes = trigger.request.user_attributes
    if not attributes.email:
        logger.warning("user has no e-mail attribute; nothing to sync")
        return event
    budget_ms = min(MAX_SYNC_MS, context.get_remaining_time_in_millis() - REPLY_RESERVE_MS)
    if budget_ms < MIN_SYNC_MS:
        logger.warning("too little time left to sync the user; sign-in goes on")
        _count_failure()
        return event
    future: Future[None] = _worker().submit(
        _sync,
        user_id=attributes.email.lower(),
        display_name=(attributes.name or "").strip() or attributes.email,
    )
    try:
        future.result(timeout=budget_ms / 1000)
    except FutureTimeout:
        logger.warning("user sync did not finish in time; sign-in goes on")
        _count_failure()
    except Exception:
        logger.exception("could not sync the user into tr_users; sign-in goes on")
        _count_failure()
    return event


def _sync(*, user_id: str, display_name: str) -> None:
    database_settings()  # validated once per container; a bad setting is logged by the caller
    sync_user(user_id=user_id, display_name=display_name)


def _count_failure() -> None:
    metrics.add_metric(name=USER_SYNC_FAILED, unit=MetricUnit.Count, value=1)
