"""Scheduled sweep of the connection table (EventBridge → `functions/sweep/handler.handler`).

Rows normally go on `$disconnect` or on a 410 from `@connections`; this removes the ones
whose socket ended without either (API Gateway closes every socket within 2 hours)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from warroom.logic.maintenance import sweep
from warroom.sweep_gate import may_have_work

logger = Logger()


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    # infra hook: with no socket opened within a row's lifetime there is nothing to sweep,
    # and not connecting lets the dev stage's paused database sleep (warroom/sweep_gate.py).
    if not may_have_work():
        logger.info("no WebSocket connects within the connection lifetime; nothing to sweep")
        return {"expired_connections": 0, "skipped": True}
    report = sweep()
    logger.info("swept", extra={"expired_connections": report.expired_connections})
    return {"expired_connections": report.expired_connections}
