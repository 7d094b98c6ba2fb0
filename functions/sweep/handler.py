"""Scheduled sweep of the connection table (EventBridge → `functions/sweep/handler.handler`).

Rows normally go on `$disconnect` or on a 410 from `@connections`; this removes the ones
whose socket ended without either (API Gateway closes every socket within 2 hours)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from warroom.logic.maintenance import sweep

logger = Logger()


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    report = sweep()
    logger.info("swept", extra={"expired_connections": report.expired_connections})
    return {"expired_connections": report.expired_connections}
