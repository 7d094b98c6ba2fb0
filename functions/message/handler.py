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

from warroom import inbound
from warroom.apigw import WebSocketEvent
from warroom.errors import DomainError
from warroom.frames import error_frame
from warroom.observability import capture_lambda_handler
from warroom.realtime import Outcome, realtime
from warroom.settings import runtime_settings

logger = Logger()
metrics = Metrics()


def _payload(body: Any) -> Any:
    """The frame as JSON, or None when it is not JSON (the router words that error). A
    document nested too deep to parse raises VALIDATION instead of RecursionError."""
    if not isinstance(body, str):
        return None
    try:
        return inbound.decode(body)
    except json.JSONDecodeError:
        return None


@logger.inject_lambda_context(correlation_id_path="requestContext.requestId")
@metrics.log_metrics
@capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    runtime_settings()  # fails fast; its parts are what the verifier, broadcaster and store use
    parsed = WebSocketEvent.model_validate(event)
    connection_id = parsed.request_context.connection_id
    route = parsed.request_context.route_key
    live = realtime()
    try:
        payload = _payload(parsed.body)
    except DomainError as exc:
        outcome = Outcome(replies=[error_frame(exc.code, exc.message)])
    else:
        outcome = live.handle(connection_id, route, payload)
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
