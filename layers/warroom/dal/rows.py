"""Row → model mapping shared by the data access modules: `Message` is built here and
nowhere else."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from warroom.models import FileInfo, Message, MessageType, Reaction

# The columns every message read returns, under these names; write statements that
# return a message use the same names so that one function builds it.
MESSAGE_COLUMNS = """
m.message_id, m.room_id, m.sender_id,
coalesce(u.display_name, m.sender_id) AS sender_display_name,
m.content, m.content_json, m.message_type, m.mentions, m.file_id,
m.created_at, m.edited_at, m.deleted_at, m.sequence_number, m.change_seq, m.client_msg_id,
m.reactions_version, m.reactions,
f.filename AS file_name, f.content_type AS file_content_type, f.size_bytes AS file_size
"""

MESSAGE_FROM = """
FROM messages m
LEFT JOIN tr_users u ON u.user_id = m.sender_id
LEFT JOIN files f ON f.file_id = m.file_id
"""

MESSAGE_SELECT = f"SELECT {MESSAGE_COLUMNS} {MESSAGE_FROM}"


def message_select(content_chars: int | None = None) -> str:
    """MESSAGE_SELECT, optionally reading only the first `content_chars` characters of a
    text message's content (the report shows no more, and so reads no more)."""
    if content_chars is None:
        return MESSAGE_SELECT
    columns = MESSAGE_COLUMNS.replace(
        "m.content, m.content_json",
        f"left(m.content, {int(content_chars)}) AS content, m.content_json",
    )
    assert columns != MESSAGE_COLUMNS
    return f"SELECT {columns} {MESSAGE_FROM}"


def file_url(room_id: UUID, file_id: UUID) -> str:
    """The API path that hands out a short-lived download URL for an attachment."""
    return f"/api/rooms/{room_id}/files/{file_id}"


def reactions_from(value: Any) -> list[Reaction]:
    """The row's reactions ([{emoji, user_ids}] in first-reaction order) as totals."""
    return [
        Reaction(emoji=r["emoji"], count=len(r["user_ids"]), user_ids=list(r["user_ids"]))
        for r in value or []
    ]


def message_from_row(row: dict[str, Any]) -> Message:
    """Readers never see what a deleted message said: its content, mentions, file and
    reactions are withheld (they stay in the table and the audit trail)."""
    deleted = row["deleted_at"] is not None
    message_type = MessageType(row["message_type"])
    content: Any = row["content_json"] if row["content_json"] is not None else row["content"]
    file_id = row["file_id"]
    file = None
    if file_id is not None and not deleted and row.get("file_name") is not None:
        file = FileInfo(
            file_id=file_id,
            filename=row["file_name"],
            content_type=row["file_content_type"],
            size_bytes=row["file_size"],
        )
    return Message(
        message_id=row["message_id"],
        room_id=row["room_id"],
        sender_id=row["sender_id"],
        sender_display_name=row["sender_display_name"],
        content=None if deleted else content,
        message_type=message_type,
        mentions=[] if deleted else list(row["mentions"] or []),
        file_id=None if deleted else file_id,
        file_url=None if deleted or file_id is None else file_url(row["room_id"], file_id),
        file=file,
        created_at=row["created_at"],
        edited_at=row["edited_at"],
        deleted_at=row["deleted_at"],
        sequence_number=row["sequence_number"],
        change_seq=row.get("change_seq") or 0,
        reactions=[] if deleted else reactions_from(row.get("reactions")),
        reactions_version=row.get("reactions_version") or 0,
        client_msg_id=row.get("client_msg_id"),
    )
