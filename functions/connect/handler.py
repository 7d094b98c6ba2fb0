"""$connect and $disconnect of the WebSocket API.

$connect: who (the authorizer's context, or the `token` query parameter verified here
when no authorizer ran) and which room (`room_id`; none means a user connection for
notifications). 401 without a valid token, 403 for a non-member; otherwise the
connection is stored. $disconnect removes it and announces `user_left` when the user's
last connection to the room goes.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import ValidationError

from warroom.answer_metrics import count_error_answer
from warroom.apigw import WebSocketEvent
from warroom.auth import Identity, token_verifier
from warroom.errors import DomainError
from warroom.frames import now_z
from warroom.observability import capture_lambda_handler
from warroom.realtime import Outcome, realtime
from warroom.settings import runtime_settings

logger = Logger()
metrics = Metrics()


def _identity(event: WebSocketEvent) -> Identity:
    context = event.request_context.authorizer or {}
    if context.get("user_id"):
        # Set by our own authorizer at the edge, never by the client.
        return Identity(
            user_id=str(context["user_id"]),
            display_name=str(context.get("display_name") or context["user_id"]),
        )
    return token_verifier().verify((event.query_string_parameters or {}).get("token"))


def _connect(event: WebSocketEvent) -> dict[str, Any]:
    params = event.query_string_parameters or {}
    outcome = realtime().connect(
        identity=_identity(event),
        connection_id=event.request_context.connection_id,
        room_id=params.get("room_id") or None,
        connected_at=now_z(),
    )
    _count_fanout(outcome)
    return {"statusCode": 200}


def _disconnect(event: WebSocketEvent) -> dict[str, Any]:
    _count_fanout(realtime().disconnect(event.request_context.connection_id))
    return {"statusCode": 200}


def _count_fanout(outcome: Outcome) -> None:
    if outcome.fanout.failed:
        metrics.add_metric(
            name="FanoutFailed", unit=MetricUnit.Count, value=len(outcome.fanout.failed)
        )


@logger.inject_lambda_context(correlation_id_path="requestContext.requestId")
@metrics.log_metrics
@capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    runtime_settings()  # fails fast; its parts are what the verifier, broadcaster and store use
    route = event.get("requestContext", {}).get("routeKey")
    try:
        if route == "$connect":
            return _connect(WebSocketEvent.model_validate(event))
        if route == "$disconnect":
            return _disconnect(WebSocketEvent.model_validate(event))
        logger.error("connect handler got route %s", route)
        return {"statusCode": 400}
    except ValidationError:
        logger.exception("malformed %s event", route)
        return {"statusCode": 400}
    except DomainError as exc:
        logger.info("connection refused", extra={"code": exc.code, "reason": exc.message})
        count_error_answer(exc.code)  # infra hook: UNAVAILABLE raises the outage alarm
        return {"statusCode": exc.http_status, "body": exc.message}
