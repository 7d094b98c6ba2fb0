"""The WebSocket wire contract: inbound frame models and outbound frame builders.
Documented in docs/protocol.md."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, model_validator

from warroom.answer_metrics import count_error_answer
from warroom.models import Message, MessageDraft, ReactionChange, iso_z


class _Frame(BaseModel):
    model_config = ConfigDict(extra="ignore")


class SendFrame(MessageDraft):
    """A `message` frame is a draft, with its frame type."""

    type: Literal["message"] = "message"


class EditFrame(_Frame):
    message_id: UUID
    content: str
    mentions: list[str] | None = None


class DeleteFrame(_Frame):
    message_id: UUID


class ReactionFrame(_Frame):
    message_id: UUID
    emoji: str


class TypingFrame(_Frame):
    is_typing: bool = True


class SyncFrame(_Frame):
    """`after_seq`: new messages by number. `after_change`: the current state of every
    message changed after that change number. Exactly one of them."""

    after_seq: int | None = Field(None, ge=0)
    after_change: int | None = Field(None, ge=0)
    limit: int | None = Field(None, ge=1, le=200)

    @model_validator(mode="after")
    def _one_cursor(self) -> SyncFrame:
        if (self.after_seq is None) == (self.after_change is None):
            raise ValueError("send either after_seq or after_change")
        return self


class EmptyFrame(_Frame):
    pass


# The WebSocket route table: each route and the model of its frame. The router serves
# exactly these; the gateway (local and API Gateway's route selection) knows them from
# here.
ROUTE_FRAMES: dict[str, type[BaseModel]] = {
    "message": SendFrame,
    "edit_message": EditFrame,
    "delete_message": DeleteFrame,
    "add_reaction": ReactionFrame,
    "remove_reaction": ReactionFrame,
    "typing": TypingFrame,
    "ping": EmptyFrame,
    "sync": SyncFrame,
    "presence": EmptyFrame,
}
ROUTES = tuple(ROUTE_FRAMES)


def now_z() -> str:
    return iso_z(datetime.now(UTC))


def message_frame(message: Message) -> dict[str, Any]:
    return {
        "type": "message",
        "message": message.model_dump(mode="json"),
        "change_seq": message.change_seq,
    }


def ack_fields(message: Message, unresolved_mentions: list[str] | None = None) -> dict[str, Any]:
    """What an ack says, over the WebSocket and as the HTTP send's answer."""
    return {
        "client_msg_id": str(message.client_msg_id) if message.client_msg_id else None,
        "message_id": str(message.message_id),
        "sequence_number": message.sequence_number,
        "created_at": iso_z(message.created_at),
        "change_seq": message.change_seq,
        "unresolved_mentions": list(unresolved_mentions or []),
    }


def ack_frame(message: Message, unresolved_mentions: list[str] | None = None) -> dict[str, Any]:
    return {"type": "ack", **ack_fields(message, unresolved_mentions)}


def edited_frame(message: Message) -> dict[str, Any]:
    return {
        "type": "message_edited",
        "message": message.model_dump(mode="json"),
        "change_seq": message.change_seq,
    }


def deleted_frame(message: Message) -> dict[str, Any]:
    assert message.deleted_at is not None
    return {
        "type": "message_deleted",
        "message_id": str(message.message_id),
        "room_id": str(message.room_id),
        "sequence_number": message.sequence_number,
        "deleted_at": iso_z(message.deleted_at),
        "change_seq": message.change_seq,
    }


def reactions_frame(change: ReactionChange) -> dict[str, Any]:
    return {
        "type": "reaction_updated",
        "message_id": str(change.message_id),
        "room_id": str(change.room_id),
        "reactions": [r.model_dump() for r in change.reactions],
        "version": change.version,
        "change_seq": change.change_seq,
    }


def system_frame(event: str, user_id: str, **extra: Any) -> dict[str, Any]:
    return {"type": "system", "event": event, "user_id": user_id, "timestamp": now_z(), **extra}


def presence_frame(event: str, users: list[tuple[str, str]]) -> dict[str, Any]:
    """A coalesced `user_joined` / `user_left`: the first person in the spec's fields,
    everyone in `users`."""
    first_id, first_name = users[0]
    return system_frame(
        event,
        first_id,
        display_name=first_name,
        users=[{"user_id": u, "display_name": n} for u, n in users],
    )


def sync_reply(messages: list[dict[str, Any]], has_more: bool, **cursor: Any) -> dict[str, Any]:
    return {"type": "sync", **cursor, "messages": messages, "has_more": has_more}


def notification_frame(event: str, message: Message) -> dict[str, Any]:
    return {
        "type": "notification",
        "event": event,
        "room_id": str(message.room_id),
        "message": message.model_dump(mode="json"),
    }


def error_frame(code: str, message: str, client_msg_id: Any = None, **extra: Any) -> dict[str, Any]:
    """`extra`: an error's own fields (`retry_after` of RATE_LIMITED)."""
    count_error_answer(code)  # infra hook: INTERNAL/UNAVAILABLE raise the outage alarm
    return {
        "type": "error",
        "code": code,
        "message": message,
        "client_msg_id": client_msg_id,
        **extra,
    }
