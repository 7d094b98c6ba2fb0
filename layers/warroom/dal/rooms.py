"""SQL for incident rooms and their members. Reads return `Room` and `Member` models;
`access` returns the small row the permission checks read."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import psycopg

from warroom.models import Member, Room

Conn = psycopg.Connection[dict[str, Any]]

ROOM_COLUMNS = """
r.room_id, r.title, r.status, r.severity, r.location, r.lots, r.created_by, r.created_at,
r.updated_at, r.last_activity_at, r.last_seq,
r.line_id, r.state, r.commander_id, r.machine, r.stop_reason, r.downtime_start, r.downtime_end
"""

# Unread = messages after my read mark that are not mine and not deleted; mentions the same,
# restricted to messages that mention me. Both use the (room_id, sequence_number) index.
ROOM_WITH_COUNTS = f"""
SELECT {ROOM_COLUMNS}, rm.role AS my_role,
       (SELECT count(*) FROM messages m
         WHERE m.room_id = r.room_id AND m.sequence_number > rm.last_read_seq
           AND m.deleted_at IS NULL AND m.sender_id <> rm.user_id)::int AS unread_count,
       (SELECT count(*) FROM messages m
         WHERE m.room_id = r.room_id AND m.sequence_number > rm.last_read_seq
           AND m.deleted_at IS NULL AND m.mentions @> ARRAY[rm.user_id]::text[])::int AS mention_count
FROM room_members rm
JOIN incident_rooms r ON r.room_id = rm.room_id
"""


def insert_room(
    conn: Conn,
    *,
    title: str,
    severity: str,
    location: str,
    lots: list[str],
    created_by: str,
    line_id: UUID | None = None,
    machine: str = "",
    stop_reason: str = "",
) -> Room:
    """The creator is the incident's first commander; the room starts `declared`."""
    row = conn.execute(
        f"""
        INSERT INTO incident_rooms AS r (title, severity, location, lots, created_by,
                                         commander_id, line_id, machine, stop_reason)
        VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)
        RETURNING {ROOM_COLUMNS}
        """,
        (title, severity, location, lots, created_by, created_by, line_id, machine, stop_reason),
    ).fetchone()
    assert row is not None
    return Room.model_validate(row)


def insert_member(conn: Conn, *, room_id: UUID, user_id: str, role: str) -> bool:
    row = conn.execute(
        "INSERT INTO room_members (room_id, user_id, role) VALUES (%s, %s, %s) "
        "ON CONFLICT DO NOTHING RETURNING user_id",
        (room_id, user_id, role),
    ).fetchone()
    return row is not None


def rooms_of(
    conn: Conn, *, user_id: str, status: str | None, line_id: UUID | None = None
) -> list[Room]:
    rows = conn.execute(
        ROOM_WITH_COUNTS
        + " WHERE rm.user_id = %(user)s AND (%(status)s::text IS NULL OR r.status = %(status)s)"
        + " AND (%(line)s::uuid IS NULL OR r.line_id = %(line)s)"
        + " ORDER BY r.last_activity_at DESC",
        {"user": user_id, "status": status, "line": line_id},
    ).fetchall()
    return [Room.model_validate(r) for r in rows]


def room_for_member(conn: Conn, *, room_id: UUID, user_id: str) -> Room | None:
    row = conn.execute(
        ROOM_WITH_COUNTS + " WHERE rm.user_id = %s AND r.room_id = %s", (user_id, room_id)
    ).fetchone()
    return None if row is None else Room.model_validate(row)


def room(conn: Conn, room_id: UUID, *, lock: bool = False) -> Room | None:
    row = conn.execute(
        f"SELECT {ROOM_COLUMNS} FROM incident_rooms r WHERE r.room_id = %s"
        + (" FOR UPDATE" if lock else ""),
        (room_id,),
    ).fetchone()
    return None if row is None else Room.model_validate(row)


def access(conn: Conn, *, room_id: UUID, user_id: str) -> dict[str, Any] | None:
    """Whether the room exists, the user's role in it, and whether the user is an admin."""
    return conn.execute(
        """
        SELECT r.status, rm.role, coalesce(u.is_admin, false) AS is_admin,
               coalesce(u.is_active, true) AS active
        FROM incident_rooms r
        LEFT JOIN room_members rm ON rm.room_id = r.room_id AND rm.user_id = %(user)s
        LEFT JOIN tr_users u ON u.user_id = %(user)s
        WHERE r.room_id = %(room)s
        """,
        {"room": room_id, "user": user_id},
    ).fetchone()


def update_room(conn: Conn, *, room_id: UUID, changes: dict[str, Any]) -> Room:
    allowed = {"title", "status", "severity", "location", "lots"}
    assignments = [f"{name} = %({name})s" for name in changes if name in allowed]
    if "status" in changes:
        assignments.append(
            "resolved_at = CASE WHEN %(status)s = 'resolved' THEN now() ELSE resolved_at END"
        )
        # Today's clients set `status`; the lifecycle state follows it (issue 17).
        assignments.append(
            "state = CASE %(status)s WHEN 'resolved' THEN 'resolved' WHEN 'archived' THEN 'closed'"
            " ELSE CASE WHEN r.state IN ('resolved', 'closed') THEN 'acknowledged'"
            " ELSE r.state END END"
        )
    assignments.append("updated_at = now()")
    row = conn.execute(
        f"UPDATE incident_rooms AS r SET {', '.join(assignments)} "
        f"WHERE r.room_id = %(room_id)s RETURNING {ROOM_COLUMNS}",
        {**changes, "room_id": room_id},
    ).fetchone()
    assert row is not None
    return Room.model_validate(row)


def members(conn: Conn, room_id: UUID) -> list[Member]:
    rows = conn.execute(
        """
        SELECT rm.room_id, rm.user_id, coalesce(u.display_name, rm.user_id) AS display_name,
               rm.role, rm.joined_at, rm.last_read_seq
        FROM room_members rm LEFT JOIN tr_users u ON u.user_id = rm.user_id
        WHERE rm.room_id = %s
        ORDER BY CASE rm.role WHEN 'OWNER' THEN 0 WHEN 'EDITOR' THEN 1 ELSE 2 END, rm.joined_at
        """,
        (room_id,),
    ).fetchall()
    return [Member.model_validate(r) for r in rows]


def member(conn: Conn, *, room_id: UUID, user_id: str) -> Member | None:
    row = conn.execute(
        """
        SELECT rm.room_id, rm.user_id, coalesce(u.display_name, rm.user_id) AS display_name,
               rm.role, rm.joined_at, rm.last_read_seq
        FROM room_members rm LEFT JOIN tr_users u ON u.user_id = rm.user_id
        WHERE rm.room_id = %s AND rm.user_id = %s
        """,
        (room_id, user_id),
    ).fetchone()
    return None if row is None else Member.model_validate(row)


def owner_count(conn: Conn, room_id: UUID) -> int:
    row = conn.execute(
        "SELECT count(*)::int AS n FROM room_members WHERE room_id = %s AND role = 'OWNER'",
        (room_id,),
    ).fetchone()
    return int(row["n"]) if row else 0


# Role changes and removals bump the room's membership version (see migration 0005):
# a write that read the old roles and then waited for the room's lock finds it changed.
BUMP_MEMBERS_VERSION = """
bumped AS (
    UPDATE incident_rooms SET members_version = members_version + 1
    WHERE room_id = %(room_id)s
)
"""


def set_role(conn: Conn, *, room_id: UUID, user_id: str, role: str) -> None:
    conn.execute(
        f"""
        WITH {BUMP_MEMBERS_VERSION}
        UPDATE room_members SET role = %(role)s
        WHERE room_id = %(room_id)s AND user_id = %(user)s
        """,
        {"role": role, "room_id": room_id, "user": user_id},
    )


def delete_member(conn: Conn, *, room_id: UUID, user_id: str) -> bool:
    row = conn.execute(
        f"""
        WITH {BUMP_MEMBERS_VERSION}
        DELETE FROM room_members WHERE room_id = %(room_id)s AND user_id = %(user)s
        RETURNING user_id
        """,
        {"room_id": room_id, "user": user_id},
    ).fetchone()
    return row is not None


def mark_read(conn: Conn, *, room_id: UUID, user_id: str, last_read_seq: int) -> int | None:
    row = conn.execute(
        """
        UPDATE room_members rm
           SET last_read_seq = greatest(rm.last_read_seq, least(%s, r.last_seq))
          FROM incident_rooms r
         WHERE r.room_id = rm.room_id AND rm.room_id = %s AND rm.user_id = %s
        RETURNING rm.last_read_seq
        """,
        (last_read_seq, room_id, user_id),
    ).fetchone()
    return None if row is None else int(row["last_read_seq"])
