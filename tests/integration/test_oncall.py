"""The escalation engine against real PostgreSQL (issue 19): a timer only says "look
now", so early, repeated and late wake-ups must all do the right thing."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from warroom.ingest_models import AlarmRuleDraft, ReadingPoint
from warroom.logic import incident, ingest, oncall, rooms
from warroom.models import LineDraft, RoomDraft, Severity

pytestmark = pytest.mark.integration


@pytest.fixture
def on_call_line(db, make_user) -> dict[str, Any]:
    owner, first, second, reporter = (
        make_user("lineowner"),
        make_user("first"),
        make_user("second"),
        make_user("reporter"),
    )
    line = incident.create_line(user_id=owner, draft=LineDraft(name="SMT 2"), db=db)
    oncall.set_on_call(
        line_id=line.line_id,
        user_id=owner,
        draft=oncall.OnCallDraft(rotation=[first, second], escalate_after_seconds=600),
        db=db,
    )
    return {"line": line, "owner": owner, "first": first, "second": second, "reporter": reporter}


def _open(db, who: dict[str, Any]) -> Any:
    draft = RoomDraft(title="Solder paste printer jam", line_id=who["line"].line_id)
    return rooms.open_room(user_id=who["reporter"], draft=draft, db=db)


def _paged(db, room_id, reader: str) -> list[str]:
    entries = incident.timeline(room_id=room_id, user_id=reader, db=db)
    return [e.paged_user_id for e in entries if e.kind == "page"]


def _make_due(sql, room_id) -> None:
    # The delay has passed (the database's clock decides, as in production)
    sql.execute(
        "UPDATE pages SET due_at = clock_timestamp() - interval '1 second' WHERE room_id = %s",
        (room_id,),
    )


def test_opening_pages_the_first_person_and_tells_the_rest(db, on_call_line):
    # When an incident opens on the line
    opened = _open(db, on_call_line)
    # Then the first person is paged, the second hears of the incident, and the engine
    # wants to look again after the line's delay
    paged = opened.paged
    assert paged is not None
    assert [(n.kind, n.user_ids) for n in paged.notices] == [
        ("page", (on_call_line["first"],)),
        ("incident", (on_call_line["second"],)),
    ]
    assert paged.check_in_seconds == 600
    assert _paged(db, opened.room.room_id, on_call_line["reporter"]) == [on_call_line["first"]]


def test_an_early_wake_up_pages_nobody_and_asks_to_look_again(db, on_call_line):
    # Given an incident paged a moment ago
    opened = _open(db, on_call_line)
    # When the timer wakes early (an SQS delay is capped at 15 minutes)
    early = oncall.escalate(room_id=opened.room.room_id, db=db)
    # Then nobody new is paged, and it asks to look again in about the time left
    assert early.notices == [] and early.events == []
    assert early.check_in_seconds is not None and 590 < early.check_in_seconds <= 600


def test_a_due_wake_up_pages_the_next_and_a_repeat_of_it_does_nothing(db, sql, on_call_line):
    # Given an incident whose delay has passed
    opened = _open(db, on_call_line)
    room_id = opened.room.room_id
    _make_due(sql, room_id)
    # When the timer fires, and its message is delivered a second time
    step = oncall.escalate(room_id=room_id, db=db)
    repeat = oncall.escalate(room_id=room_id, db=db)
    # Then the second person was paged once, and the repeat only asks to look later
    assert [(n.kind, n.user_ids) for n in step.notices] == [("page", (on_call_line["second"],))]
    assert repeat.notices == [] and repeat.check_in_seconds is not None
    assert _paged(db, room_id, on_call_line["reporter"]) == [
        on_call_line["first"],
        on_call_line["second"],
    ]
    # And after the rotation comes the line's owner, and then nobody
    _make_due(sql, room_id)
    last = oncall.escalate(room_id=room_id, db=db)
    assert [n.user_ids for n in last.notices] == [(on_call_line["owner"],)]
    assert last.check_in_seconds is None
    assert oncall.escalate(room_id=room_id, db=db).notices == []


def test_taking_stops_even_a_due_escalation(db, sql, on_call_line):
    # Given an incident the first person takes just as its delay passes
    opened = _open(db, on_call_line)
    room_id = opened.room.room_id
    taken = oncall.take(room_id=room_id, user_id=on_call_line["first"], db=db)
    _make_due(sql, room_id)
    # When the timer fires
    after = oncall.escalate(room_id=room_id, db=db)
    # Then nobody else is paged, and the incident is acknowledged by the one who took it
    assert taken.room is not None and taken.room.state.value == "acknowledged"
    assert after.notices == [] and after.check_in_seconds is None
    assert _paged(db, room_id, on_call_line["reporter"]) == [on_call_line["first"]]


def test_an_incident_acknowledged_through_the_lifecycle_stops_paging(db, sql, on_call_line):
    # Given an incident the first person acknowledges with the lifecycle control
    from warroom.models import IncidentState, StateMove

    opened = _open(db, on_call_line)
    room_id = opened.room.room_id
    incident.move_state(
        room_id=room_id,
        user_id=on_call_line["first"],
        move=StateMove(state=IncidentState.ACKNOWLEDGED),
        db=db,
    )
    _make_due(sql, room_id)
    # When the timer fires
    after = oncall.escalate(room_id=room_id, db=db)
    # Then nobody else is paged
    assert after.notices == [] and after.check_in_seconds is None


def test_a_line_without_a_rotation_pages_nobody(db, make_user):
    # Given a line nobody is on call for
    owner = make_user("lineowner")
    line = incident.create_line(user_id=owner, draft=LineDraft(name="Packing"), db=db)
    # When an incident opens on it
    opened = rooms.open_room(
        user_id=owner, draft=RoomDraft(title="Wrapper", line_id=line.line_id), db=db
    )
    # Then there is nothing to page
    assert opened.paged is None


class RecordingTimer:
    def __init__(self) -> None:
        self.scheduled: dict[Any, float] = {}

    def schedule(self, room_id: Any, seconds: float) -> None:
        self.scheduled[room_id] = seconds


def test_a_restarted_local_stack_rearms_every_untaken_page(db, on_call_line):
    # Given one untaken page and one taken
    from warroom.paging import rearm_pending, set_escalation_timer

    untaken = _open(db, on_call_line).room.room_id
    taken = _open(db, on_call_line).room.room_id
    oncall.take(room_id=taken, user_id=on_call_line["first"], db=db)
    timer = RecordingTimer()
    set_escalation_timer(timer)
    try:
        # When the stack starts again (its in-process timers died with it)
        rearm_pending()
    finally:
        set_escalation_timer(None)
    # Then the untaken page's timer is set again, for the time it has left, and the
    # taken one's is not
    assert 590 < timer.scheduled[untaken] <= 600
    assert taken not in timer.scheduled


def test_a_viewer_who_is_paged_becomes_an_editor_so_they_can_take_it(db, sql, on_call_line):
    # Given an incident where the second person on call was added as a viewer meanwhile
    from warroom.dal import rooms as rooms_dal
    from warroom.models import Role

    opened = _open(db, on_call_line)
    room_id = opened.room.room_id
    rooms.add_member(
        room_id=room_id,
        user_id=on_call_line["reporter"],
        member_id=on_call_line["second"],
        role=Role.VIEWER,
        db=db,
    )
    _make_due(sql, room_id)
    # When the page escalates to them
    step = oncall.escalate(room_id=room_id, db=db)
    # Then they are an editor now, the room hears of it, and they can take the incident
    member = db.run(
        lambda conn: rooms_dal.member(conn, room_id=room_id, user_id=on_call_line["second"])
    )
    assert member is not None and member.role == Role.EDITOR
    events = [e[0].content["event"] for e in step.events]  # type: ignore[index]
    assert events == ["member_role_changed", "paged"]
    taken = oncall.take(room_id=room_id, user_id=on_call_line["second"], db=db)
    assert taken.room is not None and taken.room.state.value == "acknowledged"


def test_pushes_name_the_sender_as_people_know_them(db, on_call_line):
    # When an incident opens on the line
    paged = _open(db, on_call_line).paged
    # Then the pushes name the reporter by display name, not by e-mail id
    assert paged is not None
    assert {n.sender for n in paged.notices} == {"Reporter"}


def test_an_incident_an_alarm_rule_opens_pages_the_first_person_on_call(db, on_call_line):
    # Given the on-call line with an alarm rule on its spindle temperature
    owner = on_call_line["owner"]
    line_id = on_call_line["line"].line_id
    ingest.create_rule(
        line_id=line_id,
        user_id=owner,
        draft=AlarmRuleDraft(
            tag="temp", above=100, for_seconds=0, severity=Severity.HIGH, title="Spindle hot"
        ),
        db=db,
    )
    points = [ReadingPoint(machine_id="CNC-12", tag="temp", value=150.0, ts=datetime.now(UTC))]
    paged: list[oncall.Paged] = []

    # When a machine's reading crosses the rule, and the line has no open incident
    def store(conn: Any) -> Any:
        with conn.transaction():
            return ingest.evaluate_alarms(conn, line_id=line_id, points=points, paged=paged)

    events = db.run(store)

    # Then the rule's room is opened with its quote first, and the first person on call
    # is paged in it (a member now, on the timeline), exactly as for a person's incident
    opened = [m for m, _ in events if m.content["event"] == "alarm_opened"]
    assert len(opened) == 1
    (page,) = paged
    assert page.room_id == opened[0].room_id
    assert [(n.kind, n.user_ids) for n in page.notices] == [
        ("page", (on_call_line["first"],)),
        ("incident", (on_call_line["second"],)),
    ]
    assert _paged(db, page.room_id, owner) == [on_call_line["first"]]
