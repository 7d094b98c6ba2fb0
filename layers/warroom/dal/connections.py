"""SQL for the connection table: who is connected, to which room, as whom."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import psycopg

Conn = psycopg.Connection[dict[str, Any]]

# API Gateway closes a WebSocket after 2 hours; a row lives a little longer than that and
# is swept after, whatever happened to its $disconnect.
CONNECTION_TTL_SECONDS = 2 * 3600 + 600
# A post that races $connect gets 410 from API Gateway: a row younger than this is a
# socket still being accepted, not a gone one, and a 410 never deletes it.
REGISTRATION_GRACE_SECONDS = 10


@dataclass(frozen=True)
class ConnectionRow:
    connection_id: str
    user_id: str
    display_name: str
    room_id: UUID | None
    connected_at: datetime

    @property
    def is_user_connection(self) -> bool:
        return self.room_id is None


@dataclass(frozen=True)
class Registration:
    """What `$connect` learned: the room exists, the user's role, whether the user had
    another connection to the room already (then no `user_joined`)."""

    room_exists: bool
    role: str | None
    stored: bool
    already_here: bool
    active: bool = True


def _row(row: dict[str, Any]) -> ConnectionRow:
    return ConnectionRow(
        connection_id=row["connection_id"],
        user_id=row["user_id"],
        display_name=row["display_name"],
        room_id=row["room_id"],
        connected_at=row["connected_at"],
    )


COLUMNS = "connection_id, user_id, display_name, room_id, connected_at"

# Membership check and insert in one statement: the row is written only for a member.
REGISTER_ROOM = f"""
WITH target AS (
    SELECT r.room_id, rm.role, coalesce(u.is_active, true) AS active
    FROM incident_rooms r
    LEFT JOIN room_members rm ON rm.room_id = r.room_id AND rm.user_id = %(user)s
    LEFT JOIN tr_users u ON u.user_id = %(user)s
    WHERE r.room_id = %(room)s
),
stored AS (
    INSERT INTO connections (connection_id, user_id, display_name, room_id, expires_at)
    SELECT %(cid)s, %(user)s, %(name)s, target.room_id,
           clock_timestamp() + make_interval(secs => {CONNECTION_TTL_SECONDS})
    FROM target WHERE target.role IS NOT NULL AND target.active
    ON CONFLICT (connection_id) DO NOTHING
    RETURNING connection_id
)
SELECT EXISTS (SELECT 1 FROM target) AS room_exists,
       (SELECT role FROM target) AS role,
       coalesce((SELECT active FROM target), true) AS active,
       EXISTS (SELECT 1 FROM stored) AS stored,
       EXISTS (SELECT 1 FROM connections c
               WHERE c.room_id = %(room)s AND c.user_id = %(user)s
                 AND c.connection_id <> %(cid)s AND c.expires_at > clock_timestamp()) AS already_here
"""


def register_room_connection(
    conn: Conn, *, connection_id: str, user_id: str, display_name: str, room_id: UUID
) -> Registration:
    row = conn.execute(
        REGISTER_ROOM,
        {"cid": connection_id, "user": user_id, "name": display_name, "room": room_id},
    ).fetchone()
    assert row is not None
    return Registration(
        room_exists=row["room_exists"],
        role=row["role"],
        stored=row["stored"],
        already_here=row["already_here"],
        active=row["active"],
    )


def register_user_connection(
    conn: Conn, *, connection_id: str, user_id: str, display_name: str
) -> bool:
    """Stores the row unless the directory marks the user inactive (False then)."""
    row = conn.execute(
        f"""
        WITH stored AS (
            INSERT INTO connections (connection_id, user_id, display_name, room_id, expires_at)
            SELECT %(cid)s, %(user)s, %(name)s, NULL,
                   clock_timestamp() + make_interval(secs => {CONNECTION_TTL_SECONDS})
            WHERE coalesce((SELECT is_active FROM tr_users WHERE user_id = %(user)s), true)
            ON CONFLICT (connection_id) DO NOTHING
            RETURNING 1
        )
        SELECT coalesce((SELECT is_active FROM tr_users WHERE user_id = %(user)s), true) AS active
        """,
        {"cid": connection_id, "user": user_id, "name": display_name},
    ).fetchone()
    return bool(row and row["active"])


def get(conn: Conn, connection_id: str) -> ConnectionRow | None:
    row = conn.execute(
        f"SELECT {COLUMNS} FROM connections WHERE connection_id = %s "
        "AND expires_at > clock_timestamp()",
        (connection_id,),
    ).fetchone()
    return None if row is None else _row(row)


@dataclass(frozen=True)
class Departure:
    connection: ConnectionRow
    still_here: bool


def delete(conn: Conn, connection_id: str) -> Departure | None:
    """$disconnect: the row goes; tells whether the user still has another connection to
    the room (then no `user_left`)."""
    row = conn.execute(
        f"""
        WITH gone AS (DELETE FROM connections WHERE connection_id = %(cid)s RETURNING {COLUMNS})
        SELECT gone.*, EXISTS (
            SELECT 1 FROM connections c
            WHERE c.room_id = gone.room_id AND c.user_id = gone.user_id
              AND c.connection_id <> gone.connection_id AND c.expires_at > clock_timestamp()
        ) AS still_here
        FROM gone
        """,
        {"cid": connection_id},
    ).fetchone()
    if row is None:
        return None
    return Departure(connection=_row(row), still_here=row["still_here"])


def delete_gone(conn: Conn, connection_id: str) -> bool:
    """A 410 from @connections: the socket is gone, unless the row is younger than the
    registration grace (the post raced `$connect`; the socket is about to be live)."""
    row = conn.execute(
        f"""
        DELETE FROM connections
        WHERE connection_id = %s
          AND connected_at < clock_timestamp() - make_interval(secs => {REGISTRATION_GRACE_SECONDS})
        RETURNING connection_id
        """,
        (connection_id,),
    ).fetchone()
    return row is not None


def in_room(conn: Conn, room_id: UUID) -> list[ConnectionRow]:
    rows = conn.execute(
        f"SELECT {COLUMNS} FROM connections WHERE room_id = %s AND expires_at > clock_timestamp() "
        "ORDER BY connected_at",
        (room_id,),
    ).fetchall()
    return [_row(r) for r in rows]


# The room's connections for an ephemeral frame, and whether the speaker is still active:
# built once, as typing is the most frequent frame there is.
AUDIENCE_OF = f"""
WITH speaker AS (
    SELECT coalesce((SELECT is_active FROM tr_users WHERE user_id = %(user)s), true)
           AS active
)
SELECT s.active, {", ".join("c." + c.strip() for c in COLUMNS.split(","))}
FROM speaker s
LEFT JOIN connections c ON s.active AND c.room_id = %(room)s
                       AND c.expires_at > clock_timestamp()
ORDER BY c.connected_at
"""


def audience_of(conn: Conn, *, room_id: UUID, speaker: str) -> list[ConnectionRow] | None:
    """The room's live connections, for an ephemeral frame (typing) from `speaker`; None
    when the directory marks the speaker inactive. One statement, as `in_room`."""
    rows = conn.execute(
        AUDIENCE_OF,
        {"room": room_id, "user": speaker},
    ).fetchall()
    if not rows or not rows[0]["active"]:
        return None
    return [_row(r) for r in rows if r["connection_id"] is not None]


def delete_member_connections(conn: Conn, *, room_id: UUID, user_id: str) -> list[str]:
    """A member removed from a room: their connections to it go (the caller closes them)."""
    rows = conn.execute(
        "DELETE FROM connections WHERE room_id = %s AND user_id = %s RETURNING connection_id",
        (room_id, user_id),
    ).fetchall()
    return [r["connection_id"] for r in rows]


def sweep_expired(conn: Conn, *, batch: int = 5000) -> int:
    """Rows past their expiry (a $disconnect that never came). Bounded per call."""
    rows = conn.execute(
        """
        DELETE FROM connections WHERE connection_id IN (
            SELECT connection_id FROM connections WHERE expires_at <= clock_timestamp()
            LIMIT %s FOR UPDATE SKIP LOCKED)
        RETURNING connection_id
        """,
        (batch,),
    ).fetchall()
    return len(rows)


def room_connections_sql(room_expr: str) -> str:
    """The room's live connection ids, as a subquery the write statements embed, so a
    change and the list of who hears of it come back in one round trip."""
    return (
        "SELECT coalesce(array_agg(c.connection_id ORDER BY c.connected_at), '{}') "
        f"FROM connections c WHERE c.room_id = {room_expr} AND c.expires_at > clock_timestamp()"
    )
