"""On call and escalation (issue 19, Andon's "taken").

A line's owner sets its rotation. When an incident opens on the line — by a person or by
an alarm rule, both through `incident_opened` — the first person is paged at once and
added to the room; if nobody takes it within the line's delay, the next is paged, and so
on, then the line's owner. `take` acknowledges the incident (record17's lifecycle) and
stops the paging. Every page is on the timeline.

Nothing here sends or waits: each step returns a `Paged` (room events, pushes, and when
to look again) that the delivery tier (`warroom/paging.py`) carries out after commit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from warroom.dal import incident as incident_dal
from warroom.dal import push as dal
from warroom.dal import rooms as rooms_dal
from warroom.dal import users as users_dal
from warroom.dal.messages import Conn, Recipients
from warroom.db import Database, get_database
from warroom.errors import ForbiddenError, NotFoundError, ValidationFailed
from warroom.logic import incident
from warroom.logic.messages import post_system_message
from warroom.logic.notices import Notice
from warroom.logic.users import parse_user_id
from warroom.models import IncidentState, Message, Role, Room, StateMove

DEFAULT_ESCALATE_AFTER_SECONDS = 300


class OnCallDraft(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rotation: list[str] = Field(max_length=20)
    escalate_after_seconds: int = Field(DEFAULT_ESCALATE_AFTER_SECONDS, ge=1, le=86400)


class OnCallAnswer(BaseModel):
    line_id: UUID
    rotation: list[str]
    escalate_after_seconds: int


@dataclass
class Paged:
    """What a paging step asks of the delivery tier, after its transaction commits."""

    room_id: UUID
    events: list[tuple[Message, Recipients]] = field(default_factory=list)
    notices: list[Notice] = field(default_factory=list)
    check_in_seconds: float | None = None  # when to call `escalate` again; None: done


def _db(db: Database | None) -> Database:
    return db if db is not None else get_database()


# The rotation


def set_on_call(
    *, line_id: UUID, user_id: str, draft: OnCallDraft, db: Database | None = None
) -> OnCallAnswer:
    rotation = list(dict.fromkeys(parse_user_id(u) for u in draft.rotation))

    def operation(conn: Conn) -> OnCallAnswer:
        with conn.transaction():
            line = incident_dal.line(conn, line_id, lock=True)
            if line is None:
                raise NotFoundError(f"line {line_id} does not exist")
            actor = users_dal.get(conn, user_id)
            if line.owner_id != user_id and not (actor is not None and actor.is_admin):
                raise ForbiddenError("only the line's owner can set who is on call")
            unknown = [u for u in rotation if u not in dal.existing_users(conn, rotation)]
            if unknown:
                raise ValidationFailed(f"rotation: no user {unknown[0]} in the directory")
            saved = dal.set_on_call(
                conn,
                line_id=line_id,
                rotation=rotation,
                escalate_after_seconds=draft.escalate_after_seconds,
                by=user_id,
            )
            return OnCallAnswer.model_validate(saved.model_dump())

    return _db(db).run(operation)


def get_on_call(*, line_id: UUID, db: Database | None = None) -> OnCallAnswer:
    def operation(conn: Conn) -> OnCallAnswer:
        if incident_dal.line(conn, line_id) is None:
            raise NotFoundError(f"line {line_id} does not exist")
        found = dal.on_call(conn, line_id)
        if found is None:
            return OnCallAnswer(
                line_id=line_id, rotation=[], escalate_after_seconds=DEFAULT_ESCALATE_AFTER_SECONDS
            )
        return OnCallAnswer.model_validate(found.model_dump())

    return _db(db).run(operation)


# Paging


def incident_opened(conn: Conn, *, room: Room, opened_by: str) -> Paged | None:
    """THE hook for a new incident on a line (a person's `POST /api/rooms`, an alarm
    rule's incident): inside the opening transaction, page the first person on call and
    tell the rest of the rotation. None when the line has nobody on call."""
    if room.line_id is None:
        return None
    on_call = dal.on_call(conn, room.line_id)
    line = incident_dal.line(conn, room.line_id)
    if on_call is None or not on_call.rotation or line is None:
        return None
    targets = list(dict.fromkeys([*on_call.rotation, line.owner_id]))
    page = dal.insert_page(
        conn,
        room_id=room.room_id,
        line_id=room.line_id,
        targets=targets,
        escalate_after_seconds=on_call.escalate_after_seconds,
    )
    paged = _page(conn, room=room, target=targets[0], step=0, actor=opened_by)
    others = tuple(u for u in on_call.rotation[1:] if u != opened_by)
    if others:
        sender = _display_name(conn, opened_by)
        paged.notices.append(
            Notice("incident", others, room.room_id, sender, f"{room.title} ({line.name})")
        )
    if len(targets) == 1:  # nobody to escalate to
        dal.advance_page(conn, room_id=room.room_id, step=0, last=True)
    else:
        paged.check_in_seconds = float(page.escalate_after_seconds)
    return paged


def _page(conn: Conn, *, room: Room, target: str, step: int, actor: str) -> Paged:
    """Page `target`: a member of the room (added as an editor if not one), a numbered
    system message, a timeline entry, and a push with "Take it"."""
    paged = Paged(room_id=room.room_id)
    if rooms_dal.insert_member(conn, room_id=room.room_id, user_id=target, role=Role.EDITOR.value):
        paged.events.append(
            post_system_message(
                conn,
                room_id=room.room_id,
                actor_id=actor,
                event="member_added",
                text=f"{target} was added as EDITOR: on call",
                user_id=target,
                role=Role.EDITOR.value,
            )
        )
    else:
        existing = rooms_dal.member(conn, room_id=room.room_id, user_id=target)
        if existing is not None and existing.role == Role.VIEWER:
            # Whoever is paged must be able to take it: a viewer on call becomes an editor
            rooms_dal.set_role(conn, room_id=room.room_id, user_id=target, role=Role.EDITOR.value)
            paged.events.append(
                post_system_message(
                    conn,
                    room_id=room.room_id,
                    actor_id=actor,
                    event="member_role_changed",
                    text=f"{target} was made EDITOR: on call",
                    user_id=target,
                    role=Role.EDITOR.value,
                )
            )
    event = post_system_message(
        conn,
        room_id=room.room_id,
        actor_id=actor,
        event="paged",
        text=f"Paged {target} (on call, step {step + 1})",
        user_id=target,
        step=step,
    )
    paged.events.append(event)
    incident_dal.insert_entry(
        conn,
        room_id=room.room_id,
        kind="page",
        by_user=actor,
        event_time=event[0].created_at,
        system_message_id=event[0].message_id,
        data={"paged_user_id": target, "step": step},
    )
    paged.notices.append(
        Notice("page", (target,), room.room_id, _display_name(conn, actor), room.title)
    )
    return paged


def _display_name(conn: Conn, user_id: str) -> str:
    found = users_dal.get(conn, user_id)
    return found.display_name if found is not None else user_id


def escalate(*, room_id: UUID, db: Database | None = None) -> Paged:
    """The timer fired: page the next person if the incident is still untaken and due.
    Early (an SQS delay is at most 15 minutes) it answers with the time left."""

    def operation(conn: Conn) -> Paged:
        with conn.transaction():
            page = dal.page(conn, room_id, lock=True)
            if page is None or page.taken_by is not None or page.due_at is None:
                return Paged(room_id=room_id)
            room = rooms_dal.room(conn, room_id, lock=True)
            if room is None or room.state != IncidentState.DECLARED:
                # Acknowledged another way (the lifecycle control): someone is on it.
                dal.advance_page(conn, room_id=room_id, step=page.step, last=True)
                return Paged(room_id=room_id)
            if not page.due_now:
                left = dal.seconds_until(conn, page.due_at)
                return Paged(room_id=room_id, check_in_seconds=max(0.05, left))
            step = page.step + 1
            last = step >= len(page.targets) - 1
            dal.advance_page(conn, room_id=room_id, step=step, last=last)
            paged = _page(
                conn, room=room, target=page.targets[step], step=step, actor=room.created_by
            )
            paged.check_in_seconds = None if last else float(page.escalate_after_seconds)
            return paged

    return _db(db).run(operation)


def take(*, room_id: UUID, user_id: str, db: Database | None = None) -> incident.RoomChange:
    """ "Take it": the incident is acknowledged (a milestone naming who took it, and
    when) and the paging stops. Taking an incident someone already acknowledged only
    stops the paging."""

    def operation(conn: Conn) -> incident.RoomChange:
        with conn.transaction():
            before = incident.writer_room(conn, room_id, user_id)
            dal.take_page(conn, room_id=room_id, user_id=user_id)
            if before.state != IncidentState.DECLARED:
                found = rooms_dal.room_for_member(conn, room_id=room_id, user_id=user_id)
                return incident.RoomChange(room=found or before)
            return incident.apply_move(
                conn,
                before=before,
                user_id=user_id,
                move=StateMove(state=IncidentState.ACKNOWLEDGED, note=f"taken by {user_id}"),
            )

    return _db(db).run(operation)
