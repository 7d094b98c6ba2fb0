"""A room's members: listing, adding, changing a role, removing (which closes the removed
person's sockets in the room)."""

from __future__ import annotations

from uuid import UUID

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from pydantic import BaseModel, Field

from warroom.logic import rooms
from warroom.models import Member, Role
from warroom.routes.common import announce, caller

router = Router()


class NewMember(BaseModel):
    user_id: str = Field(min_length=3, max_length=254)
    role: Role = Role.EDITOR


class RoleChange(BaseModel):
    role: Role


@router.get("/api/rooms/<room_id>/members")
def list_members(room_id: UUID) -> dict[str, list[Member]]:
    return {"members": rooms.list_members(room_id=room_id, user_id=caller().user_id)}


@router.post("/api/rooms/<room_id>/members")
def add_member(room_id: UUID, body: NewMember) -> Response[Member]:
    change = rooms.add_member(
        room_id=room_id, user_id=caller().user_id, member_id=body.user_id, role=body.role
    )
    assert change.member is not None
    announce(change.events)
    return Response(status_code=201, content_type="application/json", body=change.member)


@router.patch("/api/rooms/<room_id>/members/<member_id>")
def change_role(room_id: UUID, member_id: str, body: RoleChange) -> Member:
    change = rooms.change_member_role(
        room_id=room_id, user_id=caller().user_id, member_id=member_id, role=body.role
    )
    assert change.member is not None
    return change.member


@router.delete("/api/rooms/<room_id>/members/<member_id>")
def remove_member(room_id: UUID, member_id: str) -> Response[str]:
    change = rooms.remove_member(room_id=room_id, user_id=caller().user_id, member_id=member_id)
    from warroom.realtime import realtime

    realtime().close_connections(change.closed_connections)
    announce(change.events)
    return Response(status_code=204, content_type="application/json", body="")
