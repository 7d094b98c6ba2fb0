"""Routes for developers and operators, open without a token: the health check and the
OpenAPI document. (The local sign-in, `/api/dev/login` and `/api/dev/users`, is the
local gateway's own and never reaches a function: `local/gateway.py`.)"""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router

from warroom.db import get_database

router = Router()

PUBLIC_PATHS = {"/api/health", "/api/openapi.json"}


@router.get("/api/health")
def health() -> dict[str, str]:
    get_database().run(lambda conn: conn.execute("SELECT 1").fetchone())
    return {"status": "ok", "database": "ok"}


@router.get("/api/openapi.json")
def openapi() -> Response[str]:
    # Every resolver includes the same routers, so the last one to include this router
    # describes the same API as the one serving the request.
    resolver = router.api_resolver
    assert resolver is not None, "the router is served only once a resolver includes it"
    return Response(
        status_code=200,
        content_type="application/json",
        body=resolver.get_openapi_json_schema(  # type: ignore[attr-defined]
            title="War room HTTP API", version="1.0.0"
        ),
    )
