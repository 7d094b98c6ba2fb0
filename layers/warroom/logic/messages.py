"""The message service: send, edit, delete, react, history, search, mentions, readings.

Every operation is one short transaction on a connection taken and given back for it
(`Database.run`). Sends are idempotent on (room, sender, client_msg_id).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar
from uuid import UUID, uuid4

from pydantic import ValidationError

from warroom.bounds import MAX_CONTENT_BYTES, MAX_HTTP_RESPONSE_BYTES, fit_messages
from warroom.dal import messages as dal
from warroom.dal.messages import (
    MAX_DISTINCT_REACTIONS,
    MAX_REACTIONS_PER_USER,
    ChangeOutcome,
    Conn,
    DuplicateClientMessage,
    Limit,
    Recipients,
    Throttle,
)
from warroom.db import Database, get_database
from warroom.errors import (
    ConflictError,
    EditWindowExpired,
    ForbiddenError,
    NotFoundError,
    PayloadTooLarge,
    RateLimited,
    ValidationFailed,
)
from warroom.logic import search_text
from warroom.logic.access import require_member, require_room, require_writer
from warroom.logic.emoji_check import check_emoji
from warroom.logic.readings import check_incident_data, check_reading_name
from warroom.models import (
    CLIENT_MESSAGE_TYPES,
    HISTORY_DEFAULT_LIMIT,
    HISTORY_MAX_LIMIT,
    MAX_MENTIONS,
    ChangesPage,
    HistoryPage,
    Message,
    MessageDraft,
    MessageType,
    ReactionChange,
    Role,
    RoomStatus,
    SearchHit,
    content_bytes,
    iso_z,
    normalize_user_id,
)
from warroom.settings import rate_limits


class _RoomChanged(ConflictError):
    """Every check passed on the statement's snapshot, but the room's membership or status
    changed while it waited for the room's lock: run it once more, on a fresh snapshot,
    which then refuses (or stores) for the current reason."""


def _once_more_if_changed(attempt: Callable[[], T]) -> T:
    try:
        return attempt()
    except _RoomChanged:
        return attempt()


T = TypeVar("T")


def _limit(kind: str) -> Limit:
    limits = rate_limits()
    if kind == "send":
        return Limit(limits.send_burst, limits.send_per_second)
    return Limit(limits.write_burst, limits.write_per_second)


def _refuse_if_limited(throttle: Throttle, limit: Limit, what: str) -> None:
    if throttle.limited:
        # Seconds until the bucket holds a whole token again (never 0: it was short).
        wait = max((1.0 - throttle.tokens) / limit.per_second, 0.05)
        raise RateLimited(
            f"too many {what} at once; try again in {wait:.1f} s", retry_after=round(wait, 2)
        )


def _refuse_if_inactive(active: bool) -> None:
    if not active:
        raise ForbiddenError("this account is deactivated")


@dataclass(frozen=True)
class _Checked:
    message_type: MessageType
    content: str | None
    content_json: dict[str, Any] | None
    mentions: list[str]
    file_id: UUID | None


@dataclass(frozen=True)
class Sent:
    """A send: the message, whether this call stored it (False for an idempotent
    resend), the mentions that named no member, and who hears of it."""

    message: Message
    created: bool
    unresolved_mentions: list[str] = field(default_factory=list)
    recipients: Recipients = field(default_factory=Recipients)
    presence_pending: bool = False


@dataclass(frozen=True)
class Changed:
    """An edit or a delete, and the room's connections that hear of it."""

    message: Message
    recipients: Recipients = field(default_factory=Recipients)


@dataclass(frozen=True)
class Reacted:
    change: ReactionChange
    recipients: Recipients = field(default_factory=Recipients)


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
        if isinstance(draft.content, dict) and content_bytes(draft.content) > MAX_CONTENT_BYTES:
            raise PayloadTooLarge(
                f"incident data is larger than the {MAX_CONTENT_BYTES // 1024} KB limit"
            )
        content_json = check_incident_data(draft.content)
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
) -> Sent:
    """One statement on the usual path: checks, numbers, insert and recipients. Without a
    client_msg_id the server makes one, and a repeat of the same frame is a new message."""
    checked = check_draft(draft)
    client_msg_id = draft.client_msg_id or uuid4()
    return _db(db).run(
        lambda conn: _once_more_if_changed(
            lambda: _send(conn, room_id, sender_id, client_msg_id, checked)
        )
    )


def _send(
    conn: Conn, room_id: UUID, sender_id: str, client_msg_id: UUID, checked: _Checked
) -> Sent:
    limit = _limit("send")
    try:
        outcome = dal.send(
            conn,
            room_id=room_id,
            sender_id=sender_id,
            client_msg_id=client_msg_id,
            message_type=checked.message_type.value,
            content=checked.content,
            content_json=checked.content_json,
            mentions=checked.mentions,
            file_id=checked.file_id,
            limit=limit,
        )
    except DuplicateClientMessage:
        # Two copies of one send raced; the other stored it first.
        return _resend(conn, room_id, sender_id, client_msg_id)
    unresolved = [m for m in checked.mentions if m not in outcome.member_mentions]
    if outcome.message is not None:
        return Sent(outcome.message, True, unresolved, outcome.recipients, outcome.presence_pending)
    # Nothing stored: say why, most basic reason first.
    if not outcome.room_exists:
        raise NotFoundError(f"incident room {room_id} does not exist")
    if outcome.existing_message_id is not None and outcome.role is not None:
        # A resend of a stored message answers with the original, even if the room was
        # archived since: the outbox must learn it was delivered. Never rate-limited.
        return _resend(conn, room_id, sender_id, client_msg_id)
    _refuse_if_inactive(outcome.active)
    require_writer({"role": outcome.role, "status": outcome.status}, room_id)
    if checked.file_id is not None:
        if not outcome.file_found:
            raise NotFoundError("the attached file does not exist in this room")
        if not str(outcome.file_content_type).startswith("image/"):
            raise ValidationFailed("image_ref needs an image file")
    if outcome.status == RoomStatus.ARCHIVED:
        raise ConflictError("this incident room is archived and read-only")
    _refuse_if_limited(outcome.throttle, limit, "messages")
    raise _RoomChanged("the room changed while sending; try again")


def _resend(conn: Conn, room_id: UUID, sender_id: str, client_msg_id: UUID) -> Sent:
    original = dal.find_by_client_msg_id(
        conn, room_id=room_id, sender_id=sender_id, client_msg_id=client_msg_id
    )
    assert original is not None, "a duplicate client_msg_id must have an original"
    return Sent(original, False)


def post_system_message(
    conn: Conn, *, room_id: UUID, actor_id: str, event: str, text: str, **data: Any
) -> tuple[Message, Recipients]:
    """A room event kept in the history (status changes, membership), numbered like any
    message, with who hears of it. Runs inside the caller's transaction."""
    outcome = dal.send(
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
    assert outcome.message is not None
    return outcome.message, outcome.recipients


def _explain_refused_change(outcome: ChangeOutcome, user_id: str, action: str) -> None:
    if not outcome.found or outcome.deleted:
        raise NotFoundError("this message does not exist or was deleted")
    _refuse_if_inactive(outcome.active)
    if outcome.role is None and not outcome.is_admin:
        raise ForbiddenError("you are not a member of this incident room")
    if outcome.status == RoomStatus.ARCHIVED:
        raise ConflictError("this incident room is archived and read-only")
    if outcome.role == Role.VIEWER and not outcome.is_admin:
        raise ForbiddenError(f"viewers cannot {action}")


def edit_message(
    *,
    message_id: UUID,
    user_id: str,
    content: Any,
    mentions: list[str] | None = None,
    db: Database | None = None,
) -> Changed:
    """One statement: checks, audit copy, change, change number and recipients."""
    new_content = _text_content(content, required=True)
    assert new_content is not None
    new_mentions = _normalize_mentions(mentions) if mentions is not None else None

    limit = _limit("write")

    def attempt(conn: Conn) -> Changed:
        outcome = dal.edit(
            conn,
            message_id=message_id,
            user_id=user_id,
            content=new_content,
            mentions=new_mentions,
            limit=limit,
        )
        if outcome.message is not None:
            return Changed(outcome.message, outcome.recipients)
        _explain_refused_change(outcome, user_id, "edit messages")
        if outcome.sender_id != user_id:
            raise ForbiddenError("you can only edit your own messages")
        if outcome.message_type not in (
            MessageType.TEXT,
            MessageType.IMAGE_REF,
            MessageType.FILE_REF,
        ):
            raise ValidationFailed(f"{outcome.message_type} messages cannot be edited")
        if not outcome.within_window:
            raise EditWindowExpired("messages can only be edited within 15 minutes")
        _refuse_if_limited(outcome.throttle, limit, "changes")
        raise _RoomChanged("the room changed while editing; try again")

    return _db(db).run(lambda conn: _once_more_if_changed(lambda: attempt(conn)))


def delete_message(*, message_id: UUID, user_id: str, db: Database | None = None) -> Changed:
    """Soft delete: deleted_at is set, the content stays for the audit, readers see a
    placeholder. Deleting twice is harmless and returns the first deletion (to the
    caller only: nothing changed, so nobody else hears of it)."""

    limit = _limit("write")

    def attempt(conn: Conn) -> Changed:
        outcome = dal.delete(conn, message_id=message_id, user_id=user_id, limit=limit)
        if outcome.message is not None:
            return Changed(outcome.message, outcome.recipients)
        if outcome.found and outcome.deleted and (outcome.role or outcome.is_admin):
            message = dal.get_message(conn, message_id)
            assert message is not None
            return Changed(message)
        if outcome.allowed:
            _refuse_if_limited(outcome.throttle, limit, "changes")
            raise _RoomChanged("the room changed while deleting; try again")
        _explain_refused_change(outcome, user_id, "delete messages")
        raise ForbiddenError(
            "you can delete your own messages; only owners and admins delete others'"
        )

    return _db(db).run(lambda conn: _once_more_if_changed(lambda: attempt(conn)))


def _react(message_id: UUID, user_id: str, emoji: Any, add: bool, db: Database | None) -> Reacted:
    emoji = check_emoji(emoji)

    limit = _limit("write")

    def attempt(conn: Conn) -> Reacted:
        outcome = dal.react(
            conn, message_id=message_id, user_id=user_id, emoji=emoji, add=add, limit=limit
        )
        if not outcome.found or outcome.deleted:
            raise NotFoundError("this message does not exist or was deleted")
        if not outcome.changed:
            _refuse_if_inactive(outcome.active)
            if outcome.role is None:
                raise ForbiddenError("you are not a member of this incident room")
            if outcome.status == RoomStatus.ARCHIVED:
                raise ConflictError("this incident room is archived and read-only")
            if outcome.distinct_after > MAX_DISTINCT_REACTIONS:
                raise ValidationFailed(
                    f"a message can have at most {MAX_DISTINCT_REACTIONS} different reactions"
                )
            if outcome.mine_after > MAX_REACTIONS_PER_USER:
                raise ValidationFailed(
                    f"you can add at most {MAX_REACTIONS_PER_USER} reactions to one message"
                )
            _refuse_if_limited(outcome.throttle, limit, "changes")
            raise _RoomChanged("the room changed while reacting; try again")
        assert outcome.room_id is not None
        return Reacted(
            ReactionChange(
                room_id=outcome.room_id,
                message_id=message_id,
                reactions=outcome.reactions,
                version=outcome.version,
                change_seq=outcome.change_seq,
            ),
            outcome.recipients,
        )

    return _db(db).run(lambda conn: _once_more_if_changed(lambda: attempt(conn)))


def add_reaction(
    *, message_id: UUID, user_id: str, emoji: Any, db: Database | None = None
) -> Reacted:
    """The message's reactions after the change, aggregated per emoji, with a version
    that orders concurrent changes. One emoji; caps per message and per user."""
    return _react(message_id, user_id, emoji, True, db)


def remove_reaction(
    *, message_id: UUID, user_id: str, emoji: Any, db: Database | None = None
) -> Reacted:
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
    max_bytes: int | None = None,
    db: Database | None = None,
) -> HistoryPage:
    """Newest first with `before`/`before_seq` (or no cursor); oldest first with
    `after_seq`. Pages carry has_more and the cursor of the next page. With `max_bytes`
    the database stops reading at about that many bytes (the reply's budget)."""
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
            found = dal.page_after(
                conn, room_id=room_id, after_seq=after_seq, limit=size + 1, max_bytes=max_bytes
            )
            page = found.messages[:size]
            return HistoryPage(
                messages=page,
                has_more=found.cut or len(found.messages) > size,
                next_after_seq=page[-1].sequence_number if page else after_seq,
            )
        found = dal.page_before(
            conn,
            room_id=room_id,
            limit=size + 1,
            before=before,
            before_seq=before_seq,
            max_bytes=max_bytes,
        )
        page = found.messages[:size]
        has_more = found.cut or len(found.messages) > size
        return HistoryPage(
            messages=page,
            has_more=has_more,
            next_before=page[-1].created_at if page and has_more else None,
            next_before_seq=page[-1].sequence_number if page and has_more else None,
        )

    return _db(db).run(operation)


def changed_since(
    *,
    room_id: UUID,
    user_id: str,
    after_change: int,
    limit: int | None = None,
    max_bytes: int | None = None,
    db: Database | None = None,
) -> ChangesPage:
    """The current state of every message changed after `after_change`, in change order,
    each once; `change_seq` is where to resume (the room's current number when nothing
    is left)."""
    size = _check_limit(limit)
    if after_change < 0:
        raise ValidationFailed("after_change must not be negative")

    def operation(conn: Conn) -> ChangesPage:
        require_member(conn, room_id, user_id)
        found, current = dal.changed_after(
            conn, room_id=room_id, after_change=after_change, limit=size + 1, max_bytes=max_bytes
        )
        page = found.messages[:size]
        has_more = found.cut or len(found.messages) > size
        resume = page[-1].change_seq if has_more else max(current, after_change)
        return ChangesPage(messages=page, has_more=has_more, change_seq=resume)

    return _db(db).run(operation)


def bounded_history(page: HistoryPage, budget: int = MAX_HTTP_RESPONSE_BYTES) -> dict[str, Any]:
    """A history page as the HTTP API answers it, cut by bytes; the cursors follow the
    last message kept."""
    kept = fit_messages(page.messages, budget)
    answer = page.model_dump(mode="json", exclude={"messages", "next_changed_after"})
    answer["messages"] = kept
    if len(kept) < len(page.messages):
        last = page.messages[len(kept) - 1]
        answer["has_more"] = True
        if page.next_after_seq is not None:
            answer["next_after_seq"] = last.sequence_number
        else:
            answer["next_before"] = iso_z(last.created_at)
            answer["next_before_seq"] = last.sequence_number
    return answer


def bounded_changes(
    page: ChangesPage, budget: int = MAX_HTTP_RESPONSE_BYTES
) -> tuple[list[dict[str, Any]], bool, int]:
    """Changed messages cut by bytes: (messages, has_more, where to resume)."""
    kept = fit_messages(page.messages, budget)
    if len(kept) < len(page.messages):
        return kept, True, page.messages[len(kept) - 1].change_seq
    return kept, page.has_more, page.change_seq


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
    check_reading_name(field)
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
