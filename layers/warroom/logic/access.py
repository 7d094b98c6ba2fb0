"""Who may do what in a room. One place, so the permission matrix reads in one screen.

| action                     | OWNER | EDITOR | VIEWER | non-member | admin (non-member) |
|----------------------------|-------|--------|--------|------------|--------------------|
| read history, search, etc. | yes   | yes    | yes    | no (403)   | no (403)           |
| react (an acknowledgement) | yes   | yes    | yes    | no         | no                 |
| send, edit own             | yes   | yes    | no     | no         | no                 |
| delete own message         | yes   | yes    | no     | no         | yes                |
| delete any message         | yes   | no     | no     | no         | yes                |
| change room, members       | yes   | no     | no     | no         | yes                |

An archived room is read-only for everyone (CONFLICT) until an owner reopens it; a user
the directory marks inactive is refused everything (FORBIDDEN).
"""

from __future__ import annotations

from typing import Any, TypeVar
from uuid import UUID

from warroom.dal import rooms as rooms_dal
from warroom.dal.messages import Conn
from warroom.errors import ConflictError, ForbiddenError, NotFoundError
from warroom.models import Role, Room, RoomStatus

T = TypeVar("T")


def require_room(row: T | None, room_id: UUID) -> T:
    if row is None:
        raise NotFoundError(f"incident room {room_id} does not exist")
    return row


def require_reader(row: dict[str, Any] | None, room_id: UUID) -> Role:
    row = require_room(row, room_id)
    if not row.get("active", True):
        raise ForbiddenError("this account is deactivated")
    if row["role"] is None:
        raise ForbiddenError("you are not a member of this incident room")
    return Role(row["role"])


def require_member(conn: Conn, room_id: UUID, user_id: str) -> Role:
    """Read the user's membership of the room and require that they may read it."""
    return require_reader(rooms_dal.access(conn, room_id=room_id, user_id=user_id), room_id)


def require_writer(row: dict[str, Any] | None, room_id: UUID) -> Role:
    role = require_reader(row, room_id)
    if not role.can_write:
        raise ForbiddenError("viewers can read this incident room but not write to it")
    assert row is not None
    if row.get("status") == RoomStatus.ARCHIVED:
        raise ConflictError("this incident room is archived and read-only")
    return role


def require_not_archived(room: Room | None) -> None:
    """Everything that changes a room waits for its row lock and then asks this: an
    archived room is read-only until it is reopened."""
    if room is not None and room.status == RoomStatus.ARCHIVED:
        raise ConflictError("this incident room is archived and read-only")


def require_owner(row: dict[str, Any] | None, room_id: UUID) -> None:
    row = require_room(row, room_id)
    if not row.get("active", True):
        raise ForbiddenError("this account is deactivated")
    if row.get("is_admin"):
        return
    if row["role"] is None:
        raise ForbiddenError("you are not a member of this incident room")
    if row["role"] != Role.OWNER:
        raise ForbiddenError("only the room's owners can do this")


def require_message_writer(row: dict[str, Any] | None, action: str) -> Role:
    """The message exists and is not deleted, and the actor may write in its room."""
    if row is None or row["deleted_at"] is not None:
        raise NotFoundError("this message does not exist or was deleted")
    if row["role"] is None:
        raise ForbiddenError("you are not a member of this incident room")
    role = Role(row["role"])
    if not role.can_write:
        raise ForbiddenError(f"viewers cannot {action}")
    return role
