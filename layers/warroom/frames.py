"""The WebSocket wire contract: inbound frame models, and every outbound frame as a model
with its builder. Documented in docs/protocol.md.

Each builder constructs its frame's model and dumps it (`WireModel.wire`), so what goes
on the wire and the schema the web client's types are generated from
(`python -m warroom.wire_schema`) are one thing. Keys that a frame carries only
sometimes (a `system` frame's `room_id`, an error's `retry_after`) are fields defaulting
to None and left out of the frame when None; every other key is always there.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, ClassVar, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema, model_validator

from warroom.answer_metrics import count_error_answer
from warroom.models import Message, MessageDraft, Reaction, ReactionChange, iso_z


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


# --- outbound frames ----------------------------------------------------------------


def _omitted_keys_schema(schema: dict[str, Any], model: type[BaseModel]) -> None:
    """The schema of an outbound model says what its `wire()` does: a key left out when
    None is optional and never null; every other key (defaults included) is required."""
    omitted: frozenset[str] = getattr(model, "omitted_when_none", frozenset())
    properties = schema.get("properties", {})
    schema["required"] = [name for name in properties if name not in omitted]
    for name in omitted:
        prop = properties.get(name)
        if prop is None:
            continue
        prop.pop("default", None)
        variants = [v for v in prop.pop("anyOf", []) if v.get("type") != "null"]
        if len(variants) == 1:
            prop.update(variants[0])
        elif variants:
            prop["anyOf"] = variants


#: A reference to another definition of the document `warroom.wire_schema` writes
#: (it turns `{WIRE_REF: name}` into a `$ref`; pydantic would resolve a `$ref` itself).
WIRE_REF = "x-wire-ref"


class WireModel(BaseModel):
    """A JSON object the server sends (a frame, an HTTP body): `wire()` dumps it."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=_omitted_keys_schema)

    #: Fields defaulting to None: keys the frame carries only when they have a value.
    omitted_when_none: ClassVar[frozenset[str]] = frozenset()

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        if "omitted_when_none" in cls.__dict__:  # said by the class itself
            return
        cls.omitted_when_none = frozenset(
            name
            for name, info in cls.model_fields.items()
            if not info.is_required() and info.default is None
        )

    def wire(self) -> dict[str, Any]:
        data = self.model_dump(mode="json")
        for name in self.omitted_when_none:
            if data.get(name) is None:
                data.pop(name, None)
        return data


class WireMessage(Message, WireModel):
    """A message as it goes on the wire (M in docs/protocol.md): `Message` dumped, and
    when it was too big for its frame or page, slimmed by `bounds.slim`/`slimmest`.
    Schema only: frames hold messages already dumped (`DumpedMessage`)."""

    model_config = ConfigDict(title="Message")
    omitted_when_none: ClassVar[frozenset[str]] = frozenset(
        {"content_truncated", "reactions_truncated"}
    )

    content: Annotated[
        str | dict[str, Any] | None,
        WithJsonSchema(
            {
                "anyOf": [
                    {"type": "string"},
                    {WIRE_REF: "IncidentData"},
                    {WIRE_REF: "SystemContent"},
                    # incident_data in the flat shape ({"temperature": 85, …}), as sent
                    {"type": "object", "additionalProperties": True},
                    {"type": "null"},
                ]
            }
        ),
    ]
    content_truncated: bool | None = None
    reactions_truncated: bool | None = None


#: A message already dumped for the wire (and perhaps slimmed): taken as is, described
#: by WireMessage.
DumpedMessage = Annotated[dict[str, Any], WithJsonSchema({WIRE_REF: "WireMessage"})]


class UserSummary(WireModel):
    user_id: str
    display_name: str


class AckFields(WireModel):
    """What an ack says: over the WebSocket, and as the HTTP send's answer."""

    client_msg_id: str | None = Field(...)
    message_id: UUID
    sequence_number: int
    created_at: str
    change_seq: int
    unresolved_mentions: list[str]


class AckFrame(AckFields):
    type: Literal["ack"] = "ack"

    def wire(self) -> dict[str, Any]:
        return {"type": self.type, **super().wire()}


class MessageFrame(WireModel):
    type: Literal["message"] = "message"
    message: DumpedMessage
    change_seq: int


class MessageEditedFrame(WireModel):
    type: Literal["message_edited"] = "message_edited"
    message: DumpedMessage
    change_seq: int


class MessageDeletedFrame(WireModel):
    type: Literal["message_deleted"] = "message_deleted"
    message_id: UUID
    room_id: UUID
    sequence_number: int
    deleted_at: str
    change_seq: int


class ReactionUpdatedFrame(WireModel):
    type: Literal["reaction_updated"] = "reaction_updated"
    message_id: UUID
    room_id: UUID
    reactions: list[Reaction]
    version: int
    change_seq: int


class SystemFrame(WireModel):
    """Room events made over HTTP carry `room_id` and `change_seq`; coalesced joins and
    departures carry `display_name` and `users` (docs/protocol.md)."""

    type: Literal["system"] = "system"
    event: str
    user_id: str
    timestamp: str
    display_name: str | None = None
    users: list[UserSummary] | None = None
    room_id: str | None = None
    change_seq: int | None = None


class PresenceFrame(WireModel):
    type: Literal["presence"] = "presence"
    online: list[UserSummary]


class TypingNotice(WireModel):
    model_config = ConfigDict(title="TypingFrame")

    type: Literal["typing"] = "typing"
    user_id: str
    display_name: str
    is_typing: bool


class PongFrame(WireModel):
    type: Literal["pong"] = "pong"


class SyncReply(WireModel):
    """`after_change` and `change_seq` only on a reply to `after_change`."""

    model_config = ConfigDict(title="SyncFrame")

    type: Literal["sync"] = "sync"
    after_change: int | None = None
    change_seq: int | None = None
    messages: list[DumpedMessage]
    has_more: bool


class NotificationFrame(WireModel):
    type: Literal["notification"] = "notification"
    event: Literal["mention", "message"]
    room_id: UUID
    message: DumpedMessage


class ErrorFrame(WireModel):
    type: Literal["error"] = "error"
    code: str
    message: str
    client_msg_id: str | None = Field(...)
    #: RATE_LIMITED: seconds to wait before sending again.
    retry_after: float | None = None


class ReadingPointWire(WireModel):
    """A machine reading on the wire (issue 18)."""

    machine_id: str
    tag: str
    ts: str
    value: float
    unit: str | None = None
    quality: Literal["good", "uncertain", "bad"] = "good"
    origin: Literal["machine", "typed"] = "machine"
    #: when downsampled: the bucket's extremes and size
    min: float | None = None
    max: float | None = None
    count: int | None = None


class ReadingsFrame(WireModel):
    """The latest machine values of the room's line, at most once a second (issue 18)."""

    type: Literal["readings"] = "readings"
    line_id: str
    timestamp: str
    points: list[ReadingPointWire]


#: Every frame the server may send, by its `type`.
SERVER_FRAMES: tuple[type[WireModel], ...] = (
    AckFrame,
    MessageFrame,
    MessageEditedFrame,
    MessageDeletedFrame,
    ReactionUpdatedFrame,
    SystemFrame,
    PresenceFrame,
    TypingNotice,
    PongFrame,
    SyncReply,
    NotificationFrame,
    ErrorFrame,
    ReadingsFrame,
)


# --- builders -----------------------------------------------------------------------


def message_frame(message: Message) -> dict[str, Any]:
    return MessageFrame(
        message=message.model_dump(mode="json"), change_seq=message.change_seq
    ).wire()


def _ack(message: Message, unresolved_mentions: list[str] | None) -> dict[str, Any]:
    return {
        "client_msg_id": str(message.client_msg_id) if message.client_msg_id else None,
        "message_id": message.message_id,
        "sequence_number": message.sequence_number,
        "created_at": iso_z(message.created_at),
        "change_seq": message.change_seq,
        "unresolved_mentions": list(unresolved_mentions or []),
    }


def ack_fields(message: Message, unresolved_mentions: list[str] | None = None) -> dict[str, Any]:
    """What an ack says, over the WebSocket and as the HTTP send's answer."""
    return AckFields(**_ack(message, unresolved_mentions)).wire()


def ack_frame(message: Message, unresolved_mentions: list[str] | None = None) -> dict[str, Any]:
    return AckFrame(**_ack(message, unresolved_mentions)).wire()


def edited_frame(message: Message) -> dict[str, Any]:
    return MessageEditedFrame(
        message=message.model_dump(mode="json"), change_seq=message.change_seq
    ).wire()


def deleted_frame(message: Message) -> dict[str, Any]:
    assert message.deleted_at is not None
    return MessageDeletedFrame(
        message_id=message.message_id,
        room_id=message.room_id,
        sequence_number=message.sequence_number,
        deleted_at=iso_z(message.deleted_at),
        change_seq=message.change_seq,
    ).wire()


def reactions_frame(change: ReactionChange) -> dict[str, Any]:
    return ReactionUpdatedFrame(
        message_id=change.message_id,
        room_id=change.room_id,
        reactions=change.reactions,
        version=change.version,
        change_seq=change.change_seq,
    ).wire()


def system_frame(
    event: str, user_id: str, *, room_id: str | None = None, change_seq: int | None = None
) -> dict[str, Any]:
    """A room event made over HTTP (status, membership)."""
    return SystemFrame(
        event=event, user_id=user_id, timestamp=now_z(), room_id=room_id, change_seq=change_seq
    ).wire()


def presence_frame(event: str, users: list[tuple[str, str]]) -> dict[str, Any]:
    """A coalesced `user_joined` / `user_left`: the first person in the spec's fields,
    everyone in `users`."""
    first_id, first_name = users[0]
    return SystemFrame(
        event=event,
        user_id=first_id,
        timestamp=now_z(),
        display_name=first_name,
        users=[UserSummary(user_id=u, display_name=n) for u, n in users],
    ).wire()


def online_frame(online: dict[str, str]) -> dict[str, Any]:
    """The answer to `presence`: who is connected to the room now, by user id."""
    return PresenceFrame(
        online=[UserSummary(user_id=u, display_name=n) for u, n in sorted(online.items())]
    ).wire()


def typing_frame(user_id: str, display_name: str, is_typing: bool) -> dict[str, Any]:
    return TypingNotice(user_id=user_id, display_name=display_name, is_typing=is_typing).wire()


def pong_frame() -> dict[str, Any]:
    return PongFrame().wire()


def sync_reply(
    messages: list[dict[str, Any]],
    has_more: bool,
    *,
    after_change: int | None = None,
    change_seq: int | None = None,
) -> dict[str, Any]:
    """`messages`: already dumped and fitted to the frame (`bounds.fit_messages`)."""
    return SyncReply(
        after_change=after_change, change_seq=change_seq, messages=messages, has_more=has_more
    ).wire()


def notification_frame(event: Literal["mention", "message"], message: Message) -> dict[str, Any]:
    return NotificationFrame(
        event=event, room_id=message.room_id, message=message.model_dump(mode="json")
    ).wire()


def error_frame(
    code: str, message: str, client_msg_id: str | None = None, **extra: Any
) -> dict[str, Any]:
    """`extra`: an error's own fields (`retry_after` of RATE_LIMITED)."""
    count_error_answer(code)  # infra hook: INTERNAL/UNAVAILABLE raise the outage alarm
    return ErrorFrame(code=code, message=message, client_msg_id=client_msg_id, **extra).wire()


def readings_frame(line_id: str, points: list[dict[str, Any]]) -> dict[str, Any]:
    """The latest machine value of each machine's tag on a line (issue 18's live chart),
    at most once a second per line."""
    wired = [ReadingPointWire.model_validate(p) for p in points]
    frame = ReadingsFrame(line_id=line_id, timestamp=now_z(), points=wired).wire()
    frame["points"] = [p.wire() for p in wired]  # each point's absent keys left out too
    return frame
