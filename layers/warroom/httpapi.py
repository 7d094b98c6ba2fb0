"""The HTTP API on Powertools' APIGatewayHttpResolver, with validation on and the OpenAPI
document served: `build_app` settles who is asking (the bearer token, verified here even
behind the API's JWT authorizer), turns every error into `{"error": {"code", "message"}}`
in one place, and includes the routes, one `Router` per resource in `warroom.routes`.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Callable, Mapping
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError as RouteNotFound
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestValidationError,
    ResponseValidationError,
)

from warroom import inbound
from warroom.answer_metrics import count_error_answer
from warroom.auth import bearer_token, token_verifier
from warroom.errors import DomainError, RateLimited
from warroom.logic import users
from warroom.routes import (
    dev,
    files,
    incident,
    me,
    members,
    messages,
    on_call,
    push,
    reports,
    rooms,
    search,
)
from warroom.routes import ingest as ingest_routes
from warroom.routes.common import request_scope, set_caller
from warroom.routes.dev import PUBLIC_PATHS

logger = logging.getLogger(__name__)


def _json_error(
    status: int,
    code: str,
    message: str,
    headers: dict[str, str] | None = None,
    **fields: Any,
) -> Response[str]:
    count_error_answer(code)  # infra hook: INTERNAL/UNAVAILABLE raise the outage alarm
    return Response(
        status_code=status,
        content_type="application/json",
        body=json.dumps({"error": {"code": code, "message": message, **fields}}),
        headers=headers,
    )


def _parameter_at_fault(app: APIGatewayHttpResolver, path: str) -> str:
    """The name of the route parameter (`member_id`) holding the bad segment of `path`,
    found by lining the path up with the route templates; `path` when none lines up."""
    segments = path.strip("/").split("/")
    for route in getattr(app, "_dynamic_routes", []):
        template = str(getattr(route, "path", "")).strip("/").split("/")
        if route.method != app.current_event.http_method or len(template) != len(segments):
            continue
        fault = None
        for pattern, segment in zip(template, segments, strict=True):
            if pattern.startswith("<") and pattern.endswith(">"):
                if inbound.text_problem(segment) is not None:
                    fault = pattern[1:-1]
            elif pattern != segment:
                break
        else:
            if fault is not None:
                return fault
    return "path"


def _authenticate_before_validation(
    app: APIGatewayHttpResolver, authenticate: Callable[[APIGatewayHttpResolver], None]
) -> None:
    """Who is asking is settled before anything is said about the request's fields: a
    caller without a valid token gets 401, never a list of missing fields. Powertools
    runs its request validation ahead of every user middleware, so authentication wraps
    that validation step itself (attribute of the pinned Powertools version; a test
    sends an invalid body without a token and expects 401)."""
    validation = getattr(app, "_request_validation_middleware", None)

    def authenticate_then_validate(
        app: APIGatewayHttpResolver, next_middleware: Callable[..., Any]
    ) -> Any:
        authenticate(app)
        if validation is None:
            return next_middleware(app)
        return validation(app, next_middleware)

    if validation is None:
        app.use(middlewares=[authenticate_then_validate])
    else:
        app._request_validation_middleware = authenticate_then_validate  # type: ignore[assignment]


class InvocationScopedResolver(APIGatewayHttpResolver):
    """Powertools keeps the current event and Lambda context on the `BaseRouter` class,
    shared by every resolver in the process. Lambda runs one invocation per process, so
    that is harmless there; the local stack runs several warm containers in one process,
    and concurrent requests then read each other's event (a POST validated against
    another request's empty body). Each resolver here keeps its own, on the instance,
    which is what every read (`app.current_event`) finds first."""

    def resolve(self, event: Mapping[str, Any], context: Any) -> dict[str, Any]:
        self.lambda_context = context
        with request_scope():
            return super().resolve(event, context)

    def _to_proxy_event(self, event: dict[str, Any]) -> Any:
        proxy = super()._to_proxy_event(event)
        self.current_event = proxy  # type: ignore[assignment]
        return proxy


def build_app() -> APIGatewayHttpResolver:
    # Bodies go through the one safe loader: NUL, lone surrogates and deep nesting are
    # VALIDATION naming the field, never a 500.
    app = InvocationScopedResolver(enable_validation=True, json_body_deserializer=inbound.loads)
    _authenticate_before_validation(app, _authenticate)
    _answer_errors(app)
    # One line per resource (warroom/routes/), so adding one is a one-line change.
    app.include_router(dev.router)
    app.include_router(me.router)
    app.include_router(rooms.router)
    app.include_router(members.router)
    app.include_router(messages.router)
    app.include_router(search.router)
    app.include_router(files.router)
    app.include_router(reports.router)
    app.include_router(incident.router)
    app.include_router(push.router)
    app.include_router(on_call.router)
    app.include_router(ingest_routes.build_router(app))
    return app


def _authenticate(app: APIGatewayHttpResolver) -> None:
    path = app.current_event.path
    if path in PUBLIC_PATHS or ingest_routes.is_signed_path(path):
        return  # the ingest's signature is checked by its route (issue 18)
    identity = token_verifier().verify(bearer_token(app.current_event.headers))
    users.require_active(identity.user_id)
    set_caller(identity)
    # Path and query parameters obey the same text rules as bodies.
    for name, value in (app.context.get("_route_args") or {}).items():
        inbound.check_text(str(value), name)
    for name, value in (app.current_event.query_string_parameters or {}).items():
        inbound.check_text(value, name)


def _answer_errors(app: APIGatewayHttpResolver) -> None:
    """Every failure becomes the typed `{"error": ...}` answer, here and only here."""

    @app.exception_handler(DomainError)
    def domain_error(exc: DomainError) -> Response[str]:
        if exc.http_status >= 500:
            logger.exception("request failed: %s", exc.message)
        if isinstance(exc, RateLimited):
            return _json_error(
                exc.http_status,
                exc.code,
                exc.message,
                headers={"Retry-After": str(max(1, math.ceil(exc.retry_after)))},
                **exc.wire_fields(),
            )
        return _json_error(exc.http_status, exc.code, exc.message, **exc.wire_fields())

    @app.exception_handler(RequestValidationError)
    def invalid_request(exc: RequestValidationError) -> Response[str]:
        errors = exc.errors()
        first = errors[0] if errors else {"loc": (), "msg": "invalid request"}
        where = ".".join(str(p) for p in first.get("loc", ()) if p not in ("body", "query", "path"))
        return _json_error(422, "VALIDATION", f"{where or 'request'}: {first.get('msg')}")

    @app.exception_handler(ResponseValidationError)
    def invalid_response(exc: ResponseValidationError) -> Response[str]:
        # Our answer broke its own schema: a fault on our side, not the caller's.
        logger.error("response failed validation: %s", exc.errors())
        return _json_error(500, "INTERNAL", "something went wrong on our side; try again")

    @app.not_found
    def no_route(exc: RouteNotFound) -> Response[str]:
        path = app.current_event.path
        problem = inbound.text_problem(path)
        if problem is not None:
            # A NUL or lone surrogate can match no route's parameter: answer as for any
            # bad parameter, naming it, once the caller has shown a valid token.
            try:
                _authenticate(app)
            except DomainError as error:
                return _json_error(error.http_status, error.code, error.message)
            field = _parameter_at_fault(app, path)
            return _json_error(422, "VALIDATION", f"{field}: {problem}")
        return _json_error(404, "NOT_FOUND", "no such API route")

    @app.exception_handler(Exception)
    def unexpected(exc: Exception) -> Response[str]:
        # Never a stack trace to a client; the log has it with the correlation id.
        logger.exception("unexpected error")
        return _json_error(500, "INTERNAL", "something went wrong on our side; try again")
