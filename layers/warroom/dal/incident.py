"""SQL for the incident record: lines, the lifecycle state, the commander, the timeline,
production impact, follow-ups and the response metrics. Reads return models."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

import psycopg
from psycopg.types.json import Jsonb

from warroom.dal.rooms import ROOM_COLUMNS
from warroom.dal.rows import MESSAGE_COLUMNS, message_from_row
from warroom.models import FollowUp, Line, Room, RoomMetrics, TimelineEntry, WeeklyMetrics

Conn = psycopg.Connection[dict[str, Any]]

LINE_COLUMNS = "line_id, name, location, owner_id, label_zh, label_en, stop_reasons, created_at"


def insert_line(
    conn: Conn,
    *,
    name: str,
    location: str,
    owner_id: str,
    label_zh: str,
    label_en: str,
    stop_reasons: list[dict[str, str]],
) -> Line:
    row = conn.execute(
        f"""
        INSERT INTO lines (name, location, owner_id, label_zh, label_en, stop_reasons)
        VALUES (%s, %s, %s, %s, %s, %s) RETURNING {LINE_COLUMNS}
        """,
        (name, location, owner_id, label_zh, label_en, Jsonb(stop_reasons)),
    ).fetchone()
    assert row is not None
    return Line.model_validate(row)


def lines(conn: Conn) -> list[Line]:
    rows = conn.execute(f"SELECT {LINE_COLUMNS} FROM lines ORDER BY name, created_at").fetchall()
    return [Line.model_validate(r) for r in rows]


def line(conn: Conn, line_id: UUID, *, lock: bool = False) -> Line | None:
    row = conn.execute(
        f"SELECT {LINE_COLUMNS} FROM lines WHERE line_id = %s" + (" FOR UPDATE" if lock else ""),
        (line_id,),
    ).fetchone()
    return None if row is None else Line.model_validate(row)


def update_line(conn: Conn, *, line_id: UUID, changes: dict[str, Any]) -> Line:
    allowed = {"name", "location", "label_zh", "label_en", "stop_reasons"}
    values = {
        k: (Jsonb(v) if k == "stop_reasons" else v) for k, v in changes.items() if k in allowed
    }
    assignments = [f"{name} = %({name})s" for name in values] + ["updated_at = now()"]
    row = conn.execute(
        f"UPDATE lines SET {', '.join(assignments)} WHERE line_id = %(line_id)s "
        f"RETURNING {LINE_COLUMNS}",
        {**values, "line_id": line_id},
    ).fetchone()
    assert row is not None
    return Line.model_validate(row)


def set_state(conn: Conn, *, room_id: UUID, state: str) -> Room:
    """The state, and `status` derived from it in the same UPDATE (today's clients read it)."""
    row = conn.execute(
        f"""
        UPDATE incident_rooms AS r
           SET state = %(state)s,
               status = CASE %(state)s WHEN 'resolved' THEN 'resolved'
                                       WHEN 'closed' THEN 'archived' ELSE 'active' END,
               resolved_at = CASE WHEN %(state)s = 'resolved' THEN now() ELSE resolved_at END,
               updated_at = now()
         WHERE r.room_id = %(room_id)s
        RETURNING {ROOM_COLUMNS}
        """,
        {"state": state, "room_id": room_id},
    ).fetchone()
    assert row is not None
    return Room.model_validate(row)


def set_commander(conn: Conn, *, room_id: UUID, user_id: str) -> None:
    conn.execute(
        "UPDATE incident_rooms SET commander_id = %s, updated_at = now() WHERE room_id = %s",
        (user_id, room_id),
    )


def update_impact(conn: Conn, *, room_id: UUID, changes: dict[str, Any]) -> Room:
    allowed = {"line_id", "machine", "stop_reason", "downtime_start", "downtime_end", "lots"}
    assignments = [f"{name} = %({name})s" for name in changes if name in allowed]
    assignments.append("updated_at = now()")
    row = conn.execute(
        f"UPDATE incident_rooms AS r SET {', '.join(assignments)} "
        f"WHERE r.room_id = %(room_id)s RETURNING {ROOM_COLUMNS}",
        {**changes, "room_id": room_id},
    ).fetchone()
    assert row is not None
    return Room.model_validate(row)


def insert_entry(
    conn: Conn,
    *,
    room_id: UUID,
    kind: str,
    by_user: str,
    event_time: datetime | None = None,
    message_id: UUID | None = None,
    system_message_id: UUID | None = None,
    data: dict[str, Any] | None = None,
) -> UUID:
    """A timeline entry; without `event_time` it happened when it was recorded."""
    row = conn.execute(
        """
        INSERT INTO incident_timeline (room_id, kind, event_time, recorded_at, by_user,
                                       message_id, system_message_id, data)
        VALUES (%s, %s, coalesce(%s, clock_timestamp()), clock_timestamp(), %s, %s, %s, %s)
        RETURNING entry_id
        """,
        (room_id, kind, event_time, by_user, message_id, system_message_id, Jsonb(data or {})),
    ).fetchone()
    assert row is not None
    return UUID(str(row["entry_id"]))


def pin_target(conn: Conn, *, message_id: UUID) -> dict[str, Any] | None:
    """The message to pin: its room, type, time and whether it was deleted."""
    return conn.execute(
        "SELECT room_id, message_type, created_at, deleted_at FROM messages WHERE message_id = %s",
        (message_id,),
    ).fetchone()


def pin(conn: Conn, *, room_id: UUID, message_id: UUID) -> dict[str, Any] | None:
    return conn.execute(
        "SELECT entry_id, event_time FROM incident_timeline "
        "WHERE room_id = %s AND message_id = %s AND kind = 'pin' FOR UPDATE",
        (room_id, message_id),
    ).fetchone()


def repin(
    conn: Conn, *, entry_id: UUID, event_time: datetime, by_user: str, system_message_id: UUID
) -> None:
    """A pin's event time changed: `recorded_at` is when the change was written."""
    conn.execute(
        "UPDATE incident_timeline SET event_time = %s, recorded_at = clock_timestamp(), "
        "by_user = %s, system_message_id = %s WHERE entry_id = %s",
        (event_time, by_user, system_message_id, entry_id),
    )


def delete_pin(conn: Conn, *, room_id: UUID, message_id: UUID) -> bool:
    row = conn.execute(
        "DELETE FROM incident_timeline WHERE room_id = %s AND message_id = %s AND kind = 'pin' "
        "RETURNING entry_id",
        (room_id, message_id),
    ).fetchone()
    return row is not None


# A pinned message's text on the timeline: at most this many characters (the history
# has every word), so the answer stays small however many long messages are pinned.
PINNED_TEXT_CHARS = 2000
PINNED_COLUMNS = MESSAGE_COLUMNS.replace(
    "m.content, m.content_json", f"left(m.content, {PINNED_TEXT_CHARS}) AS content, m.content_json"
)
assert PINNED_COLUMNS != MESSAGE_COLUMNS


def timeline(conn: Conn, *, room_id: UUID) -> list[TimelineEntry]:
    rows = conn.execute(
        f"""
        SELECT t.entry_id, t.kind, t.event_time, t.recorded_at, t.by_user,
               coalesce(bu.display_name, t.by_user) AS by_display_name, t.data,
               t.message_id AS pinned_id, {PINNED_COLUMNS}
        FROM incident_timeline t
        LEFT JOIN tr_users bu ON bu.user_id = t.by_user
        LEFT JOIN messages m ON m.message_id = t.message_id
        LEFT JOIN tr_users u ON u.user_id = m.sender_id
        LEFT JOIN files f ON f.file_id = m.file_id
        WHERE t.room_id = %s
        ORDER BY t.event_time, t.recorded_at, t.entry_id
        """,
        (room_id,),
    ).fetchall()
    entries = []
    for row in rows:
        data = row["data"] or {}
        entries.append(
            TimelineEntry(
                entry_id=row["entry_id"],
                kind=row["kind"],
                event_time=row["event_time"],
                recorded_at=row["recorded_at"],
                by=row["by_user"],
                by_display_name=row["by_display_name"],
                message_id=row["pinned_id"],
                message=message_from_row(row) if row["pinned_id"] is not None else None,
                **{k: data.get(k) for k in _ENTRY_DATA if data.get(k) is not None},
            )
        )
    return entries


_ENTRY_DATA = (
    "state",
    "from_state",
    "note",
    "severity",
    "from_severity",
    "commander_id",
    "from_commander_id",
    "paged_user_id",
    "step",
)


FOLLOW_UP_SELECT = """
SELECT fu.follow_up_id, fu.room_id, fu.title, fu.owner_id,
       coalesce(u.display_name, fu.owner_id) AS owner_display_name, fu.due, fu.status,
       (fu.status = 'open' AND fu.due < (now() AT TIME ZONE 'UTC')::date) AS overdue,
       fu.created_by, fu.created_at, fu.updated_at
FROM follow_ups fu LEFT JOIN tr_users u ON u.user_id = fu.owner_id
"""


def insert_follow_up(
    conn: Conn, *, room_id: UUID, title: str, owner_id: str, due: date, created_by: str
) -> FollowUp:
    row = conn.execute(
        "INSERT INTO follow_ups (room_id, title, owner_id, due, created_by) "
        "VALUES (%s, %s, %s, %s, %s) RETURNING follow_up_id",
        (room_id, title, owner_id, due, created_by),
    ).fetchone()
    assert row is not None
    found = follow_up(conn, room_id=room_id, follow_up_id=row["follow_up_id"])
    assert found is not None
    return found


def follow_up(conn: Conn, *, room_id: UUID, follow_up_id: UUID) -> FollowUp | None:
    row = conn.execute(
        FOLLOW_UP_SELECT + " WHERE fu.room_id = %s AND fu.follow_up_id = %s",
        (room_id, follow_up_id),
    ).fetchone()
    return None if row is None else FollowUp.model_validate(row)


def follow_ups(conn: Conn, *, room_id: UUID) -> list[FollowUp]:
    rows = conn.execute(
        FOLLOW_UP_SELECT + " WHERE fu.room_id = %s ORDER BY fu.due, fu.created_at",
        (room_id,),
    ).fetchall()
    return [FollowUp.model_validate(r) for r in rows]


def update_follow_up(
    conn: Conn, *, room_id: UUID, follow_up_id: UUID, changes: dict[str, Any]
) -> FollowUp | None:
    allowed = {"status", "owner_id", "due", "title"}
    assignments = [f"{name} = %({name})s" for name in changes if name in allowed]
    assignments.append("updated_at = now()")
    row = conn.execute(
        f"UPDATE follow_ups SET {', '.join(assignments)} "
        "WHERE room_id = %(room_id)s AND follow_up_id = %(follow_up_id)s RETURNING follow_up_id",
        {**changes, "room_id": room_id, "follow_up_id": follow_up_id},
    ).fetchone()
    if row is None:
        return None
    return follow_up(conn, room_id=room_id, follow_up_id=follow_up_id)


# When each milestone was first reached, from the timeline; downtime runs from its
# recorded start (else the declaration) to its recorded end (else the first resolve).
ROOM_MILESTONES = """
SELECT r.room_id, r.line_id, r.created_at AS declared_at,
       min(t.event_time) FILTER (WHERE t.data->>'state' = 'acknowledged') AS acknowledged_at,
       min(t.event_time) FILTER (WHERE t.data->>'state' = 'contained') AS contained_at,
       min(t.event_time) FILTER (WHERE t.data->>'state' = 'resolved') AS resolved_at,
       coalesce(r.downtime_start, r.created_at) AS downtime_start,
       coalesce(r.downtime_end,
                min(t.event_time) FILTER (WHERE t.data->>'state' = 'resolved')) AS downtime_end
FROM incident_rooms r
LEFT JOIN incident_timeline t ON t.room_id = r.room_id AND t.kind = 'milestone'
"""

SECONDS_BETWEEN = "extract(epoch FROM ({later}) - ({earlier}))::float8"


def room_metrics(conn: Conn, *, room_id: UUID) -> RoomMetrics:
    row = conn.execute(
        f"""
        WITH ms AS ({ROOM_MILESTONES} WHERE r.room_id = %s GROUP BY r.room_id)
        SELECT room_id, declared_at,
               {SECONDS_BETWEEN.format(later="acknowledged_at", earlier="declared_at")}
                   AS time_to_acknowledge_s,
               {SECONDS_BETWEEN.format(later="contained_at", earlier="declared_at")}
                   AS time_to_contain_s,
               {SECONDS_BETWEEN.format(later="resolved_at", earlier="declared_at")}
                   AS time_to_resolve_s,
               greatest(0, {SECONDS_BETWEEN.format(later="downtime_end", earlier="downtime_start")})
                   / 60.0 AS downtime_minutes
        FROM ms
        """,
        (room_id,),
    ).fetchone()
    assert row is not None
    return RoomMetrics.model_validate(row)


def weekly_metrics(
    conn: Conn,
    *,
    user_id: str,
    line_id: UUID | None,
    since: datetime | None,
    until: datetime | None,
) -> list[WeeklyMetrics]:
    """Per line and ISO week (Monday, UTC) of the declaration, over the incidents the
    user is a member of."""
    rows = conn.execute(
        f"""
        WITH ms AS (
            {ROOM_MILESTONES}
            JOIN room_members rm ON rm.room_id = r.room_id AND rm.user_id = %(user)s
            WHERE (%(line)s::uuid IS NULL OR r.line_id = %(line)s)
              AND (%(since)s::timestamptz IS NULL OR r.created_at >= %(since)s)
              AND (%(until)s::timestamptz IS NULL OR r.created_at < %(until)s)
            GROUP BY r.room_id
        )
        SELECT line_id, (date_trunc('week', declared_at AT TIME ZONE 'UTC'))::date AS week,
               count(*)::int AS incidents,
               avg({SECONDS_BETWEEN.format(later="acknowledged_at", earlier="declared_at")})
                   AS mtta_s,
               avg({SECONDS_BETWEEN.format(later="resolved_at", earlier="declared_at")})
                   AS mttr_s,
               coalesce(sum(greatest(0, {
            SECONDS_BETWEEN.format(later="downtime_end", earlier="downtime_start")
        }) / 60.0), 0) AS downtime_minutes
        FROM ms
        GROUP BY line_id, week
        ORDER BY week, line_id NULLS FIRST
        """,
        {"user": user_id, "line": line_id, "since": since, "until": until},
    ).fetchall()
    return [WeeklyMetrics.model_validate(r) for r in rows]
