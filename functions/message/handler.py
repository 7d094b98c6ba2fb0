"""Every inbound WebSocket frame: `message`, `edit_message`, `delete_message`,
`add_reaction`, `remove_reaction`, `typing`, `ping`, `sync`, `presence` and `$default`.

API Gateway selects the route from `$request.body.type`; the shared router serves it.
Refusals and faults become an `error` frame to the caller; the connection stays open,
except for a connection that is not registered, which is closed so the client
reconnects at once.
"""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from warroom.apigw import WebSocketEvent
from warroom.observability import capture_lambda_handler
from warroom.realtime import realtime
from warroom.settings import runtime_settings

logger = Logger()
metrics = Metrics()


def _payload(body: Any) -> Any:
    if not isinstance(body, str):
        return None
    try:
        return json.loads(body)
    except json.JSONDecodeError:
        return None


@logger.inject_lambda_context(correlation_id_path="requestContext.requestId")
@metrics.log_metrics
@capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    runtime_settings()
    parsed = WebSocketEvent.model_validate(event)
    connection_id = parsed.request_context.connection_id
    route = parsed.request_context.route_key
    live = realtime()
    outcome = live.handle(connection_id, route, _payload(parsed.body))
    live.respond(connection_id, outcome)
    if outcome.fanout.failed:
        metrics.add_metric(
            name="FanoutFailed", unit=MetricUnit.Count, value=len(outcome.fanout.failed)
        )
    if outcome.fanout.gone:
        metrics.add_metric(
            name="GoneConnections", unit=MetricUnit.Count, value=len(outcome.fanout.gone)
        )
    return {"statusCode": 200}
