"""The message service: send, edit, delete, react, history, search, mentions, readings.

Every operation is one short transaction on a connection taken and given back for it
(`Database.run`). Sends are idempotent on (room, sender, client_msg_id).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from pydantic import ValidationError

from warroom.dal import messages as dal
from warroom.dal import rooms as rooms_dal
from warroom.dal.messages import Conn, DuplicateClientMessage
from warroom.dal.rooms import access as room_access
from warroom.dal.rows import file_url
from warroom.db import Database, get_database
from warroom.errors import (
    ConflictError,
    EditWindowExpired,
    ForbiddenError,
    NotFoundError,
    PayloadTooLarge,
    ValidationFailed,
)
from warroom.logic import search_text
from warroom.logic.access import (
    require_member,
    require_message_writer,
    require_room,
    require_writer,
)
from warroom.models import (
    CLIENT_MESSAGE_TYPES,
    HISTORY_DEFAULT_LIMIT,
    HISTORY_MAX_LIMIT,
    MAX_CONTENT_BYTES,
    MAX_MENTIONS,
    FileInfo,
    HistoryPage,
    IncidentData,
    Message,
    MessageDraft,
    MessageType,
    ReactionChange,
    Role,
    SearchHit,
    SendResult,
    content_bytes,
    normalize_user_id,
)

MAX_EMOJI_CHARS = 32


@dataclass(frozen=True)
class _Checked:
    message_type: MessageType
    content: str | None
    content_json: dict[str, Any] | None
    mentions: list[str]
    file_id: UUID | None


def _db(db: Database | None) -> Database:
    return db if db is not None else get_database()


def parse_draft(payload: dict[str, Any]) -> MessageDraft:
    try:
        return MessageDraft.model_validate(payload)
    except ValidationError as exc:
        raise ValidationFailed(_first_error(exc)) from exc


def _first_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err["loc"]) or "input"
    return f"{where}: {err['msg']}"


def _normalize_mentions(mentions: list[str]) -> list[str]:
    if len(mentions) > MAX_MENTIONS:
        raise ValidationFailed(f"a message can mention at most {MAX_MENTIONS} people")
    result: list[str] = []
    for raw in mentions:
        try:
            user_id = normalize_user_id(raw)
        except ValueError as exc:
            raise ValidationFailed(f"mention {exc!s}") from exc
        if user_id not in result:
            result.append(user_id)
    return result


def _text_content(content: Any, *, required: bool) -> str | None:
    if content is None or content == "":
        if required:
            raise ValidationFailed("a text message needs some content")
        return None
    if not isinstance(content, str):
        raise ValidationFailed("content must be a string for this message type")
    if content_bytes(content) > MAX_CONTENT_BYTES:
        raise PayloadTooLarge(f"content is larger than the {MAX_CONTENT_BYTES // 1024} KB limit")
    if "\x00" in content:
        raise ValidationFailed("content must not contain NUL characters")
    if required and not content.strip():
        raise ValidationFailed("a text message needs some content")
    return content


def check_draft(draft: MessageDraft) -> _Checked:
    """Shape rules that need no database. Outcomes (documented in docs/protocol.md):
    unknown type → VALIDATION; over 64 KB → PAYLOAD_TOO_LARGE; malformed readings →
    VALIDATION naming the field; image/file without file_id → VALIDATION."""
    try:
        message_type = MessageType(draft.message_type)
    except ValueError as exc:
        raise ValidationFailed(
            f"unknown message_type '{draft.message_type}'; expected one of "
            + ", ".join(sorted(t.value for t in CLIENT_MESSAGE_TYPES))
        ) from exc
    if message_type not in CLIENT_MESSAGE_TYPES:
        raise ValidationFailed("system messages cannot be sent by clients")
    mentions = _normalize_mentions(draft.mentions)
    content: str | None = None
    content_json: dict[str, Any] | None = None
    if message_type is MessageType.INCIDENT_DATA:
        if not isinstance(draft.content, dict):
            raise ValidationFailed("incident_data content must be a JSON object with readings")
        if content_bytes(draft.content) > MAX_CONTENT_BYTES:
            raise PayloadTooLarge(
                f"incident data is larger than the {MAX_CONTENT_BYTES // 1024} KB limit"
            )
        try:
            content_json = IncidentData.model_validate(draft.content).model_dump(exclude_none=True)
        except ValidationError as exc:
            raise ValidationFailed("malformed incident data: " + _first_error(exc)) from exc
    elif message_type in (MessageType.IMAGE_REF, MessageType.FILE_REF):
        if draft.file_id is None:
            raise ValidationFailed(f"{message_type.value} needs a file_id of an uploaded file")
        content = _text_content(draft.content, required=False)
    else:
        content = _text_content(draft.content, required=True)
    if message_type not in (MessageType.IMAGE_REF, MessageType.FILE_REF) and draft.file_id:
        raise ValidationFailed("only image_ref and file_ref messages carry a file_id")
    return _Checked(message_type, content, content_json, mentions, draft.file_id)


def send_message(
    *, room_id: UUID, sender_id: str, draft: MessageDraft, db: Database | None = None
) -> SendResult:
    checked = check_draft(draft)
    return _db(db).run(lambda conn: _send(conn, room_id, sender_id, draft.client_msg_id, checked))


def _send(
    conn: Conn, room_id: UUID, sender_id: str, client_msg_id: UUID, checked: _Checked
) -> SendResult:
    ctx = dal.send_context(
        conn,
        room_id=room_id,
        sender_id=sender_id,
        client_msg_id=client_msg_id,
        mentions=checked.mentions,
        file_id=checked.file_id,
    )
    require_writer(ctx, room_id)
    assert ctx is not None
    if ctx["existing_message_id"] is not None:
        return _resend(conn, room_id, sender_id, client_msg_id)
    strangers = sorted(set(checked.mentions) - set(ctx["member_mentions"]))
    if strangers:
        raise ValidationFailed(
            "only members of this room can be mentioned: " + ", ".join(strangers),
            non_members=strangers,
        )
    file = None
    if checked.file_id is not None:
        if ctx["file_id"] is None:
            raise NotFoundError("the attached file does not exist in this room")
        if checked.message_type is MessageType.IMAGE_REF and not str(
            ctx["file_content_type"]
        ).startswith("image/"):
            raise ValidationFailed("image_ref needs an image file")
        file = FileInfo(
            file_id=ctx["file_id"],
            filename=ctx["file_name"],
            content_type=ctx["file_content_type"],
            size_bytes=ctx["file_size"],
        )
    try:
        row = dal.insert_message(
            conn,
            room_id=room_id,
            sender_id=sender_id,
            client_msg_id=client_msg_id,
            message_type=checked.message_type.value,
            content=checked.content,
            content_json=checked.content_json,
            mentions=checked.mentions,
            file_id=checked.file_id,
        )
    except DuplicateClientMessage:
        return _resend(conn, room_id, sender_id, client_msg_id)
    if row is None:
        # Membership changed between the check and the insert: diagnose again.
        require_writer(room_access(conn, room_id=room_id, user_id=sender_id), room_id)
        raise ConflictError("the room changed while sending; try again")
    message = Message(
        message_id=row["message_id"],
        room_id=row["room_id"],
        sender_id=row["sender_id"],
        sender_display_name=ctx["sender_display_name"],
        content=row["content_json"] if row["content_json"] is not None else row["content"],
        message_type=row["message_type"],
        mentions=list(row["mentions"]),
        file_id=row["file_id"],
        file_url=file_url(room_id, row["file_id"]) if row["file_id"] else None,
        file=file,
        created_at=row["created_at"],
        sequence_number=row["sequence_number"],
        client_msg_id=row["client_msg_id"],
    )
    return SendResult(message=message, created=True)


def _resend(conn: Conn, room_id: UUID, sender_id: str, client_msg_id: UUID) -> SendResult:
    original = dal.find_by_client_msg_id(
        conn, room_id=room_id, sender_id=sender_id, client_msg_id=client_msg_id
    )
    assert original is not None, "a duplicate client_msg_id must have an original"
    return SendResult(message=original, created=False)


def post_system_message(
    conn: Conn, *, room_id: UUID, actor_id: str, event: str, text: str, **data: Any
) -> Message:
    """A room event kept in the history (status changes, membership), numbered like any
    message. Runs inside the caller's transaction."""
    row = dal.insert_message(
        conn,
        room_id=room_id,
        sender_id=actor_id,
        client_msg_id=None,
        message_type=MessageType.SYSTEM.value,
        content=text,
        content_json={"event": event, "text": text, **data},
        mentions=[],
        file_id=None,
        system=True,
    )
    assert row is not None
    message = dal.get_message(conn, row["message_id"])
    assert message is not None
    return message


def edit_message(
    *,
    message_id: UUID,
    user_id: str,
    content: Any,
    mentions: list[str] | None = None,
    db: Database | None = None,
) -> Message:
    new_content = _text_content(content, required=True)
    assert new_content is not None
    new_mentions = _normalize_mentions(mentions) if mentions is not None else None

    def operation(conn: Conn) -> Message:
        with conn.transaction():
            row = dal.lock_for_change(conn, message_id=message_id, user_id=user_id)
            require_message_writer(row, "edit messages")
            assert row is not None
            if row["sender_id"] != user_id:
                raise ForbiddenError("you can only edit your own messages")
            if row["message_type"] not in (
                MessageType.TEXT,
                MessageType.IMAGE_REF,
                MessageType.FILE_REF,
            ):
                raise ValidationFailed(f"{row['message_type']} messages cannot be edited")
            if not row["within_window"]:
                raise EditWindowExpired("messages can only be edited within 15 minutes")
            final_mentions = new_mentions if new_mentions is not None else list(row["mentions"])
            if new_mentions:
                members = set(rooms_dal.members_among(conn, row["room_id"], new_mentions))
                strangers = sorted(set(new_mentions) - members)
                if strangers:
                    raise ValidationFailed(
                        "only members of this room can be mentioned: " + ", ".join(strangers)
                    )
            dal.append_audit(conn, prior=row, action="edit", actor_id=user_id)
            dal.update_content(
                conn, message_id=message_id, content=new_content, mentions=final_mentions
            )
        message = dal.get_message(conn, message_id)
        assert message is not None
        return message

    return _db(db).run(operation)


def delete_message(*, message_id: UUID, user_id: str, db: Database | None = None) -> Message:
    """Soft delete: deleted_at is set, the content stays for the audit, readers see a
    placeholder. Deleting twice is harmless and returns the first deletion."""

    def operation(conn: Conn) -> Message:
        with conn.transaction():
            row = dal.lock_for_change(conn, message_id=message_id, user_id=user_id)
            if row is None:
                raise NotFoundError("this message does not exist")
            is_admin = bool(row["is_admin"])
            if row["role"] is None and not is_admin:
                raise ForbiddenError("you are not a member of this incident room")
            own = row["sender_id"] == user_id
            role = Role(row["role"]) if row["role"] else None
            allowed = (
                is_admin or role is Role.OWNER or (own and role is not None and role.can_write)
            )
            if not allowed:
                raise ForbiddenError(
                    "you can delete your own messages; only owners and admins delete others'"
                )
            if row["deleted_at"] is None:
                dal.append_audit(conn, prior=row, action="delete", actor_id=user_id)
                dal.mark_deleted(conn, message_id=message_id)
        message = dal.get_message(conn, message_id)
        assert message is not None
        return message

    return _db(db).run(operation)


def _check_emoji(emoji: Any) -> str:
    if not isinstance(emoji, str) or not emoji.strip():
        raise ValidationFailed("emoji must be a non-empty string")
    emoji = unicodedata.normalize("NFC", emoji.strip())
    if len(emoji) > MAX_EMOJI_CHARS:
        raise ValidationFailed("emoji is too long")
    if any(ch.isspace() or unicodedata.category(ch) == "Cc" for ch in emoji):
        raise ValidationFailed("emoji must not contain spaces or control characters")
    if emoji.isascii():
        raise ValidationFailed("reactions are emoji, not words")
    return emoji


def _react(
    message_id: UUID, user_id: str, emoji: Any, add: bool, db: Database | None
) -> ReactionChange:
    emoji = _check_emoji(emoji)

    def operation(conn: Conn) -> ReactionChange:
        with conn.transaction():
            target = dal.reaction_target(conn, message_id=message_id, user_id=user_id)
            require_message_writer(target, "react to messages")
            assert target is not None
            if add:
                dal.add_reaction(conn, message_id=message_id, user_id=user_id, emoji=emoji)
            else:
                dal.remove_reaction(conn, message_id=message_id, user_id=user_id, emoji=emoji)
            version = dal.bump_reactions_version(conn, message_id)
            reactions = dal.reactions_for(conn, [message_id]).get(message_id, [])
            return ReactionChange(
                room_id=target["room_id"],
                message_id=message_id,
                reactions=reactions,
                version=version,
            )

    return _db(db).run(operation)


def add_reaction(
    *, message_id: UUID, user_id: str, emoji: Any, db: Database | None = None
) -> ReactionChange:
    """The message's reactions after the change, aggregated per emoji, with a version
    that orders concurrent changes."""
    return _react(message_id, user_id, emoji, True, db)


def remove_reaction(
    *, message_id: UUID, user_id: str, emoji: Any, db: Database | None = None
) -> ReactionChange:
    return _react(message_id, user_id, emoji, False, db)


def _check_limit(limit: int | None) -> int:
    if limit is None:
        return HISTORY_DEFAULT_LIMIT
    if limit < 1:
        raise ValidationFailed("limit must be at least 1")
    return min(limit, HISTORY_MAX_LIMIT)


def history(
    *,
    room_id: UUID,
    user_id: str,
    limit: int | None = None,
    before: datetime | None = None,
    before_seq: int | None = None,
    after_seq: int | None = None,
    db: Database | None = None,
) -> HistoryPage:
    """Newest first with `before`/`before_seq` (or no cursor); oldest first with
    `after_seq`. Pages carry has_more and the cursor of the next page."""
    size = _check_limit(limit)
    if after_seq is not None and (before is not None or before_seq is not None):
        raise ValidationFailed("use either after_seq or before/before_seq, not both")
    for name, value in (("before_seq", before_seq), ("after_seq", after_seq)):
        if value is not None and value < 0:
            raise ValidationFailed(f"{name} must not be negative")
    if before is not None and before.tzinfo is None:
        before = before.replace(tzinfo=UTC)

    def operation(conn: Conn) -> HistoryPage:
        require_member(conn, room_id, user_id)
        if after_seq is not None:
            rows = dal.page_after(conn, room_id=room_id, after_seq=after_seq, limit=size + 1)
            page = rows[:size]
            return HistoryPage(
                messages=page,
                has_more=len(rows) > size,
                next_after_seq=page[-1].sequence_number if page else after_seq,
            )
        rows = dal.page_before(
            conn, room_id=room_id, limit=size + 1, before=before, before_seq=before_seq
        )
        page = rows[:size]
        has_more = len(rows) > size
        return HistoryPage(
            messages=page,
            has_more=has_more,
            next_before=page[-1].created_at if page and has_more else None,
            next_before_seq=page[-1].sequence_number if page and has_more else None,
        )

    return _db(db).run(operation)


def search(
    *,
    user_id: str,
    query: str,
    room_id: UUID | None = None,
    limit: int | None = None,
    db: Database | None = None,
) -> list[SearchHit]:
    english, cjk, runs = search_text.parse_query(query)
    size = _check_limit(limit)

    def operation(conn: Conn) -> list[SearchHit]:
        if room_id is not None:
            require_member(conn, room_id, user_id)
        found = dal.search(
            conn, user_id=user_id, english=english, cjk_query=cjk, room_id=room_id, limit=size
        )
        return [
            SearchHit(message=message, highlight=search_text.highlight(text, runs))
            for message, text in found
        ]

    return _db(db).run(operation)


def mentions_of(
    *, user_id: str, limit: int | None = None, db: Database | None = None
) -> list[Message]:
    size = _check_limit(limit)
    return _db(db).run(lambda conn: dal.mentioning(conn, user_id=user_id, limit=size))


def incident_readings(
    *,
    room_id: UUID,
    user_id: str,
    field: str,
    minimum: float | None = None,
    maximum: float | None = None,
    limit: int | None = None,
    db: Database | None = None,
) -> list[Message]:
    try:
        IncidentData.model_validate({"readings": {field: 0}})
    except ValidationError as exc:
        raise ValidationFailed(f"'{field}' is not a valid reading field name") from exc
    if minimum is not None and maximum is not None and minimum > maximum:
        raise ValidationFailed("min must not be greater than max")
    size = _check_limit(limit)

    def operation(conn: Conn) -> list[Message]:
        require_member(conn, room_id, user_id)
        return dal.incident_data(
            conn, room_id=room_id, field=field, minimum=minimum, maximum=maximum, limit=size
        )

    return _db(db).run(operation)


__all__ = [
    "add_reaction",
    "check_draft",
    "delete_message",
    "edit_message",
    "history",
    "incident_readings",
    "mentions_of",
    "parse_draft",
    "post_system_message",
    "remove_reaction",
    "require_room",
    "search",
    "send_message",
]
