"""Alarm evaluation (issue 18) on the real database: two batches firing two rules of one
line at the same moment open one room between them, and a rule only counts live points
newer than the newest it has seen."""

from __future__ import annotations

import tempfile
import threading
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from warroom.dal import ingest as dal
from warroom.ingest_models import AlarmRuleDraft, ReadingPoint
from warroom.logic import incident, ingest
from warroom.models import LineDraft, Severity


def _line_with_rules(db: Any, owner: str, tags: list[str]) -> Any:
    line = incident.create_line(
        user_id=owner, draft=LineDraft(name=f"L-{uuid.uuid4().hex[:6]}"), db=db
    )
    for tag in tags:
        ingest.create_rule(
            line_id=line.line_id,
            user_id=owner,
            draft=AlarmRuleDraft(
                tag=tag, above=100, for_seconds=0, severity=Severity.HIGH, title=f"{tag} high"
            ),
            db=db,
        )
    return line


def _store(db: Any, line_id: Any, points: list[ReadingPoint]) -> list[Any]:
    def operation(conn: Any) -> list[Any]:
        with conn.transaction():
            dal.copy_readings(conn, line_id=line_id, source_id=None, points=points)
            return ingest.evaluate_alarms(conn, line_id=line_id, points=points)

    return db.run(operation)


def _open_rooms(sql: Any, line_id: Any) -> list[Any]:
    return sql.execute(
        "SELECT room_id, title FROM incident_rooms WHERE line_id = %s AND status = 'active'",
        (line_id,),
    ).fetchall()


def test_two_rules_firing_at_once_open_one_room(db, sql, make_user):
    # Given a line with two rules and two batches, each crossing one of them
    owner = make_user("owner")
    line = _line_with_rules(db, owner, ["temp", "pressure"])
    now = datetime.now(UTC)
    batches = [
        [ReadingPoint(machine_id="M1", tag=tag, value=150.0, ts=now)]
        for tag in ("temp", "pressure")
    ]
    events: list[list[Any]] = []
    barrier = threading.Barrier(2)

    def post(points: list[ReadingPoint]) -> None:
        barrier.wait()
        events.append(_store(db, line.line_id, points))

    # When both are stored at the same moment
    threads = [threading.Thread(target=post, args=(b,)) for b in batches]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # Then one room is open, and it holds one opening and one "fired again" message
    rooms = _open_rooms(sql, line.line_id)
    assert len(rooms) == 1
    kinds = sorted(m.content["event"] for batch in events for m, _ in batch)
    assert kinds == ["alarm_fired_again", "alarm_opened"]
    assert {m.room_id for batch in events for m, _ in batch} == {rooms[0]["room_id"]}


def test_points_older_than_the_rules_newest_do_not_count(db, sql, make_user):
    # Given a rule that has seen an in-range point now
    owner = make_user("owner")
    line = _line_with_rules(db, owner, ["temp"])
    now = datetime.now(UTC)
    _store(db, line.line_id, [ReadingPoint(machine_id="M1", tag="temp", value=50.0, ts=now)])
    # When a late point from a minute ago arrives out of range
    late = ReadingPoint(machine_id="M1", tag="temp", value=500.0, ts=now - timedelta(minutes=1))
    fired = _store(db, line.line_id, [late])
    # Then it is stored but opens nothing
    assert fired == []
    assert _open_rooms(sql, line.line_id) == []
    # And a newer out-of-range point fires
    newer = ReadingPoint(machine_id="M1", tag="temp", value=500.0, ts=now + timedelta(seconds=1))
    assert [m.content["event"] for m, _ in _store(db, line.line_id, [newer])] == ["alarm_opened"]


def test_the_sweep_forgets_idempotency_records_no_replay_can_need(db, sql, make_user):
    from warroom.ingest_models import SourceDraft
    from warroom.logic.maintenance import sweep
    from warroom.sealing import KeyFileSealer, set_sealer

    # Given a source with a delivery record from two hours ago and one from now
    owner = make_user("owner")
    line = _line_with_rules(db, owner, [])
    set_sealer(KeyFileSealer(Path(tempfile.mkdtemp()) / "k"))
    try:
        source = ingest.create_source(
            line_id=line.line_id, user_id=owner, draft=SourceDraft(name="gw"), db=db
        )
    finally:
        set_sealer(None)
    for webhook_id, age in (("old", "2 hours"), ("new", "0 seconds")):
        sql.execute(
            "INSERT INTO ingest_deliveries (source_id, webhook_id, answer, received_at) "
            "VALUES (%s, %s, '{}', now() - %s::interval)",
            (source.source_id, webhook_id, age),
        )
    # When the scheduled sweep runs
    report = sweep(db)
    # Then the old record is gone and the recent one kept
    left = sql.execute(
        "SELECT webhook_id FROM ingest_deliveries WHERE source_id = %s", (source.source_id,)
    ).fetchall()
    assert [r["webhook_id"] for r in left] == ["new"]
    assert report.forgotten_deliveries >= 1
