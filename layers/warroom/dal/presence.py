"""SQL for coalesced join/leave announcements (docs/design.md, "Joins and departures")."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

import psycopg

Conn = psycopg.Connection[dict[str, Any]]


@dataclass(frozen=True)
class PresenceChange:
    user_id: str
    display_name: str
    event: str


def record(conn: Conn, *, room_id: UUID, user_id: str, display_name: str, event: str) -> None:
    conn.execute(
        "INSERT INTO presence_changes (room_id, user_id, display_name, event) "
        "VALUES (%s, %s, %s, %s)",
        (room_id, user_id, display_name, event),
    )


# Claim the room's announcement if none was made within the window, and take every
# pending change with it. The upsert's row lock settles concurrent claimers: the second
# one re-reads `announced_at` after the first commits and finds the window closed.
CLAIM = """
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
)
SELECT EXISTS (SELECT 1 FROM claimed) AS claimed,
       coalesce((SELECT json_agg(json_build_object('user_id', user_id,
                                                   'display_name', display_name,
                                                   'event', event) ORDER BY at)
                 FROM taken), '[]') AS changes
"""


def claim(conn: Conn, *, room_id: UUID, window_seconds: float) -> list[PresenceChange] | None:
    """The pending changes if this caller may announce now; None if the room announced
    within the window."""
    row = conn.execute(CLAIM, {"room_id": room_id, "window": window_seconds}).fetchone()
    assert row is not None
    if not row["claimed"]:
        return None
    return [PresenceChange(c["user_id"], c["display_name"], c["event"]) for c in row["changes"]]


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
