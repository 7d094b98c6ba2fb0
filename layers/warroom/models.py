"""Typed values that cross layers: what the logic takes in and what it gives back."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any
from uuid import UUID

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    field_validator,
)

EDIT_WINDOW_SECONDS = 15 * 60
MAX_MENTIONS = 50
HISTORY_DEFAULT_LIMIT = 50
HISTORY_MAX_LIMIT = 200


def iso_z(value: datetime) -> str:
    """ISO-8601 in UTC ending in `Z`, microsecond precision, as the wire contract says."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


UtcDatetime = Annotated[datetime, PlainSerializer(iso_z, return_type=str)]


class Role(StrEnum):
    OWNER = "OWNER"
    EDITOR = "EDITOR"
    VIEWER = "VIEWER"

    @property
    def can_write(self) -> bool:
        return self in (Role.OWNER, Role.EDITOR)


class RoomStatus(StrEnum):
    ACTIVE = "active"
    RESOLVED = "resolved"
    ARCHIVED = "archived"


class Severity(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


class MessageType(StrEnum):
    TEXT = "text"
    IMAGE_REF = "image_ref"
    FILE_REF = "file_ref"
    INCIDENT_DATA = "incident_data"
    SYSTEM = "system"


CLIENT_MESSAGE_TYPES = frozenset(
    {MessageType.TEXT, MessageType.IMAGE_REF, MessageType.FILE_REF, MessageType.INCIDENT_DATA}
)

_USER_ID = re.compile(r"^[^@\s]+@[^@\s]+$")
_FIELD_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")


def normalize_user_id(value: str) -> str:
    """User ids are e-mail addresses, compared case-insensitively."""
    value = value.strip().lower()
    if not _USER_ID.match(value) or len(value) > 254:
        raise ValueError(f"'{value}' is not an e-mail address")
    return value


def content_bytes(value: str | dict[str, Any]) -> int:
    if isinstance(value, str):
        return len(value.encode("utf-8"))
    return len(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))


# A reading's name: letters of any script (温度, température), digits and `_`, starting
# with a letter; no spaces, so it can be a query parameter and a table header as is.
READING_NAME = re.compile(r"^[^\W\d_]\w{0,62}$")
MAX_READINGS = 50


class IncidentMetadata(BaseModel):
    """The descriptive fields an incident_data message may carry beside its readings,
    in either shape (nested `readings`, or numbers at the top level)."""

    model_config = ConfigDict(extra="forbid")

    machine_id: str | None = Field(None, max_length=100)
    line: str | None = Field(None, max_length=100)
    units: dict[str, Annotated[str, Field(max_length=40)]] = Field(
        default_factory=dict, max_length=MAX_READINGS
    )
    note: str | None = Field(None, max_length=2000)
    timestamp: datetime | None = None


class MessageDraft(BaseModel):
    """What a client asks to send. Checked here for shape; membership in the logic."""

    model_config = ConfigDict(extra="ignore")

    # Optional, as in the specification: without one the server makes one and the send
    # is not idempotent.
    client_msg_id: UUID | None = None
    message_type: str = MessageType.TEXT
    content: str | dict[str, Any] | None = None
    mentions: list[str] = Field(default_factory=list)
    file_id: UUID | None = None


class Reaction(BaseModel):
    emoji: str
    count: int
    user_ids: list[str]


class FileInfo(BaseModel):
    file_id: UUID
    filename: str
    content_type: str
    size_bytes: int


class Message(BaseModel):
    message_id: UUID
    room_id: UUID
    sender_id: str
    sender_display_name: str
    content: str | dict[str, Any] | None
    message_type: MessageType
    mentions: list[str]
    file_id: UUID | None = None
    file_url: str | None = None
    file: FileInfo | None = None
    created_at: UtcDatetime
    edited_at: UtcDatetime | None = None
    deleted_at: UtcDatetime | None = None
    sequence_number: int
    change_seq: int = 0
    reactions: list[Reaction] = Field(default_factory=list)
    reactions_version: int = 0
    client_msg_id: UUID | None = None


class ReactionChange(BaseModel):
    room_id: UUID
    message_id: UUID
    reactions: list[Reaction]
    version: int
    change_seq: int = 0


class HistoryPage(BaseModel):
    messages: list[Message]
    has_more: bool
    next_before: UtcDatetime | None = None
    next_before_seq: int | None = None
    next_after_seq: int | None = None
    next_changed_after: int | None = None


class ChangesPage(BaseModel):
    messages: list[Message]
    has_more: bool
    change_seq: int


class SearchHit(BaseModel):
    message: Message
    highlight: str


class User(BaseModel):
    user_id: str
    display_name: str
    department: str | None = None
    job_title: str | None = None
    is_admin: bool = False


class Room(BaseModel):
    room_id: UUID
    title: str
    status: RoomStatus
    severity: Severity
    location: str
    lots: list[str]
    created_by: str
    created_at: UtcDatetime
    updated_at: UtcDatetime
    last_activity_at: UtcDatetime
    last_seq: int
    my_role: Role | None = None
    unread_count: int = 0
    mention_count: int = 0


class Member(BaseModel):
    room_id: UUID
    user_id: str
    display_name: str
    role: Role
    joined_at: UtcDatetime
    last_read_seq: int


class RoomDraft(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=200)
    severity: Severity = Severity.MEDIUM
    location: str = Field("", max_length=200)
    lots: list[Annotated[str, Field(min_length=1, max_length=64)]] = Field(
        default_factory=list, max_length=100
    )

    @field_validator("title")
    @classmethod
    def _title_not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("title must not be blank")
        return value.strip()


class RoomPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str | None = Field(None, min_length=1, max_length=200)
    status: RoomStatus | None = None
    severity: Severity | None = None
    location: str | None = Field(None, max_length=200)
    lots: list[Annotated[str, Field(min_length=1, max_length=64)]] | None = Field(
        None, max_length=100
    )
