"""SQL for attachment records."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import psycopg

Conn = psycopg.Connection[dict[str, Any]]

FILE_COLUMNS = (
    "file_id, room_id, object_key, filename, content_type, size_bytes, uploaded_by, created_at"
)


def insert(
    conn: Conn,
    *,
    file_id: UUID,
    room_id: UUID,
    object_key: str,
    filename: str,
    content_type: str,
    size_bytes: int,
    uploaded_by: str,
) -> None:
    conn.execute(
        "INSERT INTO files (file_id, room_id, object_key, filename, content_type, size_bytes, uploaded_by) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s)",
        (file_id, room_id, object_key, filename, content_type, size_bytes, uploaded_by),
    )


def get(conn: Conn, *, room_id: UUID, file_id: UUID) -> dict[str, Any] | None:
    return conn.execute(
        f"SELECT {FILE_COLUMNS} FROM files WHERE file_id = %s AND room_id = %s",
        (file_id, room_id),
    ).fetchone()


def of_room(conn: Conn, room_id: UUID) -> list[dict[str, Any]]:
    return conn.execute(
        f"SELECT {FILE_COLUMNS} FROM files WHERE room_id = %s ORDER BY created_at", (room_id,)
    ).fetchall()
