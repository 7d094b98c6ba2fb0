"""Whether the sweep can have work, asked of CloudWatch rather than of the database.

On the dev stage Aurora pauses after some minutes without a connection, and a sweep that
connected every minute would keep it awake around the clock (≈ $44 a month), and run for
most of every minute announcing pending joins (≈ $17 of Lambda). Every
row the sweep deletes belongs to a WebSocket that was opened at most
CONNECTION_TTL_SECONDS before it expires, and every pending presence announcement to a
socket opened within that time too; so when API Gateway counted no `$connect` on the
stage for that long (plus a margin for the metric's delay), there is nothing to sweep or
announce and the database is left asleep.

The stack sets SWEEP_GATE_API_ID and SWEEP_GATE_STAGE where the database can pause. Unset
(locally, on prod), or when CloudWatch cannot be asked, the sweep simply runs.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from warroom.dal.connections import CONNECTION_TTL_SECONDS
from warroom.settings import SweepGateSettings, sweep_gate_settings

logger = logging.getLogger(__name__)

SWEEP_INTERVAL_MARGIN = timedelta(minutes=30)


def may_have_work(
    now: datetime | None = None, cloudwatch: Any = None, gate: SweepGateSettings | None = None
) -> bool:
    gate = gate or sweep_gate_settings()
    api_id, stage = gate.api_id, gate.stage
    if not api_id or not stage:
        return True
    end = now or datetime.now(UTC)
    window = timedelta(seconds=CONNECTION_TTL_SECONDS) + SWEEP_INTERVAL_MARGIN
    try:
        if cloudwatch is None:
            import boto3

            cloudwatch = boto3.client("cloudwatch")
        answer = cloudwatch.get_metric_statistics(
            Namespace="AWS/ApiGateway",
            MetricName="ConnectCount",
            Dimensions=[{"Name": "ApiId", "Value": api_id}, {"Name": "Stage", "Value": stage}],
            StartTime=end - window,
            EndTime=end,
            Period=int(window.total_seconds()) // 60 * 60,
            Statistics=["Sum"],
        )
    except Exception:
        logger.warning("could not read ConnectCount; sweeping anyway", exc_info=True)
        return True
    return any(point.get("Sum", 0) > 0 for point in answer.get("Datapoints", []))
