"""The live chart's throttle (issue 18): at most one `readings` frame a second per line,
across every container, and only to sockets in the rooms of the line's open incidents."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from warroom.fanout import FanoutReport
from warroom.ingest_models import ReadingPoint
from warroom.live_readings import publish_latest
from warroom.logic import incident, ingest, rooms
from warroom.models import LineDraft, RoomDraft, RoomStatus


class Recorder:
    def __init__(self) -> None:
        self.sent: list[tuple[list[str], dict[str, Any]]] = []

    def to_connections(self, connection_ids: Any, frame: dict[str, Any]) -> FanoutReport:
        self.sent.append((sorted(connection_ids), frame))
        return FanoutReport()


def _socket(sql: Any, user_id: str, room_id: Any) -> str:
    connection_id = f"c-{uuid.uuid4().hex[:10]}"
    sql.execute(
        "INSERT INTO connections (connection_id, user_id, room_id, display_name, expires_at) "
        "VALUES (%s, %s, %s, 'x', now() + interval '1 hour')",
        (connection_id, user_id, room_id),
    )
    return connection_id


def test_one_frame_a_second_per_line_to_open_incidents_only(db, sql, make_user):
    # Given a line with an open and a resolved incident, a socket in each, and a reading
    owner = make_user("owner")
    line = incident.create_line(user_id=owner, draft=LineDraft(name="Oven line"), db=db)
    open_room = rooms.create_room(
        user_id=owner, draft=RoomDraft(title="Oven drift", line_id=line.line_id), db=db
    )
    done_room = rooms.create_room(
        user_id=owner, draft=RoomDraft(title="Old", line_id=line.line_id), db=db
    )
    sql.execute(
        "UPDATE incident_rooms SET status = %s WHERE room_id = %s",
        (RoomStatus.RESOLVED.value, done_room.room_id),
    )
    listening = _socket(sql, owner, open_room.room_id)
    _socket(sql, owner, done_room.room_id)
    now = datetime.now(UTC)
    batch = [
        ReadingPoint(
            machine_id="OVEN-1", tag="temp", value=v, unit="CEL", ts=now + timedelta(seconds=i)
        )
        for i, v in enumerate([80.0, 81.5])
    ] + [ReadingPoint(machine_id="OVEN-1", tag="temp", value=999.0, ts=now, historical=True)]
    latest = ingest.latest_of(batch)
    recorder = Recorder()
    # When two batches are announced back to back
    publish_latest(line.line_id, latest, broadcaster=recorder, db=db)  # type: ignore[arg-type]
    publish_latest(line.line_id, latest, broadcaster=recorder, db=db)  # type: ignore[arg-type]
    # Then one frame went out, to the open incident's socket only, with the batch's newest
    # live value (never a historical one)
    assert len(recorder.sent) == 1
    connections, frame = recorder.sent[0]
    assert connections == [listening]
    assert frame["type"] == "readings" and frame["line_id"] == str(line.line_id)
    assert [(p["tag"], p["value"], p["origin"]) for p in frame["points"]] == [
        ("temp", 81.5, "machine")
    ]
    # And once the second has passed for this line, the slot can be claimed again
    sql.execute(
        "UPDATE line_live SET sent_at = sent_at - interval '2 seconds' WHERE line_id = %s",
        (line.line_id,),
    )
    publish_latest(line.line_id, latest, broadcaster=recorder, db=db)  # type: ignore[arg-type]
    assert len(recorder.sent) == 2
