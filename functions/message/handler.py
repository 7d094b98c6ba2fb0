"""Every inbound WebSocket frame: `message`, `edit_message`, `delete_message`,
`add_reaction`, `remove_reaction`, `typing`, `ping`, `sync`, `presence` and `$default`.

API Gateway selects the route from `$request.body.type`; the shared dispatcher serves it.
Refusals and faults become an `error` frame to the caller; the connection stays open.
"""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from warroom.apigw import WebSocketEvent
from warroom.errors import DomainError
from warroom.frames import error_frame
from warroom.observability import capture_lambda_handler
from warroom.realtime import Outcome, realtime
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


def _serve(connection_id: str, route: str, payload: Any) -> Outcome:
    client_msg_id = payload.get("client_msg_id") if isinstance(payload, dict) else None
    try:
        return realtime().handle(connection_id, route, payload)
    except DomainError as exc:
        if exc.http_status >= 500:
            logger.exception("frame failed", extra={"route": route})
        return Outcome(replies=[error_frame(exc.code, exc.message, client_msg_id)])
    except Exception:
        # Never a stack trace to the client; the log has it under the correlation id.
        logger.exception("unexpected error", extra={"route": route})
        return Outcome(
            replies=[
                error_frame(
                    "INTERNAL", "something went wrong on our side; try again", client_msg_id
                )
            ]
        )


@logger.inject_lambda_context(correlation_id_path="requestContext.requestId")
@metrics.log_metrics
@capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    runtime_settings()
    parsed = WebSocketEvent.model_validate(event)
    connection_id = parsed.request_context.connection_id
    route = parsed.request_context.route_key
    outcome = _serve(connection_id, route, _payload(parsed.body))
    live = realtime()
    for reply in outcome.replies:
        live.broadcaster.post(connection_id, reply)
    if outcome.fanout.failed:
        metrics.add_metric(
            name="FanoutFailed", unit=MetricUnit.Count, value=len(outcome.fanout.failed)
        )
    if outcome.fanout.gone:
        metrics.add_metric(
            name="GoneConnections", unit=MetricUnit.Count, value=len(outcome.fanout.gone)
        )
    return {"statusCode": 200}
