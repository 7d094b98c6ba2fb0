"""Incident rooms and their members. Status and membership changes are kept in the
history as `system` messages, numbered in the same transaction as the change."""

from __future__ import annotations

from dataclasses import dataclass, field
from uuid import UUID

from warroom.dal import connections as connections_dal
from warroom.dal import incident as incident_dal
from warroom.dal import rooms as dal
from warroom.dal import users as users_dal
from warroom.dal.messages import Conn, Recipients
from warroom.db import Database, get_database
from warroom.errors import ConflictError, NotFoundError, ValidationFailed
from warroom.logic import incident, oncall
from warroom.logic.access import (
    require_member,
    require_not_archived,
    require_owner,
    require_reader,
    require_room,
)
from warroom.logic.messages import post_system_message
from warroom.logic.oncall import Paged
from warroom.logic.users import parse_user_id
from warroom.models import (
    Member,
    Message,
    Role,
    Room,
    RoomDraft,
    RoomPatch,
    RoomStatus,
)


@dataclass
class RoomChange:
    """What changed, the system messages to broadcast (with their recipients), and the
    connections to close (a removed member's)."""

    room: Room | None = None
    member: Member | None = None
    events: list[tuple[Message, Recipients]] = field(default_factory=list)
    closed_connections: list[str] = field(default_factory=list)


def _db(db: Database | None) -> Database:
    return db if db is not None else get_database()


def create_room(*, user_id: str, draft: RoomDraft, db: Database | None = None) -> Room:
    return open_room(user_id=user_id, draft=draft, db=db).room


@dataclass
class Opened:
    """A new room, and the paging its line's on-call rotation asks for (issue 19)."""

    room: Room
    paged: Paged | None = None


def open_room(*, user_id: str, draft: RoomDraft, db: Database | None = None) -> Opened:
    def operation(conn: Conn) -> Opened:
        with conn.transaction():
            incident.require_line(conn, draft.line_id)
            room = dal.insert_room(
                conn,
                title=draft.title,
                severity=draft.severity.value,
                location=draft.location,
                lots=list(dict.fromkeys(draft.lots)),
                created_by=user_id,
                line_id=draft.line_id,
                machine=draft.machine,
                stop_reason=draft.stop_reason,
            )
            dal.insert_member(conn, room_id=room.room_id, user_id=user_id, role=Role.OWNER)
            incident_dal.insert_entry(
                conn,
                room_id=room.room_id,
                kind="milestone",
                by_user=user_id,
                event_time=room.created_at,
                data={"state": "declared", "from_state": None},
            )
            paged = oncall.incident_opened(conn, room=room, opened_by=user_id)
        return Opened(room.model_copy(update={"my_role": Role.OWNER}), paged)

    return _db(db).run(operation)


def list_rooms(
    *,
    user_id: str,
    status: RoomStatus | None = None,
    line_id: UUID | None = None,
    db: Database | None = None,
) -> list[Room]:
    return _db(db).run(
        lambda conn: dal.rooms_of(
            conn, user_id=user_id, status=status.value if status else None, line_id=line_id
        )
    )


def get_room(*, room_id: UUID, user_id: str, db: Database | None = None) -> Room:
    def operation(conn: Conn) -> Room:
        room = dal.room_for_member(conn, room_id=room_id, user_id=user_id)
        if room is None:
            require_member(conn, room_id, user_id)
        assert room is not None
        return room

    return _db(db).run(operation)


def update_room(
    *, room_id: UUID, user_id: str, patch: RoomPatch, db: Database | None = None
) -> RoomChange:
    changes = patch.model_dump(exclude_none=True)
    if not changes:
        raise ValidationFailed("nothing to change")
    if "lots" in changes:
        changes["lots"] = list(dict.fromkeys(changes["lots"]))
    for key in ("status", "severity"):
        if key in changes:
            changes[key] = changes[key].value

    def operation(conn: Conn) -> RoomChange:
        with conn.transaction():
            require_owner(dal.access(conn, room_id=room_id, user_id=user_id), room_id)
            before = require_room(dal.room(conn, room_id, lock=True), room_id)
            reopening = changes.get("status", RoomStatus.ARCHIVED) != RoomStatus.ARCHIVED
            if not reopening:
                require_not_archived(before)
            after = dal.update_room(conn, room_id=room_id, changes=changes)
            events = []
            if after.status != before.status:
                events.append(
                    post_system_message(
                        conn,
                        room_id=room_id,
                        actor_id=user_id,
                        event="room_status_changed",
                        text=f"{user_id} changed the status from {before.status.value} to {after.status.value}",
                        user_id=user_id,
                        old_status=before.status.value,
                        status=after.status.value,
                        from_state=before.state.value,
                        state=after.state.value,
                    )
                )
                incident.record_status_change(
                    conn,
                    room_id=room_id,
                    user_id=user_id,
                    before=before,
                    after=after,
                    event=events[-1][0],
                )
            if after.severity != before.severity:
                events.append(
                    incident.record_severity_change(
                        conn, room_id=room_id, user_id=user_id, before=before, after=after
                    )
                )
            room = dal.room_for_member(conn, room_id=room_id, user_id=user_id) or after
        return RoomChange(room=room, events=events)

    return _db(db).run(operation)


def member_role(*, room_id: UUID, user_id: str, db: Database | None = None) -> Role:
    """The user's role in the room; 404 for no such room, 403 for a non-member. One
    indexed read, for hot paths ($connect, presence) that need no counts."""
    return _db(db).run(lambda conn: require_member(conn, room_id, user_id))


def list_members(*, room_id: UUID, user_id: str, db: Database | None = None) -> list[Member]:
    def operation(conn: Conn) -> list[Member]:
        require_member(conn, room_id, user_id)
        return dal.members(conn, room_id)

    return _db(db).run(operation)


def add_member(
    *, room_id: UUID, user_id: str, member_id: str, role: Role, db: Database | None = None
) -> RoomChange:
    member_id = parse_user_id(member_id)

    def operation(conn: Conn) -> RoomChange:
        with conn.transaction():
            require_owner(dal.access(conn, room_id=room_id, user_id=user_id), room_id)
            require_not_archived(dal.room(conn, room_id, lock=True))
            if users_dal.get(conn, member_id) is None:
                raise NotFoundError(f"no user {member_id} in the directory")
            if not dal.insert_member(conn, room_id=room_id, user_id=member_id, role=role.value):
                raise ConflictError(f"{member_id} is already a member of this room")
            event = post_system_message(
                conn,
                room_id=room_id,
                actor_id=user_id,
                event="member_added",
                text=f"{user_id} added {member_id} as {role.value}",
                user_id=member_id,
                role=role.value,
            )
            member = dal.member(conn, room_id=room_id, user_id=member_id)
        return RoomChange(member=member, events=[event])

    return _db(db).run(operation)


def change_member_role(
    *, room_id: UUID, user_id: str, member_id: str, role: Role, db: Database | None = None
) -> RoomChange:
    member_id = parse_user_id(member_id)

    def operation(conn: Conn) -> RoomChange:
        with conn.transaction():
            require_owner(dal.access(conn, room_id=room_id, user_id=user_id), room_id)
            # The lock serialises owner-count checks and holds the status still.
            require_not_archived(dal.room(conn, room_id, lock=True))
            current = dal.member(conn, room_id=room_id, user_id=member_id)
            if current is None:
                raise NotFoundError(f"{member_id} is not a member of this room")
            if (
                current.role == Role.OWNER
                and role != Role.OWNER
                and dal.owner_count(conn, room_id) == 1
            ):
                raise ConflictError("a room needs at least one owner")
            if role == Role.VIEWER:
                incident.require_not_commander(
                    dal.room(conn, room_id), member_id, action="making them a viewer"
                )
            dal.set_role(conn, room_id=room_id, user_id=member_id, role=role.value)
            member = dal.member(conn, room_id=room_id, user_id=member_id)
        return RoomChange(member=member)

    return _db(db).run(operation)


def remove_member(
    *, room_id: UUID, user_id: str, member_id: str, db: Database | None = None
) -> RoomChange:
    """Owners remove anyone; any member may leave."""
    member_id = parse_user_id(member_id)

    def operation(conn: Conn) -> RoomChange:
        with conn.transaction():
            access = dal.access(conn, room_id=room_id, user_id=user_id)
            if member_id == user_id:
                require_reader(access, room_id)
            else:
                require_owner(access, room_id)
            require_not_archived(dal.room(conn, room_id, lock=True))
            current = dal.member(conn, room_id=room_id, user_id=member_id)
            if current is None:
                raise NotFoundError(f"{member_id} is not a member of this room")
            if current.role == Role.OWNER and dal.owner_count(conn, room_id) == 1:
                raise ConflictError("a room needs at least one owner")
            incident.require_not_commander(
                dal.room(conn, room_id), member_id, action="removing them"
            )
            dal.delete_member(conn, room_id=room_id, user_id=member_id)
            # Their connections to the room go in the same transaction: no frame of the
            # room reaches them after the removal commits.
            closed = connections_dal.delete_member_connections(
                conn, room_id=room_id, user_id=member_id
            )
            event = post_system_message(
                conn,
                room_id=room_id,
                actor_id=user_id,
                event="member_removed",
                text=f"{user_id} removed {member_id}"
                if member_id != user_id
                else f"{member_id} left",
                user_id=member_id,
            )
        return RoomChange(events=[event], closed_connections=closed)

    return _db(db).run(operation)


def mark_read(
    *, room_id: UUID, user_id: str, last_read_seq: int, db: Database | None = None
) -> int:
    if last_read_seq < 0:
        raise ValidationFailed("last_read_seq must not be negative")

    def operation(conn: Conn) -> int:
        result = dal.mark_read(conn, room_id=room_id, user_id=user_id, last_read_seq=last_read_seq)
        if result is None:
            require_member(conn, room_id, user_id)
        assert result is not None
        return result

    return _db(db).run(operation)
