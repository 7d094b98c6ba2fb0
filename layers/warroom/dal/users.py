"""SQL for the user directory (`tr_users`)."""

from __future__ import annotations

from typing import Any

import psycopg

from warroom.models import User

Conn = psycopg.Connection[dict[str, Any]]

USER_COLUMNS = "user_id, display_name, department, job_title, is_admin"


def upsert(
    conn: Conn,
    *,
    user_id: str,
    display_name: str,
    department: str | None = None,
    job_title: str | None = None,
    is_admin: bool | None = None,
) -> User:
    row = conn.execute(
        f"""
        INSERT INTO tr_users (user_id, display_name, department, job_title, is_admin)
        VALUES (%(user_id)s, %(display_name)s, %(department)s, %(job_title)s, coalesce(%(is_admin)s, false))
        ON CONFLICT (user_id) DO UPDATE
           SET display_name = EXCLUDED.display_name,
               department = coalesce(EXCLUDED.department, tr_users.department),
               job_title = coalesce(EXCLUDED.job_title, tr_users.job_title),
               is_admin = coalesce(%(is_admin)s, tr_users.is_admin),
               updated_at = now()
        RETURNING {USER_COLUMNS}
        """,
        {
            "user_id": user_id,
            "display_name": display_name,
            "department": department,
            "job_title": job_title,
            "is_admin": is_admin,
        },
    ).fetchone()
    assert row is not None
    return User.model_validate(row)


def get(conn: Conn, user_id: str) -> User | None:
    row = conn.execute(
        f"SELECT {USER_COLUMNS} FROM tr_users WHERE user_id = %s", (user_id,)
    ).fetchone()
    return None if row is None else User.model_validate(row)


def search(conn: Conn, *, query: str, limit: int) -> list[User]:
    """Prefix match on e-mail or display name (both indexed with text_pattern_ops)."""
    pattern = query.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    rows = conn.execute(
        f"""
        SELECT {USER_COLUMNS} FROM tr_users
        WHERE is_active AND (user_id LIKE %(p)s OR lower(display_name) LIKE %(p)s)
        ORDER BY display_name LIMIT %(limit)s
        """,
        {"p": pattern, "limit": limit},
    ).fetchall()
    return [User.model_validate(r) for r in rows]


def is_active(conn: Conn, user_id: str) -> bool:
    """False only for a user the directory marks inactive; someone not yet in the
    directory (a first sign-in before the trigger ran) is not refused for it."""
    row = conn.execute("SELECT is_active FROM tr_users WHERE user_id = %s", (user_id,)).fetchone()
    return row is None or bool(row["is_active"])
