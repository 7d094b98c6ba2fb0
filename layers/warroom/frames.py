"""The WebSocket wire contract: inbound frame models and outbound frame builders.
Documented in docs/protocol.md."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from warroom.answer_metrics import count_error_answer
from warroom.models import Message, MessageDraft, ReactionChange, iso_z

ROUTES = (
    "message",
    "edit_message",
    "delete_message",
    "add_reaction",
    "remove_reaction",
    "typing",
    "ping",
    "sync",
    "presence",
)


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
    after_seq: int = Field(ge=0)
    limit: int | None = Field(None, ge=1, le=200)


class EmptyFrame(_Frame):
    pass


def now_z() -> str:
    return iso_z(datetime.now(UTC))


def message_frame(message: Message) -> dict[str, Any]:
    return {"type": "message", "message": message.model_dump(mode="json")}


def ack_frame(message: Message) -> dict[str, Any]:
    return {
        "type": "ack",
        "client_msg_id": str(message.client_msg_id) if message.client_msg_id else None,
        "message_id": str(message.message_id),
        "sequence_number": message.sequence_number,
        "created_at": iso_z(message.created_at),
    }


def edited_frame(message: Message) -> dict[str, Any]:
    return {"type": "message_edited", "message": message.model_dump(mode="json")}


def deleted_frame(message: Message) -> dict[str, Any]:
    assert message.deleted_at is not None
    return {
        "type": "message_deleted",
        "message_id": str(message.message_id),
        "room_id": str(message.room_id),
        "sequence_number": message.sequence_number,
        "deleted_at": iso_z(message.deleted_at),
    }


def reactions_frame(change: ReactionChange) -> dict[str, Any]:
    return {
        "type": "reaction_updated",
        "message_id": str(change.message_id),
        "room_id": str(change.room_id),
        "reactions": [r.model_dump() for r in change.reactions],
        "version": change.version,
    }


def system_frame(event: str, user_id: str, **extra: Any) -> dict[str, Any]:
    return {"type": "system", "event": event, "user_id": user_id, "timestamp": now_z(), **extra}


def notification_frame(event: str, message: Message) -> dict[str, Any]:
    return {
        "type": "notification",
        "event": event,
        "room_id": str(message.room_id),
        "message": message.model_dump(mode="json"),
    }


def error_frame(code: str, message: str, client_msg_id: Any = None) -> dict[str, Any]:
    count_error_answer(code)  # infra hook: INTERNAL/UNAVAILABLE raise the outage alarm
    return {"type": "error", "code": code, "message": message, "client_msg_id": client_msg_id}
