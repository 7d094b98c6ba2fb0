"""The HTTP API (history, rooms, members, search, files, reports) on Powertools'
APIGatewayHttpResolver, with validation on and the OpenAPI document served.

Each route is a few lines: who is asking (the bearer token, verified here even behind the
API's JWT authorizer), one call into the logic, a typed answer. Domain errors become
`{"error": {"code", "message"}}` in one handler below.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError as RouteNotFound
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestValidationError,
    ResponseValidationError,
)
from aws_lambda_powertools.event_handler.openapi.params import Query
from pydantic import BaseModel, Field

from warroom import files, inbound
from warroom.answer_metrics import count_error_answer
from warroom.auth import Identity, bearer_token, token_verifier
from warroom.bounds import MAX_HTTP_BYTES, fit_messages
from warroom.dal.messages import Recipients
from warroom.db import get_database
from warroom.errors import DomainError, RateLimited, UnauthorizedError, ValidationFailed
from warroom.frames import ack_fields
from warroom.logic import messages, report, rooms, users
from warroom.models import (
    Member,
    Message,
    MessageDraft,
    Role,
    Room,
    RoomDraft,
    RoomPatch,
    RoomStatus,
    User,
)

logger = logging.getLogger(__name__)

PUBLIC_PATHS = {"/api/health", "/api/openapi.json"}


class NewMember(BaseModel):
    user_id: str = Field(min_length=3, max_length=254)
    role: Role = Role.EDITOR


class RoleChange(BaseModel):
    role: Role


class OutgoingMessage(MessageDraft):
    """The body of the HTTP send: a `message` frame (`type` optional and ignored)."""

    type: str | None = None


class ReadMark(BaseModel):
    last_read_seq: int = Field(ge=0)


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


def _identity(app: APIGatewayHttpResolver) -> Identity:
    identity = app.context.get("identity")
    if not isinstance(identity, Identity):
        raise UnauthorizedError("a sign-in token is required")
    return identity


def _announce(events: list[tuple[Message, Recipients]]) -> None:
    """HTTP-made changes reach live clients too (see `RoomDelivery.room_events`)."""
    if events:
        from warroom.delivery import room_delivery

        room_delivery().room_events(events)


def _bounded(key: str, found: list[Message]) -> dict[str, Any]:
    """A list answer cut by bytes to stay under the HTTP limit, saying `has_more`."""
    kept = fit_messages(found, MAX_HTTP_BYTES)
    return {key: kept, "has_more": len(kept) < len(found)}


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
        return super().resolve(event, context)

    def _to_proxy_event(self, event: dict[str, Any]) -> Any:
        proxy = super()._to_proxy_event(event)
        self.current_event = proxy  # type: ignore[assignment]
        return proxy


def build_app() -> APIGatewayHttpResolver:
    # Bodies go through the one safe loader: NUL, lone surrogates and deep nesting are
    # VALIDATION naming the field, never a 500.
    app = InvocationScopedResolver(enable_validation=True, json_body_deserializer=inbound.loads)

    def authenticate(app: APIGatewayHttpResolver) -> None:
        if app.current_event.path in PUBLIC_PATHS:
            return
        identity = token_verifier().verify(bearer_token(app.current_event.headers))
        users.require_active(identity.user_id)
        app.append_context(identity=identity)
        # Path and query parameters obey the same text rules as bodies.
        for name, value in (app.context.get("_route_args") or {}).items():
            inbound.check_text(str(value), name)
        for name, value in (app.current_event.query_string_parameters or {}).items():
            inbound.check_text(value, name)

    _authenticate_before_validation(app, authenticate)

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
        return _json_error(exc.http_status, exc.code, exc.message)

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
                authenticate(app)
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

    @app.get("/api/health")
    def health() -> dict[str, str]:
        get_database().run(lambda conn: conn.execute("SELECT 1").fetchone())
        return {"status": "ok", "database": "ok"}

    @app.get("/api/openapi.json")
    def openapi() -> Response[str]:
        return Response(
            status_code=200,
            content_type="application/json",
            body=app.get_openapi_json_schema(title="War room HTTP API", version="1.0.0"),
        )

    @app.get("/api/me")
    def me() -> User:
        identity = _identity(app)
        return users.sync_user(identity.user_id, identity.display_name)

    @app.get("/api/users")
    def directory(q: Annotated[str, Query(max_length=100)] = "") -> dict[str, list[User]]:
        _identity(app)
        return {"users": users.find_users(q)}

    @app.get("/api/limits")
    def upload_limits() -> dict[str, Any]:
        return files.limits()

    @app.get("/api/rooms")
    def my_rooms(status: RoomStatus | None = None) -> dict[str, list[Room]]:
        return {"rooms": rooms.list_rooms(user_id=_identity(app).user_id, status=status)}

    @app.post("/api/rooms")
    def create_room(draft: RoomDraft) -> Response[Room]:
        identity = _identity(app)
        users.sync_user(identity.user_id, identity.display_name)
        room = rooms.create_room(user_id=identity.user_id, draft=draft)
        return Response(status_code=201, content_type="application/json", body=room)

    @app.get("/api/rooms/<room_id>")
    def get_room(room_id: UUID) -> Room:
        return rooms.get_room(room_id=room_id, user_id=_identity(app).user_id)

    @app.patch("/api/rooms/<room_id>")
    def update_room(room_id: UUID, patch: RoomPatch) -> Room:
        change = rooms.update_room(room_id=room_id, user_id=_identity(app).user_id, patch=patch)
        _announce(change.events)
        assert change.room is not None
        return change.room

    @app.get("/api/rooms/<room_id>/members")
    def list_members(room_id: UUID) -> dict[str, list[Member]]:
        return {"members": rooms.list_members(room_id=room_id, user_id=_identity(app).user_id)}

    @app.post("/api/rooms/<room_id>/members")
    def add_member(room_id: UUID, body: NewMember) -> Response[Member]:
        change = rooms.add_member(
            room_id=room_id, user_id=_identity(app).user_id, member_id=body.user_id, role=body.role
        )
        assert change.member is not None
        _announce(change.events)
        return Response(status_code=201, content_type="application/json", body=change.member)

    @app.patch("/api/rooms/<room_id>/members/<member_id>")
    def change_role(room_id: UUID, member_id: str, body: RoleChange) -> Member:
        change = rooms.change_member_role(
            room_id=room_id, user_id=_identity(app).user_id, member_id=member_id, role=body.role
        )
        assert change.member is not None
        return change.member

    @app.delete("/api/rooms/<room_id>/members/<member_id>")
    def remove_member(room_id: UUID, member_id: str) -> Response[str]:
        change = rooms.remove_member(
            room_id=room_id, user_id=_identity(app).user_id, member_id=member_id
        )
        from warroom.realtime import realtime

        realtime().close_connections(change.closed_connections)
        _announce(change.events)
        return Response(status_code=204, content_type="application/json", body="")

    @app.get("/api/rooms/<room_id>/messages")
    def history(
        room_id: UUID,
        limit: Annotated[int | None, Query(ge=1)] = None,
        before: datetime | None = None,
        before_seq: Annotated[int | None, Query(ge=0)] = None,
        after_seq: Annotated[int | None, Query(ge=0)] = None,
        changed_after: Annotated[int | None, Query(ge=0)] = None,
    ) -> dict[str, Any]:
        user_id = _identity(app).user_id
        if changed_after is not None:
            if before is not None or before_seq is not None or after_seq is not None:
                raise ValidationFailed("changed_after goes alone, without other cursors")
            changes = messages.changed_since(
                room_id=room_id,
                user_id=user_id,
                after_change=changed_after,
                limit=limit,
                max_bytes=MAX_HTTP_BYTES,
            )
            kept, has_more, resume = messages.bounded_changes(changes)
            return {"messages": kept, "has_more": has_more, "next_changed_after": resume}
        page = messages.history(
            room_id=room_id,
            user_id=user_id,
            limit=limit,
            before=before,
            before_seq=before_seq,
            after_seq=after_seq,
            max_bytes=MAX_HTTP_BYTES,
        )
        return messages.bounded_history(page)

    @app.post("/api/rooms/<room_id>/messages")
    def send(room_id: UUID, body: OutgoingMessage) -> Response[dict[str, Any]]:
        """The `message` frame's body over HTTP (for messages whose frame would pass
        32 KB): same checks, idempotency, broadcast and badges."""
        user_id = _identity(app).user_id
        sent = messages.send_message(room_id=room_id, sender_id=user_id, draft=body)
        if sent.created:
            from warroom.delivery import room_delivery

            room_delivery().sent(sent)
        return Response(
            status_code=201 if sent.created else 200,
            content_type="application/json",
            body=ack_fields(sent.message, sent.unresolved_mentions),
        )

    @app.post("/api/rooms/<room_id>/read")
    def mark_read(room_id: UUID, body: ReadMark) -> dict[str, int]:
        seq = rooms.mark_read(
            room_id=room_id, user_id=_identity(app).user_id, last_read_seq=body.last_read_seq
        )
        return {"last_read_seq": seq}

    @app.get("/api/search")
    def search(
        q: Annotated[str, Query(min_length=1, max_length=200)],
        room_id: UUID | None = None,
        limit: Annotated[int | None, Query(ge=1)] = None,
    ) -> dict[str, Any]:
        hits = messages.search(
            user_id=_identity(app).user_id, query=q, room_id=room_id, limit=limit
        )
        kept = fit_messages([h.message for h in hits], MAX_HTTP_BYTES)
        return {
            "results": [
                {"message": m, "highlight": h.highlight} for m, h in zip(kept, hits, strict=False)
            ],
            "has_more": len(kept) < len(hits),
        }

    @app.get("/api/mentions")
    def mentions(limit: Annotated[int | None, Query(ge=1)] = None) -> dict[str, Any]:
        found = messages.mentions_of(user_id=_identity(app).user_id, limit=limit)
        return _bounded("messages", found)

    @app.get("/api/rooms/<room_id>/incident-data")
    def incident_data(
        room_id: UUID,
        field: Annotated[str, Query(min_length=1, max_length=63)],
        min: float | None = None,
        max: float | None = None,
        limit: Annotated[int | None, Query(ge=1)] = None,
    ) -> dict[str, Any]:
        found = messages.incident_readings(
            room_id=room_id,
            user_id=_identity(app).user_id,
            field=field,
            minimum=min,
            maximum=max,
            limit=limit,
        )
        return _bounded("messages", found)

    @app.post("/api/rooms/<room_id>/files")
    def upload(room_id: UUID, body: files.UploadRequest) -> Response[dict[str, Any]]:
        created = files.create_upload(room_id=room_id, user_id=_identity(app).user_id, request=body)
        return Response(status_code=201, content_type="application/json", body=created)

    @app.get("/api/rooms/<room_id>/files")
    def room_files(room_id: UUID) -> dict[str, Any]:
        found = files.list_files(room_id=room_id, user_id=_identity(app).user_id)
        return {"files": [f.model_dump(mode="json") for f in found]}

    @app.get("/api/rooms/<room_id>/files/<file_id>")
    def download(room_id: UUID, file_id: UUID) -> dict[str, Any]:
        return files.download(room_id=room_id, user_id=_identity(app).user_id, file_id=file_id)

    @app.get("/api/rooms/<room_id>/report")
    def incident_report(room_id: UUID) -> Response[str]:
        body = report.build_report(room_id=room_id, user_id=_identity(app).user_id)
        if len(body.encode()) > report.MAX_INLINE_BYTES:
            # Too large for a Lambda response: a short-lived link to the same Markdown.
            url = report.publish_large_report(room_id, body)
            return Response(
                status_code=303,
                content_type="application/json",
                body=json.dumps({"url": url}),
                headers={"Location": url},
            )
        return Response(status_code=200, content_type="text/markdown; charset=utf-8", body=body)

    return app
