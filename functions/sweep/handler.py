"""Scheduled housekeeping (EventBridge, every minute → `functions/sweep/handler.handler`).

1. Sweep the connection table: rows normally go on `$disconnect` or on a 410 from
   `@connections`; this removes the ones whose socket ended without either (API Gateway
   closes every socket within 2 hours).
2. For the rest of the minute, announce joins and departures left pending in quiet rooms
   every half second (EventBridge cannot fire more often than once a minute, and no
   `$connect` may wait for a window to close). Needs `WS_MANAGEMENT_ENDPOINT`,
   `execute-api:ManageConnections` and a timeout a little over a minute.
"""

from __future__ import annotations

import time
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from warroom.delivery import announce_pending_presence
from warroom.logic.maintenance import sweep
from warroom.settings import presence_settings, sweep_gate_settings
from warroom.sweep_gate import may_have_work

logger = Logger()


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    # infra hook: with no socket opened within a row's lifetime there is nothing to sweep
    # or announce, and not connecting lets the dev stage's paused database sleep
    # (warroom/sweep_gate.py).
    if not may_have_work(gate=sweep_gate_settings()):
        logger.info("no WebSocket connects within the connection lifetime; nothing to do")
        return {"expired_connections": 0, "presence_posts": 0, "skipped": True}
    report = sweep()
    budget = presence_settings().flush_seconds
    # Stop well before the function's own timeout.
    budget = min(budget, context.get_remaining_time_in_millis() / 1000 - 5)
    posts = announce_pending_presence(seconds=budget, interval=0.5, sleep=time.sleep)
    logger.info(
        "swept", extra={"expired_connections": report.expired_connections, "presence_posts": posts}
    )
    return {"expired_connections": report.expired_connections, "presence_posts": posts}
