"""The JSON bodies of the HTTP API that are not domain models of their own: the list
envelopes and the answers routes build as dicts (docs/protocol.md "HTTP API").

They describe the wire for the web client's generated types (`warroom.wire_schema`);
`tests/e2e/test_http_bodies.py` holds every route's real answer to them.
"""

from __future__ import annotations

from uuid import UUID

from pydantic import BaseModel, ConfigDict

from warroom.frames import DumpedMessage, WireModel
from warroom.models import Member, Room, User


class UserList(WireModel):
    users: list[User]


class RoomList(WireModel):
    rooms: list[Room]


class MemberList(WireModel):
    members: list[Member]


class Limits(WireModel):
    max_file_bytes: int
    allowed_content_types: list[str]
    max_content_bytes: int


class HistoryAnswer(WireModel):
    """`GET …/messages` by number or time (cut by bytes: the cursors follow the last
    message given)."""

    model_config = ConfigDict(title="HistoryPage")

    messages: list[DumpedMessage]
    has_more: bool
    next_before: str | None
    next_before_seq: int | None
    next_after_seq: int | None


class ChangesAnswer(WireModel):
    """`GET …/messages?changed_after=`."""

    model_config = ConfigDict(title="ChangesPage")

    messages: list[DumpedMessage]
    has_more: bool
    next_changed_after: int


class MessageList(WireModel):
    """`GET /api/mentions`, `GET …/incident-data`."""

    messages: list[DumpedMessage]
    has_more: bool


class SearchResult(WireModel):
    model_config = ConfigDict(title="SearchHit")

    message: DumpedMessage
    highlight: str


class SearchAnswer(WireModel):
    results: list[SearchResult]
    has_more: bool


class ReadMarkAnswer(WireModel):
    last_read_seq: int


class UploadForm(WireModel):
    url: str
    fields: dict[str, str]
    expires_in: int


class UploadTicket(WireModel):
    file_id: UUID
    upload: UploadForm
    max_bytes: int


class StoredFileInfo(WireModel):
    file_id: UUID
    room_id: UUID
    filename: str
    content_type: str
    size_bytes: int
    uploaded_by: str
    created_at: str


class FileList(WireModel):
    files: list[StoredFileInfo]


class FileLink(WireModel):
    url: str
    file_id: UUID
    filename: str
    content_type: str
    size_bytes: int
    expires_in: int


class ReportLink(WireModel):
    """The 303 answer of a report too big to answer inline."""

    url: str


class Health(WireModel):
    status: str
    database: str


class ErrorDetail(WireModel):
    code: str
    message: str
    #: RATE_LIMITED: seconds to wait before sending again.
    retry_after: float | None = None


class ErrorBody(WireModel):
    error: ErrorDetail


# --- schema only: the shapes of a message's content (the logic checks them) -------


class IncidentData(BaseModel):
    """incident_data content in its nested shape (the flat shape is read as readings)."""

    model_config = ConfigDict(extra="forbid")

    machine_id: str | None = None
    line: str | None = None
    readings: dict[str, float]
    units: dict[str, str] | None = None
    note: str | None = None


class SystemContent(BaseModel):
    """The content of a system message kept in history (status and membership)."""

    model_config = ConfigDict(extra="allow")

    event: str
    user_id: str | None = None
    text: str | None = None
