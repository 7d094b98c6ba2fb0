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
# within the window, and take every pending change that is due with it (and this one);
# otherwise leave this change pending. The upsert's row lock settles concurrent claimers:
# the second re-reads `announced_at` after the first commits and finds the window closed.
# When claimed, the room's connections come back too, to announce to.
#
# Departures wait out a grace period (issue 16): a departure is recorded due `grace`
# seconds later, and a join by the same person before then deletes it and is itself not
# news (a reload, a tunnel, a 20-second signal loss: they never "left"). A due departure
# of someone who is in the room again by then is dropped, not announced.
CLAIM = f"""
WITH
returned AS (
    DELETE FROM presence_changes c
    WHERE %(event)s::text = 'user_joined' AND c.room_id = %(room_id)s
      AND c.user_id = %(user)s AND c.event = 'user_left' AND c.due_at > clock_timestamp()
    RETURNING c.user_id
),
delayed_departure AS (
    INSERT INTO presence_changes (room_id, user_id, display_name, event, due_at)
    SELECT %(room_id)s, %(user)s, %(name)s, 'user_left',
           clock_timestamp() + make_interval(secs => %(grace)s)
    WHERE %(event)s::text = 'user_left' AND %(grace)s > 0
),
current AS (
    SELECT %(user)s::text AS user_id, %(name)s::text AS display_name, %(event)s::text AS event
    WHERE %(user)s::text IS NOT NULL
      AND NOT (%(event)s::text = 'user_left' AND %(grace)s > 0)
      AND NOT EXISTS (SELECT 1 FROM returned)
),
claimed AS (
    INSERT INTO room_presence AS p (room_id, announced_at)
    SELECT %(room_id)s, clock_timestamp()
    WHERE EXISTS (SELECT 1 FROM current)
       OR EXISTS (SELECT 1 FROM presence_changes c
                  WHERE c.room_id = %(room_id)s AND c.due_at <= clock_timestamp())
    ON CONFLICT (room_id) DO UPDATE
       SET announced_at = clock_timestamp()
     WHERE p.announced_at <= clock_timestamp() - make_interval(secs => %(window)s)
    RETURNING room_id
),
taken AS (
    DELETE FROM presence_changes c
    WHERE c.room_id = %(room_id)s AND c.due_at <= clock_timestamp()
      AND EXISTS (SELECT 1 FROM claimed)
    RETURNING c.user_id, c.display_name, c.event, c.at
),
left_pending AS (
    INSERT INTO presence_changes (room_id, user_id, display_name, event)
    SELECT %(room_id)s, user_id, display_name, event FROM current
    WHERE NOT EXISTS (SELECT 1 FROM claimed)
),
announced AS (
    SELECT user_id, display_name, event, at FROM taken t
    WHERE NOT (t.event = 'user_left' AND EXISTS (
        SELECT 1 FROM connections k WHERE k.room_id = %(room_id)s AND k.user_id = t.user_id))
    UNION ALL
    SELECT user_id, display_name, event, clock_timestamp() FROM current
    WHERE EXISTS (SELECT 1 FROM claimed)
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
    conn: Conn,
    *,
    room_id: UUID,
    window_seconds: float,
    change: PresenceChange | None = None,
    leave_grace_seconds: float = 0.0,
) -> Claim:
    row = conn.execute(
        CLAIM,
        {
            "room_id": room_id,
            "window": window_seconds,
            "grace": leave_grace_seconds,
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
    """Rooms with changes due to announce (a departure after its grace) whose window
    has passed."""
    rows = conn.execute(
        """
        SELECT DISTINCT c.room_id
        FROM presence_changes c
        LEFT JOIN room_presence p ON p.room_id = c.room_id
        WHERE c.due_at <= clock_timestamp()
          AND coalesce(p.announced_at, '-infinity')
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
