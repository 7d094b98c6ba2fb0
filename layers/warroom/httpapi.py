"""The HTTP API (history, rooms, members, search, files, reports) on Powertools'
APIGatewayHttpResolver, with validation on and the OpenAPI document served.

Each route is a few lines: who is asking (the bearer token, verified here even behind the
API's JWT authorizer), one call into the logic, a typed answer. Domain errors become
`{"error": {"code", "message"}}` in one handler below.
"""

from __future__ import annotations

import json
import logging
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

from warroom import files
from warroom.answer_metrics import count_error_answer
from warroom.auth import Identity, bearer_token, token_verifier
from warroom.db import get_database
from warroom.errors import DomainError, UnauthorizedError
from warroom.frames import message_frame, system_frame
from warroom.logic import messages, report, rooms, users
from warroom.models import Member, Message, Role, Room, RoomDraft, RoomPatch, RoomStatus, User

logger = logging.getLogger(__name__)

PUBLIC_PATHS = {"/api/health", "/api/openapi.json"}


class NewMember(BaseModel):
    user_id: str = Field(min_length=3, max_length=254)
    role: Role = Role.EDITOR


class RoleChange(BaseModel):
    role: Role


class ReadMark(BaseModel):
    last_read_seq: int = Field(ge=0)


def _json_error(status: int, code: str, message: str) -> Response[str]:
    count_error_answer(code)  # infra hook: INTERNAL/UNAVAILABLE raise the outage alarm
    return Response(
        status_code=status,
        content_type="application/json",
        body=json.dumps({"error": {"code": code, "message": message}}),
    )


def _identity(app: APIGatewayHttpResolver) -> Identity:
    identity = app.context.get("identity")
    if not isinstance(identity, Identity):
        raise UnauthorizedError("a sign-in token is required")
    return identity


def _announce(events: list[Message]) -> None:
    """HTTP-made changes reach live clients too: the numbered system message (so no
    client sees a gap), the system event, and room-list notifications (a member just
    added is a member by now, so their room list hears of the room too)."""
    if not events:
        return
    from warroom.realtime import realtime

    live = realtime()
    for event in events:
        content = event.content if isinstance(event.content, dict) else {}
        room = str(event.room_id)
        live.broadcaster.to_room(room, message_frame(event))
        live.broadcaster.to_room(
            room, system_frame(str(content.get("event")), str(content.get("user_id")), room_id=room)
        )
        live.notify_members(event)


def build_app() -> APIGatewayHttpResolver:
    app = APIGatewayHttpResolver(enable_validation=True)

    def authenticate(app: APIGatewayHttpResolver, next_middleware: Any) -> Response[Any]:
        if app.current_event.path not in PUBLIC_PATHS:
            token = bearer_token(app.current_event.headers)
            app.append_context(identity=token_verifier().verify(token))
        return next_middleware(app)

    app.use(middlewares=[authenticate])

    @app.exception_handler(DomainError)
    def domain_error(exc: DomainError) -> Response[str]:
        if exc.http_status >= 500:
            logger.exception("request failed: %s", exc.message)
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

        realtime().remove_from_room(room_id, users.parse_user_id(member_id))
        _announce(change.events)
        return Response(status_code=204, content_type="application/json", body="")

    @app.get("/api/rooms/<room_id>/messages")
    def history(
        room_id: UUID,
        limit: Annotated[int | None, Query(ge=1)] = None,
        before: datetime | None = None,
        before_seq: Annotated[int | None, Query(ge=0)] = None,
        after_seq: Annotated[int | None, Query(ge=0)] = None,
    ) -> dict[str, Any]:
        page = messages.history(
            room_id=room_id,
            user_id=_identity(app).user_id,
            limit=limit,
            before=before,
            before_seq=before_seq,
            after_seq=after_seq,
        )
        return page.model_dump(mode="json")

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
        return {"results": [h.model_dump(mode="json") for h in hits]}

    @app.get("/api/mentions")
    def mentions(limit: Annotated[int | None, Query(ge=1)] = None) -> dict[str, Any]:
        found = messages.mentions_of(user_id=_identity(app).user_id, limit=limit)
        return {"messages": [m.model_dump(mode="json") for m in found]}

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
        return {"messages": [m.model_dump(mode="json") for m in found]}

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
        return Response(status_code=200, content_type="text/markdown; charset=utf-8", body=body)

    return app
