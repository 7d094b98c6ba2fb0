"""SQL for messages, reactions and the audit trail."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

import psycopg
from psycopg.types.json import Jsonb

from warroom.dal.rows import MESSAGE_SELECT, group_reactions, message_from_row
from warroom.models import EDIT_WINDOW_SECONDS, Message, Reaction

Conn = psycopg.Connection[dict[str, Any]]


class DuplicateClientMessage(Exception):
    """The (room, sender, client_msg_id) is already stored: the send is a resend."""


def send_context(
    conn: Conn,
    *,
    room_id: UUID,
    sender_id: str,
    client_msg_id: UUID | None,
    mentions: Sequence[str],
    file_id: UUID | None,
) -> dict[str, Any] | None:
    """Everything a send must check, read in one round trip and without any lock."""
    return conn.execute(
        """
        SELECT r.status, rm.role,
               coalesce(u.display_name, %(sender)s) AS sender_display_name,
               (SELECT coalesce(array_agg(x.user_id), '{}') FROM room_members x
                 WHERE x.room_id = r.room_id AND x.user_id = ANY(%(mentions)s)) AS member_mentions,
               (SELECT m.message_id FROM messages m
                 WHERE m.room_id = r.room_id AND m.sender_id = %(sender)s
                   AND m.client_msg_id = %(client_msg_id)s) AS existing_message_id,
               f.file_id AS file_id, f.filename AS file_name,
               f.content_type AS file_content_type, f.size_bytes AS file_size
        FROM incident_rooms r
        LEFT JOIN room_members rm ON rm.room_id = r.room_id AND rm.user_id = %(sender)s
        LEFT JOIN tr_users u ON u.user_id = %(sender)s
        LEFT JOIN files f ON f.file_id = %(file_id)s AND f.room_id = r.room_id
        WHERE r.room_id = %(room_id)s
        """,
        {
            "room_id": room_id,
            "sender": sender_id,
            "mentions": list(mentions),
            "client_msg_id": client_msg_id,
            "file_id": file_id,
        },
    ).fetchone()


# The number is taken by the UPDATE of the room row (a row lock held until commit) and
# used by the INSERT in the same statement. The statement runs on its own (autocommit),
# so a failed insert — a duplicate client_msg_id included — rolls back the number too.
# The role is re-checked under the lock, so a member demoted a moment ago cannot slip in.
INSERT_MESSAGE = """
WITH seq AS (
    UPDATE incident_rooms
       SET last_seq = last_seq + 1,
           last_activity_at = greatest(clock_timestamp(), last_activity_at + interval '1 microsecond')
     WHERE room_id = %(room_id)s
       AND (%(system)s OR EXISTS (
            SELECT 1 FROM room_members rm
             WHERE rm.room_id = %(room_id)s AND rm.user_id = %(sender)s
               AND rm.role IN ('OWNER', 'EDITOR')))
    RETURNING last_seq, last_activity_at
)
INSERT INTO messages (room_id, sequence_number, sender_id, client_msg_id, message_type,
                      content, content_json, mentions, file_id, created_at)
SELECT %(room_id)s, seq.last_seq, %(sender)s, %(client_msg_id)s, %(message_type)s,
       %(content)s, %(content_json)s, %(mentions)s, %(file_id)s, seq.last_activity_at
FROM seq
RETURNING message_id, room_id, sender_id, client_msg_id, message_type, content, content_json,
          mentions, file_id, created_at, edited_at, deleted_at, sequence_number
"""


def insert_message(
    conn: Conn,
    *,
    room_id: UUID,
    sender_id: str,
    client_msg_id: UUID | None,
    message_type: str,
    content: str | None,
    content_json: dict[str, Any] | None,
    mentions: Sequence[str],
    file_id: UUID | None,
    system: bool = False,
) -> dict[str, Any] | None:
    """Assign the room's next sequence number and insert, atomically. None when the
    sender may no longer write (or the room vanished)."""
    params = {
        "room_id": room_id,
        "sender": sender_id,
        "client_msg_id": client_msg_id,
        "message_type": message_type,
        "content": content,
        "content_json": Jsonb(content_json) if content_json is not None else None,
        "mentions": list(mentions),
        "file_id": file_id,
        "system": system,
    }
    try:
        return conn.execute(INSERT_MESSAGE, params).fetchone()
    except psycopg.errors.UniqueViolation as exc:
        if exc.diag.constraint_name == "messages_idempotency":
            raise DuplicateClientMessage(str(client_msg_id)) from exc
        raise


def find_by_client_msg_id(
    conn: Conn, *, room_id: UUID, sender_id: str, client_msg_id: UUID
) -> Message | None:
    row = conn.execute(
        MESSAGE_SELECT + " WHERE m.room_id = %s AND m.sender_id = %s AND m.client_msg_id = %s",
        (room_id, sender_id, client_msg_id),
    ).fetchone()
    if row is None:
        return None
    return message_from_row(
        row, reactions_for(conn, [row["message_id"]]).get(row["message_id"], [])
    )


def get_message(conn: Conn, message_id: UUID) -> Message | None:
    row = conn.execute(MESSAGE_SELECT + " WHERE m.message_id = %s", (message_id,)).fetchone()
    if row is None:
        return None
    return message_from_row(row, reactions_for(conn, [message_id]).get(message_id, []))


def lock_for_change(conn: Conn, *, message_id: UUID, user_id: str) -> dict[str, Any] | None:
    """The message, the actor's role in its room and admin flag, locked for the change."""
    return conn.execute(
        """
        SELECT m.message_id, m.room_id, m.sender_id, m.message_type, m.content,
               m.content_json, m.mentions, m.edited_at, m.deleted_at,
               m.created_at > clock_timestamp() - make_interval(secs => %(window)s) AS within_window,
               rm.role, coalesce(u.is_admin, false) AS is_admin
        FROM messages m
        LEFT JOIN room_members rm ON rm.room_id = m.room_id AND rm.user_id = %(user)s
        LEFT JOIN tr_users u ON u.user_id = %(user)s
        WHERE m.message_id = %(message_id)s
        FOR UPDATE OF m
        """,
        {"message_id": message_id, "user": user_id, "window": EDIT_WINDOW_SECONDS},
    ).fetchone()


def append_audit(conn: Conn, *, prior: dict[str, Any], action: str, actor_id: str) -> None:
    conn.execute(
        """
        INSERT INTO message_audit (message_id, room_id, action, actor_id, prior_content,
                                   prior_content_json, prior_mentions, prior_edited_at)
        VALUES (%s, %s, %s, %s, %s, %s, %s, %s)
        """,
        (
            prior["message_id"],
            prior["room_id"],
            action,
            actor_id,
            prior["content"],
            Jsonb(prior["content_json"]) if prior["content_json"] is not None else None,
            list(prior["mentions"] or []),
            prior["edited_at"],
        ),
    )


def update_content(conn: Conn, *, message_id: UUID, content: str, mentions: Sequence[str]) -> None:
    conn.execute(
        "UPDATE messages SET content = %s, mentions = %s, edited_at = clock_timestamp() "
        "WHERE message_id = %s",
        (content, list(mentions), message_id),
    )


def mark_deleted(conn: Conn, *, message_id: UUID) -> None:
    conn.execute(
        "UPDATE messages SET deleted_at = clock_timestamp() WHERE message_id = %s AND deleted_at IS NULL",
        (message_id,),
    )


def reaction_target(conn: Conn, *, message_id: UUID, user_id: str) -> dict[str, Any] | None:
    """Locks the message so that concurrent reactions are counted one after another and
    the last one's totals are the final ones."""
    return conn.execute(
        """
        SELECT m.room_id, m.deleted_at, rm.role
        FROM messages m
        LEFT JOIN room_members rm ON rm.room_id = m.room_id AND rm.user_id = %s
        WHERE m.message_id = %s
        FOR UPDATE OF m
        """,
        (user_id, message_id),
    ).fetchone()


def add_reaction(conn: Conn, *, message_id: UUID, user_id: str, emoji: str) -> None:
    conn.execute(
        "INSERT INTO message_reactions (message_id, user_id, emoji) VALUES (%s, %s, %s) "
        "ON CONFLICT DO NOTHING",
        (message_id, user_id, emoji),
    )


def remove_reaction(conn: Conn, *, message_id: UUID, user_id: str, emoji: str) -> None:
    conn.execute(
        "DELETE FROM message_reactions WHERE message_id = %s AND user_id = %s AND emoji = %s",
        (message_id, user_id, emoji),
    )


def bump_reactions_version(conn: Conn, message_id: UUID) -> int:
    row = conn.execute(
        "UPDATE messages SET reactions_version = reactions_version + 1 WHERE message_id = %s "
        "RETURNING reactions_version",
        (message_id,),
    ).fetchone()
    assert row is not None
    return int(row["reactions_version"])


def reactions_for(conn: Conn, message_ids: Sequence[UUID]) -> dict[UUID, list[Reaction]]:
    if not message_ids:
        return {}
    rows = conn.execute(
        """
        SELECT message_id, emoji, count(*)::int AS count,
               array_agg(user_id ORDER BY created_at) AS user_ids
        FROM message_reactions
        WHERE message_id = ANY(%s)
        GROUP BY message_id, emoji
        ORDER BY message_id, min(created_at)
        """,
        (list(message_ids),),
    ).fetchall()
    return group_reactions(rows)


def _with_reactions(conn: Conn, rows: list[dict[str, Any]]) -> list[Message]:
    reactions = reactions_for(conn, [r["message_id"] for r in rows if r["deleted_at"] is None])
    return [message_from_row(r, reactions.get(r["message_id"], [])) for r in rows]


def page_before(
    conn: Conn, *, room_id: UUID, limit: int, before: datetime | None, before_seq: int | None
) -> list[Message]:
    """Newest first, `limit` rows (callers ask for one extra to learn has_more)."""
    clauses = ["m.room_id = %(room_id)s"]
    if before is not None:
        clauses.append("m.created_at < %(before)s")
    if before_seq is not None:
        clauses.append("m.sequence_number < %(before_seq)s")
    rows = conn.execute(
        MESSAGE_SELECT
        + " WHERE "
        + " AND ".join(clauses)
        + " ORDER BY m.sequence_number DESC LIMIT %(limit)s",
        {"room_id": room_id, "before": before, "before_seq": before_seq, "limit": limit},
    ).fetchall()
    return _with_reactions(conn, rows)


def page_after(conn: Conn, *, room_id: UUID, after_seq: int, limit: int) -> list[Message]:
    """Oldest first, for catch-up after a reconnect."""
    rows = conn.execute(
        MESSAGE_SELECT
        + " WHERE m.room_id = %s AND m.sequence_number > %s ORDER BY m.sequence_number LIMIT %s",
        (room_id, after_seq, limit),
    ).fetchall()
    return _with_reactions(conn, rows)


def search(
    conn: Conn,
    *,
    user_id: str,
    english: str | None,
    cjk_query: str | None,
    room_id: UUID | None,
    limit: int,
) -> list[tuple[Message, str]]:
    """Full-text search over the rooms the user is a member of, and no others."""
    conditions = []
    if english:
        conditions.append("websearch_to_tsquery('english', %(english)s)")
    if cjk_query:
        conditions.append("%(cjk)s::tsquery")
    tsquery = " && ".join(conditions)
    doc = (
        "replace(replace(coalesce(m.content, m.content_json::text, ''), chr(57344), ''), "
        "chr(57345), '')"
    )
    headline = (
        f"ts_headline('english', {doc}, websearch_to_tsquery('english', %(english)s), "
        "'HighlightAll=true, StartSel=' || chr(57344) || ', StopSel=' || chr(57345))"
        if english
        else doc
    )
    room_filter = "AND m.room_id = %(room_id)s" if room_id is not None else ""
    rows = conn.execute(
        f"""
        WITH hits AS (
            SELECT m.message_id
            FROM messages m
            JOIN room_members rm ON rm.room_id = m.room_id AND rm.user_id = %(user)s
            WHERE m.search_document @@ ({tsquery}) AND m.deleted_at IS NULL {room_filter}
            ORDER BY m.created_at DESC
            LIMIT %(limit)s
        )
        SELECT q.*, {headline} AS highlight
        FROM ({MESSAGE_SELECT} WHERE m.message_id IN (SELECT message_id FROM hits)) q
        JOIN messages m ON m.message_id = q.message_id
        ORDER BY q.created_at DESC
        """,
        {
            "user": user_id,
            "english": english,
            "cjk": cjk_query,
            "room_id": room_id,
            "limit": limit,
        },
    ).fetchall()
    messages = _with_reactions(conn, rows)
    return [(msg, row["highlight"]) for msg, row in zip(messages, rows, strict=True)]


def mentioning(conn: Conn, *, user_id: str, limit: int) -> list[Message]:
    rows = conn.execute(
        MESSAGE_SELECT
        + """
        JOIN room_members rm ON rm.room_id = m.room_id AND rm.user_id = %(user)s
        WHERE m.mentions @> ARRAY[%(user)s]::text[] AND m.deleted_at IS NULL
        ORDER BY m.created_at DESC LIMIT %(limit)s
        """,
        {"user": user_id, "limit": limit},
    ).fetchall()
    return _with_reactions(conn, rows)


def incident_data(
    conn: Conn,
    *,
    room_id: UUID,
    field: str,
    minimum: float | None,
    maximum: float | None,
    limit: int,
) -> list[Message]:
    rows = conn.execute(
        MESSAGE_SELECT
        + """
        WHERE m.room_id = %(room_id)s AND m.message_type = 'incident_data' AND m.deleted_at IS NULL
          AND m.content_json -> 'readings' ? %(field)s
          AND (%(min)s::float8 IS NULL OR (m.content_json -> 'readings' ->> %(field)s)::float8 >= %(min)s)
          AND (%(max)s::float8 IS NULL OR (m.content_json -> 'readings' ->> %(field)s)::float8 <= %(max)s)
        ORDER BY m.sequence_number
        LIMIT %(limit)s
        """,
        {"room_id": room_id, "field": field, "min": minimum, "max": maximum, "limit": limit},
    ).fetchall()
    return _with_reactions(conn, rows)
