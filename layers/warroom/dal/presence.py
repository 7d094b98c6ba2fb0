"""SQL for coalesced join/leave announcements (docs/design.md, "Joins and departures")."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

import psycopg

from warroom.dal.connections import room_connections_sql

Conn = psycopg.Connection[dict[str, Any]]


@dataclass(frozen=True)
class PresenceChange:
    user_id: str
    display_name: str
    event: str


# One statement per join or departure: claim the room's announcement if none was made
# within the window, and take every pending change with it (and this one); otherwise
# leave this change pending. The upsert's row lock settles concurrent claimers: the
# second re-reads `announced_at` after the first commits and finds the window closed.
# When claimed, the room's connections come back too, to announce to.
CLAIM = f"""
WITH
claimed AS (
    INSERT INTO room_presence AS p (room_id, announced_at)
    VALUES (%(room_id)s, clock_timestamp())
    ON CONFLICT (room_id) DO UPDATE
       SET announced_at = clock_timestamp()
     WHERE p.announced_at <= clock_timestamp() - make_interval(secs => %(window)s)
    RETURNING room_id
),
taken AS (
    DELETE FROM presence_changes c
    WHERE c.room_id = %(room_id)s AND EXISTS (SELECT 1 FROM claimed)
    RETURNING c.user_id, c.display_name, c.event, c.at
),
left_pending AS (
    INSERT INTO presence_changes (room_id, user_id, display_name, event)
    SELECT %(room_id)s, %(user)s, %(name)s, %(event)s
    WHERE %(user)s::text IS NOT NULL AND NOT EXISTS (SELECT 1 FROM claimed)
),
announced AS (
    SELECT user_id, display_name, event, at FROM taken
    UNION ALL
    SELECT %(user)s, %(name)s, %(event)s, clock_timestamp()
    WHERE %(user)s::text IS NOT NULL AND EXISTS (SELECT 1 FROM claimed)
)
SELECT EXISTS (SELECT 1 FROM claimed) AS claimed,
       coalesce((SELECT json_agg(json_build_object('user_id', user_id,
                                                   'display_name', display_name,
                                                   'event', event) ORDER BY at)
                 FROM announced), '[]') AS changes,
       CASE WHEN EXISTS (SELECT 1 FROM claimed)
            THEN ({room_connections_sql("%(room_id)s")}) END AS room_connections
"""


@dataclass(frozen=True)
class Claim:
    """The changes to announce now (None: the room announced within the window, and
    the change, if any, was left pending) and the room's connections to announce to."""

    changes: list[PresenceChange] | None
    connections: list[str]


def claim(
    conn: Conn, *, room_id: UUID, window_seconds: float, change: PresenceChange | None = None
) -> Claim:
    row = conn.execute(
        CLAIM,
        {
            "room_id": room_id,
            "window": window_seconds,
            "user": change.user_id if change else None,
            "name": change.display_name if change else None,
            "event": change.event if change else None,
        },
    ).fetchone()
    assert row is not None
    if not row["claimed"]:
        return Claim(None, [])
    changes = [PresenceChange(c["user_id"], c["display_name"], c["event"]) for c in row["changes"]]
    return Claim(changes, list(row["room_connections"] or []))


def rooms_due(conn: Conn, *, window_seconds: float, limit: int = 500) -> list[UUID]:
    """Rooms with changes still to announce whose window has passed."""
    rows = conn.execute(
        """
        SELECT DISTINCT c.room_id
        FROM presence_changes c
        LEFT JOIN room_presence p ON p.room_id = c.room_id
        WHERE coalesce(p.announced_at, '-infinity')
              <= clock_timestamp() - make_interval(secs => %(window)s)
        LIMIT %(limit)s
        """,
        {"window": window_seconds, "limit": limit},
    ).fetchall()
    return [r["room_id"] for r in rows]


def has_pending(conn: Conn, *, room_id: UUID) -> bool:
    """Whether the room has joins or departures still to announce."""
    row = conn.execute(
        "SELECT EXISTS (SELECT 1 FROM presence_changes WHERE room_id = %(room_id)s) AS pending",
        {"room_id": room_id},
    ).fetchone()
    return bool(row and row["pending"])
