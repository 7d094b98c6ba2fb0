"""SQL for Web Push subscriptions, on-call rotations and pages (issue 19)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import psycopg
from pydantic import BaseModel

Conn = psycopg.Connection[dict[str, Any]]

MAX_SUBSCRIPTIONS_PER_USER = 10


class StoredSubscription(BaseModel):
    subscription_id: UUID
    user_id: str
    endpoint: str
    p256dh: str
    auth: str


class OnCall(BaseModel):
    line_id: UUID
    rotation: list[str]
    escalate_after_seconds: int


class Page(BaseModel):
    room_id: UUID
    line_id: UUID
    targets: list[str]
    step: int
    escalate_after_seconds: int
    due_at: datetime | None
    taken_by: str | None
    taken_at: datetime | None
    due_now: bool = False


# Subscriptions


def save_subscription(conn: Conn, *, user_id: str, endpoint: str, p256dh: str, auth: str) -> bool:
    """Store (or move to this user, with fresh keys) a device's subscription, then keep only
    the user's newest ten. True when it is new to this user."""
    row = conn.execute(
        """
        INSERT INTO push_subscriptions (user_id, endpoint, p256dh, auth)
        VALUES (%s, %s, %s, %s)
        ON CONFLICT (endpoint) DO UPDATE
           SET user_id = EXCLUDED.user_id, p256dh = EXCLUDED.p256dh, auth = EXCLUDED.auth,
               created_at = clock_timestamp()
        RETURNING (xmax = 0) AS inserted
        """,
        (user_id, endpoint, p256dh, auth),
    ).fetchone()
    conn.execute(
        """
        DELETE FROM push_subscriptions
        WHERE user_id = %(user)s AND subscription_id NOT IN (
            SELECT subscription_id FROM push_subscriptions WHERE user_id = %(user)s
            ORDER BY created_at DESC, subscription_id DESC LIMIT %(keep)s)
        """,
        {"user": user_id, "keep": MAX_SUBSCRIPTIONS_PER_USER},
    )
    return bool(row and row["inserted"])


def delete_subscription(conn: Conn, *, user_id: str, endpoint: str) -> bool:
    found = conn.execute(
        "DELETE FROM push_subscriptions WHERE user_id = %s AND endpoint = %s RETURNING 1",
        (user_id, endpoint),
    ).fetchone()
    return found is not None


def forget_endpoint(conn: Conn, *, endpoint: str) -> None:
    """The push service said the subscription is gone (404/410)."""
    conn.execute("DELETE FROM push_subscriptions WHERE endpoint = %s", (endpoint,))


def subscriptions_of(conn: Conn, user_ids: list[str]) -> list[StoredSubscription]:
    rows = conn.execute(
        "SELECT subscription_id, user_id, endpoint, p256dh, auth FROM push_subscriptions "
        "WHERE user_id = ANY(%s) ORDER BY user_id, created_at",
        (user_ids,),
    ).fetchall()
    return [StoredSubscription.model_validate(r) for r in rows]


def endpoints_of(conn: Conn, user_id: str) -> list[str]:
    rows = conn.execute(
        "SELECT endpoint FROM push_subscriptions WHERE user_id = %s ORDER BY created_at",
        (user_id,),
    ).fetchall()
    return [r["endpoint"] for r in rows]


# On call


def set_on_call(
    conn: Conn, *, line_id: UUID, rotation: list[str], escalate_after_seconds: int, by: str
) -> OnCall:
    row = conn.execute(
        """
        INSERT INTO line_on_call (line_id, rotation, escalate_after_seconds, updated_by)
        VALUES (%s, %s, %s, %s)
        ON CONFLICT (line_id) DO UPDATE
           SET rotation = EXCLUDED.rotation,
               escalate_after_seconds = EXCLUDED.escalate_after_seconds,
               updated_by = EXCLUDED.updated_by, updated_at = now()
        RETURNING line_id, rotation, escalate_after_seconds
        """,
        (line_id, rotation, escalate_after_seconds, by),
    ).fetchone()
    assert row is not None
    return OnCall.model_validate(row)


def on_call(conn: Conn, line_id: UUID) -> OnCall | None:
    row = conn.execute(
        "SELECT line_id, rotation, escalate_after_seconds FROM line_on_call WHERE line_id = %s",
        (line_id,),
    ).fetchone()
    return None if row is None else OnCall.model_validate(row)


def existing_users(conn: Conn, user_ids: list[str]) -> set[str]:
    rows = conn.execute(
        "SELECT user_id FROM tr_users WHERE user_id = ANY(%s)", (user_ids,)
    ).fetchall()
    return {r["user_id"] for r in rows}


# Pages

PAGE_COLUMNS = (
    "room_id, line_id, targets, step, escalate_after_seconds, due_at, taken_by, taken_at, "
    "(due_at IS NOT NULL AND due_at <= clock_timestamp()) AS due_now"
)


def insert_page(
    conn: Conn, *, room_id: UUID, line_id: UUID, targets: list[str], escalate_after_seconds: int
) -> Page:
    row = conn.execute(
        f"""
        INSERT INTO pages (room_id, line_id, targets, step, escalate_after_seconds, due_at)
        VALUES (%s, %s, %s, 0, %s, clock_timestamp() + make_interval(secs => %s))
        RETURNING {PAGE_COLUMNS}
        """,
        (room_id, line_id, targets, escalate_after_seconds, escalate_after_seconds),
    ).fetchone()
    assert row is not None
    return Page.model_validate(row)


def page(conn: Conn, room_id: UUID, *, lock: bool = False) -> Page | None:
    row = conn.execute(
        f"SELECT {PAGE_COLUMNS} FROM pages WHERE room_id = %s" + (" FOR UPDATE" if lock else ""),
        (room_id,),
    ).fetchone()
    return None if row is None else Page.model_validate(row)


def advance_page(conn: Conn, *, room_id: UUID, step: int, last: bool) -> Page:
    """Move to `step`; the next one is due after the delay unless this was the last."""
    row = conn.execute(
        f"""
        UPDATE pages SET step = %(step)s,
               due_at = CASE WHEN %(last)s THEN NULL
                             ELSE clock_timestamp() + make_interval(secs => escalate_after_seconds)
                        END
        WHERE room_id = %(room)s RETURNING {PAGE_COLUMNS}
        """,
        {"room": room_id, "step": step, "last": last},
    ).fetchone()
    assert row is not None
    return Page.model_validate(row)


def take_page(conn: Conn, *, room_id: UUID, user_id: str) -> None:
    conn.execute(
        "UPDATE pages SET taken_by = %s, taken_at = clock_timestamp(), due_at = NULL "
        "WHERE room_id = %s AND taken_by IS NULL",
        (user_id, room_id),
    )


def seconds_until(conn: Conn, when: datetime) -> float:
    """Measured by the database's clock, the one `due_at` was set by."""
    row = conn.execute(
        "SELECT extract(epoch FROM %s - clock_timestamp())::float AS s", (when,)
    ).fetchone()
    assert row is not None
    return float(row["s"])


def pending_pages(conn: Conn) -> list[tuple[UUID, float]]:
    """Untaken pages with a next step: (room, seconds until it is due)."""
    rows = conn.execute(
        "SELECT room_id, extract(epoch FROM due_at - clock_timestamp())::float AS s "
        "FROM pages WHERE due_at IS NOT NULL AND taken_by IS NULL"
    ).fetchall()
    return [(UUID(str(r["room_id"])), float(r["s"])) for r in rows]
