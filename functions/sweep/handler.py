"""Scheduled housekeeping (EventBridge, every minute → `functions/sweep/handler.handler`).

Sweep the connection table: rows normally go on `$disconnect` or on a 410 from
`@connections`; this removes the ones whose socket ended without either (API Gateway
closes every socket within 2 hours). Then, once, announce any joins and departures whose
window has passed: a backstop for a delayed flush that never came (its SQS message was
not sent). Trailing joins themselves are announced by `functions/presence_flush`, which
each pending change schedules through an SQS delay queue; nothing here polls, so a run
takes a second or two and the timeout stays well under a minute.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from warroom.db import get_database
from warroom.delivery import room_delivery
from warroom.logic.maintenance import sweep
from warroom.settings import sweep_gate_settings
from warroom.sweep_gate import may_have_work

logger = Logger()


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    # infra hook: with no socket opened within a row's lifetime there is nothing to sweep
    # or announce, and not connecting lets the dev stage's paused database sleep
    # (warroom/sweep_gate.py). A connection cached by an earlier run of this warm
    # container would keep it awake just the same: it is closed here.
    if not may_have_work(gate=sweep_gate_settings()):
        get_database().close()  # reopened lazily by the next run that has work
        logger.info("no WebSocket connects within the connection lifetime; nothing to do")
        return {"expired_connections": 0, "presence_posts": 0, "skipped": True}
    report = sweep()
    posts = room_delivery().flush_due_presence().delivered
    logger.info(
        "swept", extra={"expired_connections": report.expired_connections, "presence_posts": posts}
    )
    return {"expired_connections": report.expired_connections, "presence_posts": posts}
