"""The incident record (issue 17): production lines, the lifecycle, the commander, the
timeline, production impact, follow-ups and the response metrics.

Every change that live clients must hear is a numbered `system` message written in the
same transaction as the change (so it is in the change log, and a client that was
offline finds it when it resumes), and milestones, severity changes, handovers and pins
are timeline entries naming that message.

| action                                   | OWNER | EDITOR | VIEWER |
|------------------------------------------|-------|--------|--------|
| read timeline, follow-ups, metrics       | yes   | yes    | yes    |
| move state, hand over, pin, impact, follow-ups | yes | yes | no (403) |
| edit a line                              | the line's owner (or an admin)   |
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from warroom.dal import incident as dal
from warroom.dal import rooms as rooms_dal
from warroom.dal import users as users_dal
from warroom.dal.messages import Conn, Recipients
from warroom.db import Database, get_database
from warroom.errors import (
    ConflictError,
    ForbiddenError,
    IllegalMove,
    NotFoundError,
    ValidationFailed,
)
from warroom.logic.access import require_member, require_room, require_writer
from warroom.logic.messages import post_system_message
from warroom.logic.users import parse_user_id
from warroom.models import (
    CommanderHandover,
    FollowUp,
    FollowUpDraft,
    FollowUpPatch,
    ImpactPatch,
    IncidentState,
    Line,
    LineDraft,
    LinePatch,
    Message,
    PinDraft,
    Role,
    Room,
    RoomMetrics,
    StateMove,
    TimelineEntry,
    WeeklyMetrics,
)

S = IncidentState

# The lifecycle: forward one step at a time; a resolved or closed incident may be
# reopened (back to acknowledged: someone is on it again).
ALLOWED_MOVES: dict[IncidentState, tuple[IncidentState, ...]] = {
    S.DECLARED: (S.ACKNOWLEDGED,),
    S.ACKNOWLEDGED: (S.CONTAINED,),
    S.CONTAINED: (S.RESOLVED,),
    S.RESOLVED: (S.CLOSED, S.ACKNOWLEDGED),
    S.CLOSED: (S.ACKNOWLEDGED,),
}

# A pin's event time may run this far ahead of the server's clock (clients' clocks drift).
EVENT_TIME_SKEW = timedelta(seconds=60)

DEFAULT_STOP_REASONS: list[dict[str, str]] = [
    {"code": "mechanical", "zh-TW": "機械故障", "en": "Mechanical failure"},
    {"code": "electrical", "zh-TW": "電氣故障", "en": "Electrical failure"},
    {"code": "material", "zh-TW": "缺料", "en": "Material shortage"},
    {"code": "quality", "zh-TW": "品質異常", "en": "Quality issue"},
    {"code": "changeover", "zh-TW": "換線", "en": "Changeover"},
    {"code": "utility", "zh-TW": "公用設施異常", "en": "Utility outage"},
    {"code": "safety", "zh-TW": "安全停機", "en": "Safety stop"},
    {"code": "other", "zh-TW": "其他", "en": "Other"},
]

PINNABLE = {"text", "image_ref", "file_ref", "incident_data"}


def _db(db: Database | None) -> Database:
    return db if db is not None else get_database()


@dataclass
class RoomChange:
    """The room after a change and the system messages to broadcast."""

    room: Room | None = None
    events: list[tuple[Message, Recipients]] = field(default_factory=list)


# Lines


def create_line(*, user_id: str, draft: LineDraft, db: Database | None = None) -> Line:
    reasons = (
        [r.model_dump(by_alias=True) for r in draft.stop_reasons]
        if draft.stop_reasons
        else DEFAULT_STOP_REASONS
    )
    return _db(db).run(
        lambda conn: dal.insert_line(
            conn,
            name=draft.name,
            location=draft.location,
            owner_id=user_id,
            label_zh=draft.label_zh or draft.name,
            label_en=draft.label_en or draft.name,
            stop_reasons=reasons,
        )
    )


def list_lines(*, db: Database | None = None) -> list[Line]:
    return _db(db).run(dal.lines)


def update_line(
    *, line_id: UUID, user_id: str, patch: LinePatch, db: Database | None = None
) -> Line:
    changes = patch.model_dump(exclude_none=True, by_alias=True)
    if not changes:
        raise ValidationFailed("nothing to change")

    def operation(conn: Conn) -> Line:
        with conn.transaction():
            found = dal.line(conn, line_id, lock=True)
            if found is None:
                raise NotFoundError(f"line {line_id} does not exist")
            actor = users_dal.get(conn, user_id)
            if found.owner_id != user_id and not (actor is not None and actor.is_admin):
                raise ForbiddenError("only the line's owner can change it")
            return dal.update_line(conn, line_id=line_id, changes=changes)

    return _db(db).run(operation)


def require_line(conn: Conn, line_id: UUID | None) -> None:
    if line_id is not None and dal.line(conn, line_id) is None:
        raise ValidationFailed(f"line_id: no line {line_id}")


# The lifecycle and the commander


def _writer_room(conn: Conn, room_id: UUID, user_id: str, *, allow_closed: bool = False) -> Room:
    """The caller may write in the room; the room row is locked for the change."""
    access = rooms_dal.access(conn, room_id=room_id, user_id=user_id)
    if allow_closed and access is not None:
        access = {**access, "status": "active"}  # a reopen is the one write a closed room takes
    require_writer(access, room_id)
    return require_room(rooms_dal.room(conn, room_id, lock=True), room_id)


writer_room = _writer_room  # issue 19's "take" locks the room the same way


def _answer(conn: Conn, room_id: UUID, user_id: str, fallback: Room) -> Room:
    return rooms_dal.room_for_member(conn, room_id=room_id, user_id=user_id) or fallback


def move_state(
    *, room_id: UUID, user_id: str, move: StateMove, db: Database | None = None
) -> RoomChange:
    def operation(conn: Conn) -> RoomChange:
        with conn.transaction():
            before = _writer_room(conn, room_id, user_id, allow_closed=True)
            return apply_move(conn, before=before, user_id=user_id, move=move)

    return _db(db).run(operation)


def apply_move(conn: Conn, *, before: Room, user_id: str, move: StateMove) -> RoomChange:
    """One lifecycle step, in the caller's transaction, on a room the caller has locked
    after checking that `user_id` may write in it (also "take" of issue 19)."""
    room_id = before.room_id
    allowed = ALLOWED_MOVES[before.state]
    if move.state not in allowed:
        raise IllegalMove(
            f"an incident that is {before.state.value} cannot move to {move.state.value}",
            allowed=[s.value for s in allowed],
        )
    after = dal.set_state(conn, room_id=room_id, state=move.state.value)
    note = (move.note or "").strip() or None
    event = post_system_message(
        conn,
        room_id=room_id,
        actor_id=user_id,
        event="incident_state_changed",
        text=f"{user_id} moved the incident from {before.state.value} to "
        f"{move.state.value}" + (f": {note}" if note else ""),
        user_id=user_id,
        from_state=before.state.value,
        state=move.state.value,
        status=after.status.value,
        note=note,
    )
    dal.insert_entry(
        conn,
        room_id=room_id,
        kind="milestone",
        by_user=user_id,
        event_time=event[0].created_at,
        system_message_id=event[0].message_id,
        data={"state": move.state.value, "from_state": before.state.value, "note": note},
    )
    return RoomChange(room=_answer(conn, room_id, user_id, after), events=[event])


def record_status_change(
    conn: Conn, *, room_id: UUID, user_id: str, before: Room, after: Room, event: Message
) -> None:
    """A `status` change by today's clients moved the state too: a milestone."""
    if after.state != before.state:
        dal.insert_entry(
            conn,
            room_id=room_id,
            kind="milestone",
            by_user=user_id,
            event_time=event.created_at,
            system_message_id=event.message_id,
            data={"state": after.state.value, "from_state": before.state.value},
        )


def record_severity_change(
    conn: Conn, *, room_id: UUID, user_id: str, before: Room, after: Room
) -> tuple[Message, Recipients]:
    event = post_system_message(
        conn,
        room_id=room_id,
        actor_id=user_id,
        event="severity_changed",
        text=f"{user_id} changed the severity from {before.severity.value} to "
        f"{after.severity.value}",
        user_id=user_id,
        from_severity=before.severity.value,
        severity=after.severity.value,
    )
    dal.insert_entry(
        conn,
        room_id=room_id,
        kind="severity",
        by_user=user_id,
        event_time=event[0].created_at,
        system_message_id=event[0].message_id,
        data={"severity": after.severity.value, "from_severity": before.severity.value},
    )
    return event


def hand_over(
    *, room_id: UUID, user_id: str, handover: CommanderHandover, db: Database | None = None
) -> RoomChange:
    new_commander = parse_user_id(handover.user_id)

    def operation(conn: Conn) -> RoomChange:
        with conn.transaction():
            before = _writer_room(conn, room_id, user_id)
            member = rooms_dal.member(conn, room_id=room_id, user_id=new_commander)
            if member is None:
                raise NotFoundError(f"{new_commander} is not a member of this room")
            if member.role == Role.VIEWER:
                raise ValidationFailed("user_id: a viewer cannot command the incident")
            if before.commander_id == new_commander:
                return RoomChange(room=_answer(conn, room_id, user_id, before))
            dal.set_commander(conn, room_id=room_id, user_id=new_commander)
            event = post_system_message(
                conn,
                room_id=room_id,
                actor_id=user_id,
                event="commander_changed",
                text=f"{user_id} handed command from {before.commander_id} to {new_commander}",
                user_id=new_commander,
                from_commander_id=before.commander_id,
                commander_id=new_commander,
            )
            dal.insert_entry(
                conn,
                room_id=room_id,
                kind="handover",
                by_user=user_id,
                event_time=event[0].created_at,
                system_message_id=event[0].message_id,
                data={"commander_id": new_commander, "from_commander_id": before.commander_id},
            )
            room = _answer(conn, room_id, user_id, before)
            return RoomChange(room=room, events=[event])

    return _db(db).run(operation)


def require_not_commander(room: Room | None, member_id: str, *, action: str) -> None:
    """The commander stays a writing member until command is handed over."""
    if room is not None and room.commander_id == member_id:
        raise ConflictError(
            f"{member_id} commands this incident: hand over command before {action}"
        )


# Production impact


def update_impact(
    *, room_id: UUID, user_id: str, patch: ImpactPatch, db: Database | None = None
) -> RoomChange:
    changes = patch.model_dump(exclude_unset=True)
    if not changes:
        raise ValidationFailed("nothing to change")
    for key in ("machine", "stop_reason"):
        if key in changes and changes[key] is None:
            changes[key] = ""
    if "lots" in changes:
        changes["lots"] = list(dict.fromkeys(changes["lots"] or []))
    for key in ("downtime_start", "downtime_end"):
        value = changes.get(key)
        if value is not None and value.tzinfo is None:
            raise ValidationFailed(f"{key}: needs a time zone (end it in Z)")

    def operation(conn: Conn) -> RoomChange:
        with conn.transaction():
            before = _writer_room(conn, room_id, user_id)
            if "line_id" in changes:
                require_line(conn, changes["line_id"])
            start = changes.get("downtime_start", before.downtime_start)
            end = changes.get("downtime_end", before.downtime_end)
            if start is not None and end is not None and end < start:
                raise ValidationFailed("downtime_end: must not be before downtime_start")
            after = dal.update_impact(conn, room_id=room_id, changes=changes)
            event = post_system_message(
                conn,
                room_id=room_id,
                actor_id=user_id,
                event="impact_changed",
                text=f"{user_id} updated the production impact",
                user_id=user_id,
                fields=sorted(changes),
            )
            return RoomChange(room=_answer(conn, room_id, user_id, after), events=[event])

    return _db(db).run(operation)


# The timeline


def pin_message(
    *, room_id: UUID, user_id: str, draft: PinDraft, db: Database | None = None
) -> tuple[bool, TimelineEntry, list[tuple[Message, Recipients]]]:
    """Pin (or re-time a pin of) a message: (created, the entry, events)."""
    if draft.event_time is not None and draft.event_time > datetime.now(UTC) + EVENT_TIME_SKEW:
        raise ValidationFailed("event_time: must not be in the future")

    def operation(conn: Conn) -> tuple[bool, TimelineEntry, list[tuple[Message, Recipients]]]:
        with conn.transaction():
            _writer_room(conn, room_id, user_id)
            target = dal.pin_target(conn, message_id=draft.message_id)
            if target is None or target["room_id"] != room_id or target["deleted_at"]:
                raise NotFoundError("no such message in this incident room")
            if target["message_type"] not in PINNABLE:
                raise ValidationFailed("message_id: room events are on the timeline already")
            event_time = draft.event_time or target["created_at"]
            existing = dal.pin(conn, room_id=room_id, message_id=draft.message_id)
            event = post_system_message(
                conn,
                room_id=room_id,
                actor_id=user_id,
                event="message_pinned",
                text=f"{user_id} pinned a message to the timeline",
                user_id=user_id,
                message_id=str(draft.message_id),
                event_time=event_time.astimezone(UTC).isoformat().replace("+00:00", "Z"),
            )
            if existing is None:
                entry_id = dal.insert_entry(
                    conn,
                    room_id=room_id,
                    kind="pin",
                    by_user=user_id,
                    event_time=event_time,
                    message_id=draft.message_id,
                    system_message_id=event[0].message_id,
                )
            else:
                entry_id = existing["entry_id"]
                dal.repin(
                    conn,
                    entry_id=entry_id,
                    event_time=event_time,
                    by_user=user_id,
                    system_message_id=event[0].message_id,
                )
            entry = next(e for e in dal.timeline(conn, room_id=room_id) if e.entry_id == entry_id)
            return existing is None, entry, [event]

    return _db(db).run(operation)


def unpin_message(
    *, room_id: UUID, user_id: str, message_id: UUID, db: Database | None = None
) -> list[tuple[Message, Recipients]]:
    def operation(conn: Conn) -> list[tuple[Message, Recipients]]:
        with conn.transaction():
            _writer_room(conn, room_id, user_id)
            if not dal.delete_pin(conn, room_id=room_id, message_id=message_id):
                raise NotFoundError("this message is not pinned in this incident room")
            event = post_system_message(
                conn,
                room_id=room_id,
                actor_id=user_id,
                event="message_unpinned",
                text=f"{user_id} unpinned a message from the timeline",
                user_id=user_id,
                message_id=str(message_id),
            )
            return [event]

    return _db(db).run(operation)


def timeline(*, room_id: UUID, user_id: str, db: Database | None = None) -> list[TimelineEntry]:
    def operation(conn: Conn) -> list[TimelineEntry]:
        require_member(conn, room_id, user_id)
        return dal.timeline(conn, room_id=room_id)

    return _db(db).run(operation)


# Follow-ups


def _require_room_member(conn: Conn, room_id: UUID, member_id: str) -> None:
    if rooms_dal.member(conn, room_id=room_id, user_id=member_id) is None:
        raise ValidationFailed(f"owner_id: {member_id} is not a member of this room")


def add_follow_up(
    *, room_id: UUID, user_id: str, draft: FollowUpDraft, db: Database | None = None
) -> tuple[FollowUp, list[tuple[Message, Recipients]]]:
    owner_id = parse_user_id(draft.owner_id)

    def operation(conn: Conn) -> tuple[FollowUp, list[tuple[Message, Recipients]]]:
        with conn.transaction():
            _writer_room(conn, room_id, user_id)
            _require_room_member(conn, room_id, owner_id)
            created = dal.insert_follow_up(
                conn,
                room_id=room_id,
                title=draft.title,
                owner_id=owner_id,
                due=draft.due,
                created_by=user_id,
            )
            event = post_system_message(
                conn,
                room_id=room_id,
                actor_id=user_id,
                event="follow_up_added",
                text=f"{user_id} added a follow-up for {owner_id}: {draft.title}",
                user_id=owner_id,
                follow_up_id=str(created.follow_up_id),
                title=draft.title,
                due=draft.due.isoformat(),
            )
            return created, [event]

    return _db(db).run(operation)


def change_follow_up(
    *,
    room_id: UUID,
    user_id: str,
    follow_up_id: UUID,
    patch: FollowUpPatch,
    db: Database | None = None,
) -> tuple[FollowUp, list[tuple[Message, Recipients]]]:
    changes: dict[str, Any] = patch.model_dump(exclude_none=True)
    if not changes:
        raise ValidationFailed("nothing to change")
    if "owner_id" in changes:
        changes["owner_id"] = parse_user_id(changes["owner_id"])
    if "status" in changes:
        changes["status"] = changes["status"].value
    if "title" in changes and not changes["title"].strip():
        raise ValidationFailed("title: must not be blank")

    def operation(conn: Conn) -> tuple[FollowUp, list[tuple[Message, Recipients]]]:
        with conn.transaction():
            _writer_room(conn, room_id, user_id)
            if "owner_id" in changes:
                _require_room_member(conn, room_id, changes["owner_id"])
            changed = dal.update_follow_up(
                conn, room_id=room_id, follow_up_id=follow_up_id, changes=changes
            )
            if changed is None:
                raise NotFoundError("no such follow-up in this incident room")
            event = post_system_message(
                conn,
                room_id=room_id,
                actor_id=user_id,
                event="follow_up_changed",
                text=f"{user_id} updated the follow-up: {changed.title}",
                user_id=changed.owner_id,
                follow_up_id=str(follow_up_id),
                status=changed.status.value,
                due=changed.due.isoformat(),
            )
            return changed, [event]

    return _db(db).run(operation)


def list_follow_ups(*, room_id: UUID, user_id: str, db: Database | None = None) -> list[FollowUp]:
    def operation(conn: Conn) -> list[FollowUp]:
        require_member(conn, room_id, user_id)
        return dal.follow_ups(conn, room_id=room_id)

    return _db(db).run(operation)


# Metrics


def room_metrics(*, room_id: UUID, user_id: str, db: Database | None = None) -> RoomMetrics:
    def operation(conn: Conn) -> RoomMetrics:
        require_member(conn, room_id, user_id)
        return dal.room_metrics(conn, room_id=room_id)

    return _db(db).run(operation)


def line_metrics(
    *,
    user_id: str,
    line_id: UUID | None,
    since: datetime | None,
    until: datetime | None,
    db: Database | None = None,
) -> list[WeeklyMetrics]:
    for name, value in (("from", since), ("to", until)):
        if value is not None and value.tzinfo is None:
            raise ValidationFailed(f"{name}: needs a time zone (end it in Z)")
    if since is not None and until is not None and until <= since:
        raise ValidationFailed("to: must be after from")

    def operation(conn: Conn) -> list[WeeklyMetrics]:
        if line_id is not None and dal.line(conn, line_id) is None:
            raise NotFoundError(f"line {line_id} does not exist")
        return dal.weekly_metrics(conn, user_id=user_id, line_id=line_id, since=since, until=until)

    return _db(db).run(operation)
