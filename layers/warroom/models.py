"""Typed values that cross layers: what the logic takes in and what it gives back."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Annotated, Any
from uuid import UUID

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    ValidationInfo,
    field_validator,
)

EDIT_WINDOW_SECONDS = 15 * 60
MAX_MENTIONS = 50
HISTORY_DEFAULT_LIMIT = 50
HISTORY_MAX_LIMIT = 200


def _not_blank(value: str, info: ValidationInfo) -> str:
    if not value.strip():
        raise ValueError(f"{info.field_name} must not be blank")
    return value.strip()


# A name or title: not only spaces, and kept without the spaces around it.
NonBlank = Annotated[str, AfterValidator(_not_blank)]


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


class IncidentState(StrEnum):
    DECLARED = "declared"
    ACKNOWLEDGED = "acknowledged"
    CONTAINED = "contained"
    RESOLVED = "resolved"
    CLOSED = "closed"


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
    # The incident record (issue 17): `status` above is derived from `state`.
    line_id: UUID | None = None
    state: IncidentState = IncidentState.DECLARED
    commander_id: str = ""
    machine: str = ""
    stop_reason: str = ""
    downtime_start: UtcDatetime | None = None
    downtime_end: UtcDatetime | None = None


class Member(BaseModel):
    room_id: UUID
    user_id: str
    display_name: str
    role: Role
    joined_at: UtcDatetime
    last_read_seq: int


class RoomDraft(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: NonBlank = Field(min_length=1, max_length=200)
    severity: Severity = Severity.MEDIUM
    location: str = Field("", max_length=200)
    lots: list[Annotated[str, Field(min_length=1, max_length=64)]] = Field(
        default_factory=list, max_length=100
    )
    line_id: UUID | None = None
    machine: str = Field("", max_length=100)
    stop_reason: str = Field("", max_length=100)


class RoomPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str | None = Field(None, min_length=1, max_length=200)
    status: RoomStatus | None = None
    severity: Severity | None = None
    location: str | None = Field(None, max_length=200)
    lots: list[Annotated[str, Field(min_length=1, max_length=64)]] | None = Field(
        None, max_length=100
    )


# The incident record (issue 17): lines, the timeline, follow-ups and metrics.


class StopReason(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(min_length=1, max_length=100)
    zh_tw: str = Field(alias="zh-TW", min_length=1, max_length=100)
    en: str = Field(min_length=1, max_length=100)


class Line(BaseModel):
    line_id: UUID
    name: str
    location: str
    owner_id: str
    label_zh: str
    label_en: str
    stop_reasons: list[dict[str, str]]
    created_at: UtcDatetime


class LineDraft(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: NonBlank = Field(min_length=1, max_length=100)
    location: str = Field("", max_length=200)
    label_zh: str = Field("", max_length=100)
    label_en: str = Field("", max_length=100)
    stop_reasons: list[StopReason] | None = Field(None, max_length=50)


class LinePatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, min_length=1, max_length=100)
    location: str | None = Field(None, max_length=200)
    label_zh: str | None = Field(None, max_length=100)
    label_en: str | None = Field(None, max_length=100)
    stop_reasons: list[StopReason] | None = Field(None, max_length=50)


class StateMove(BaseModel):
    model_config = ConfigDict(extra="forbid")

    state: IncidentState
    note: str | None = Field(None, max_length=2000)


class CommanderHandover(BaseModel):
    model_config = ConfigDict(extra="forbid")

    user_id: str = Field(min_length=3, max_length=254)


class PinDraft(BaseModel):
    model_config = ConfigDict(extra="forbid")

    message_id: UUID
    event_time: datetime | None = None

    @field_validator("event_time")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("event_time needs a time zone (end it in Z)")
        return value


class ImpactPatch(BaseModel):
    """Production impact: which line and machine stopped, why, for how long; lots on
    hold are the room's `lots`."""

    model_config = ConfigDict(extra="forbid")

    line_id: UUID | None = None
    machine: str | None = Field(None, max_length=100)
    stop_reason: str | None = Field(None, max_length=100)
    downtime_start: datetime | None = None
    downtime_end: datetime | None = None
    lots: list[Annotated[str, Field(min_length=1, max_length=64)]] | None = Field(
        None, max_length=100
    )


class TimelineEntry(BaseModel):
    entry_id: UUID
    kind: str
    event_time: UtcDatetime
    recorded_at: UtcDatetime
    by: str
    by_display_name: str
    message_id: UUID | None = None
    message: Message | None = None
    state: str | None = None
    from_state: str | None = None
    note: str | None = None
    severity: str | None = None
    from_severity: str | None = None
    commander_id: str | None = None
    from_commander_id: str | None = None
    paged_user_id: str | None = None  # kind "page": who was paged (issue 19)
    step: int | None = None


class FollowUpStatus(StrEnum):
    OPEN = "open"
    DONE = "done"
    CANCELLED = "cancelled"


class FollowUp(BaseModel):
    follow_up_id: UUID
    room_id: UUID
    title: str
    owner_id: str
    owner_display_name: str
    due: date
    status: FollowUpStatus
    overdue: bool
    created_by: str
    created_at: UtcDatetime
    updated_at: UtcDatetime


class FollowUpDraft(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: NonBlank = Field(min_length=1, max_length=200)
    owner_id: str = Field(min_length=3, max_length=254)
    due: date


class FollowUpPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: FollowUpStatus | None = None
    owner_id: str | None = Field(None, min_length=3, max_length=254)
    due: date | None = None
    title: str | None = Field(None, min_length=1, max_length=200)


class RoomMetrics(BaseModel):
    room_id: UUID
    declared_at: UtcDatetime
    time_to_acknowledge_s: float | None
    time_to_contain_s: float | None
    time_to_resolve_s: float | None
    downtime_minutes: float | None


class WeeklyMetrics(BaseModel):
    line_id: UUID | None
    week: date
    incidents: int
    mtta_s: float | None
    mttr_s: float | None
    downtime_minutes: float
