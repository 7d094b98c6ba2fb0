"""Rooms: the caller's list, creating, reading and changing one, and the read mark."""

from __future__ import annotations

from uuid import UUID

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from pydantic import BaseModel, Field

from warroom import paging
from warroom.logic import rooms, users
from warroom.models import Room, RoomDraft, RoomPatch, RoomStatus
from warroom.routes.common import announce, caller

router = Router()


class ReadMark(BaseModel):
    last_read_seq: int = Field(ge=0)


@router.get("/api/rooms")
def my_rooms(
    status: RoomStatus | None = None, line_id: UUID | None = None
) -> dict[str, list[Room]]:
    user_id = caller().user_id
    return {"rooms": rooms.list_rooms(user_id=user_id, status=status, line_id=line_id)}


@router.post("/api/rooms")
def create_room(draft: RoomDraft) -> Response[Room]:
    identity = caller()
    users.sync_user(identity.user_id, identity.display_name)
    opened = rooms.open_room(user_id=identity.user_id, draft=draft)
    paging.dispatch(opened.paged)  # issue 19: page whoever is on call for the line
    return Response(status_code=201, content_type="application/json", body=opened.room)


@router.get("/api/rooms/<room_id>")
def get_room(room_id: UUID) -> Room:
    return rooms.get_room(room_id=room_id, user_id=caller().user_id)


@router.patch("/api/rooms/<room_id>")
def update_room(room_id: UUID, patch: RoomPatch) -> Room:
    change = rooms.update_room(room_id=room_id, user_id=caller().user_id, patch=patch)
    announce(change.events)
    assert change.room is not None
    return change.room


@router.post("/api/rooms/<room_id>/read")
def mark_read(room_id: UUID, body: ReadMark) -> dict[str, int]:
    seq = rooms.mark_read(
        room_id=room_id, user_id=caller().user_id, last_read_seq=body.last_read_seq
    )
    return {"last_read_seq": seq}
