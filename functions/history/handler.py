"""The HTTP API's one function: it serves ALL of `/api/*` (rooms, members, messages,
files, reports, search, the caller's record, health and the OpenAPI document), not only
the history; the name is the design's. Routes live in the shared package, one Powertools
`Router` per resource in `warroom.routes`, joined by `warroom.httpapi.build_app`; this is
the Lambda entry."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from warroom.httpapi import build_app
from warroom.observability import capture_lambda_handler
from warroom.settings import runtime_settings

logger = Logger()
metrics = Metrics()
app = build_app()


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@metrics.log_metrics
@capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    runtime_settings()  # fails fast; its parts are what the verifier, broadcaster and store use
    return app.resolve(event, context)
