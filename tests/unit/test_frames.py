"""Every outbound frame is built in frames.py from its model, the JSON on the wire is what
docs/protocol.md says, and the schema the web client's types are generated from says
exactly what the builders send (required keys always there, optional keys only when set)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

import pytest
from jsonschema import Draft202012Validator

from infra.constants import WS_PONG_FRAME
from local.gateway import PONG
from warroom import bounds, frames, wire_schema
from warroom.models import Message, Reaction, ReactionChange

pytestmark = pytest.mark.unit

Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")


def a_message(**changes: Any) -> Message:
    fields: dict[str, Any] = {
        "message_id": uuid4(),
        "room_id": uuid4(),
        "sender_id": "amy@factory.example",
        "sender_display_name": "Amy",
        "content": "spindle at 91 °C",
        "message_type": "text",
        "mentions": [],
        "created_at": datetime(2026, 12, 6, 1, 2, 3, 456789, tzinfo=UTC),
        "sequence_number": 7,
        "change_seq": 12,
        "reactions": [Reaction(emoji="👍", count=1, user_ids=["bo@factory.example"])],
        "client_msg_id": uuid4(),
    }
    return Message(**(fields | changes))


def validator_for(model: type) -> Draft202012Validator:
    document = wire_schema.document()
    return Draft202012Validator({"$ref": f"#/$defs/{model.__name__}", "$defs": document["$defs"]})


def test_typing_pong_and_presence_frames_are_the_documented_json():
    # Given the frames realtime.py used to write by hand
    # When frames.py builds them
    typing = frames.typing_frame("amy@factory.example", "Amy", False)
    pong = frames.pong_frame()
    online = frames.online_frame({"bo@x.example": "Bo", "amy@x.example": "Amy"})
    # Then the JSON is exactly what went on the wire before (keys, values, user order)
    assert typing == {
        "type": "typing",
        "user_id": "amy@factory.example",
        "display_name": "Amy",
        "is_typing": False,
    }
    assert pong == {"type": "pong"}
    # And the pong answered without the backend (local gateway, the cloud's MOCK route)
    # is the same bytes
    assert bounds.encode(pong) == PONG == WS_PONG_FRAME.encode()
    assert online == {
        "type": "presence",
        "online": [
            {"user_id": "amy@x.example", "display_name": "Amy"},
            {"user_id": "bo@x.example", "display_name": "Bo"},
        ],
    }


def test_optional_keys_are_left_out_when_unset_and_nullable_keys_stay():
    # Given a room event, a coalesced join, an error without a client id, and a sync by number
    event = frames.system_frame("room_status_changed", "amy@x.example", room_id="r", change_seq=4)
    joined = frames.presence_frame("user_joined", [("amy@x.example", "Amy")])
    error = frames.error_frame("VALIDATION", "no")
    sync = frames.sync_reply([], False)
    # Then each carries only its own keys
    assert set(event) == {"type", "event", "user_id", "timestamp", "room_id", "change_seq"}
    assert set(joined) == {"type", "event", "user_id", "timestamp", "display_name", "users"}
    assert joined["users"] == [{"user_id": "amy@x.example", "display_name": "Amy"}]
    assert Z.match(joined["timestamp"])
    # And a key that is null on the wire is there, null
    assert error == {"type": "error", "code": "VALIDATION", "message": "no", "client_msg_id": None}
    assert sync == {"type": "sync", "messages": [], "has_more": False}


def test_message_frames_carry_the_message_as_dumped():
    # Given a message
    message = a_message()
    # When it is sent, edited and notified
    sent = frames.message_frame(message)
    edited = frames.edited_frame(message)
    notified = frames.notification_frame("mention", message)
    ack = frames.ack_frame(message, ["ghost@x.example"])
    # Then each holds the message exactly as Message dumps it
    dumped = message.model_dump(mode="json")
    assert sent == {"type": "message", "message": dumped, "change_seq": 12}
    assert edited == {"type": "message_edited", "message": dumped, "change_seq": 12}
    assert notified == {
        "type": "notification",
        "event": "mention",
        "room_id": str(message.room_id),
        "message": dumped,
    }
    assert ack == {
        "type": "ack",
        "client_msg_id": str(message.client_msg_id),
        "message_id": str(message.message_id),
        "sequence_number": 7,
        "created_at": "2026-12-06T01:02:03.456789Z",
        "change_seq": 12,
        "unresolved_mentions": ["ghost@x.example"],
    }
    assert next(iter(ack)) == "type"


def every_frame() -> list[tuple[type, dict[str, Any]]]:
    message = a_message()
    deleted = a_message(deleted_at=datetime(2026, 12, 6, 2, tzinfo=UTC), content=None)
    change = ReactionChange(
        room_id=message.room_id, message_id=message.message_id, reactions=[], version=3
    )
    slimmed = bounds.slimmest(message.model_dump(mode="json"))
    flat = a_message(message_type="incident_data", content={"temperature": 85, "note": "hot"})
    nested = a_message(
        message_type="incident_data",
        content={"machine_id": "CNC-07", "readings": {"溫度": 85.2}, "units": {"溫度": "°C"}},
    )
    return [
        (frames.AckFrame, frames.ack_frame(a_message(client_msg_id=None))),
        (frames.MessageFrame, frames.message_frame(message)),
        (frames.MessageFrame, frames.message_frame(flat)),
        (frames.MessageFrame, frames.message_frame(nested)),
        (frames.MessageEditedFrame, frames.edited_frame(message)),
        (frames.MessageDeletedFrame, frames.deleted_frame(deleted)),
        (frames.ReactionUpdatedFrame, frames.reactions_frame(change)),
        (frames.SystemFrame, frames.system_frame("member_added", "a@x.example", room_id="r")),
        (frames.SystemFrame, frames.presence_frame("user_left", [("a@x", "A"), ("b@x", "B")])),
        (frames.PresenceFrame, frames.online_frame({"a@x": "A"})),
        (frames.TypingNotice, frames.typing_frame("a@x", "A", True)),
        (frames.PongFrame, frames.pong_frame()),
        (frames.SyncReply, frames.sync_reply([slimmed], True)),
        (frames.SyncReply, frames.sync_reply([], False, after_change=3, change_seq=9)),
        (frames.NotificationFrame, frames.notification_frame("message", message)),
        (frames.ErrorFrame, frames.error_frame("RATE_LIMITED", "slow", "c-1", retry_after=2)),
    ]


@pytest.mark.parametrize(
    ("model", "frame"), every_frame(), ids=lambda v: getattr(v, "__name__", "")
)
def test_every_built_frame_fits_the_schema_the_web_types_come_from(model, frame):
    # Given a frame as a builder makes it
    # When it is checked against its definition in the generated document
    errors = [e.message for e in validator_for(model).iter_errors(frame)]
    # Then it fits, and the union of server frames takes it too
    assert errors == []
    document = wire_schema.document()
    assert Draft202012Validator(document).is_valid(frame)


def test_the_schema_refuses_a_frame_missing_a_key_or_with_a_null_optional_key():
    # Given the schema of a message frame and of a system frame
    message_frame = frames.message_frame(a_message())
    system = frames.system_frame("member_added", "a@x.example", room_id="r", change_seq=2)
    # When a required key is missing, or an optional key is sent as null
    missing = {k: v for k, v in message_frame.items() if k != "change_seq"}
    nulled = {**system, "room_id": None}
    bare_message = {**message_frame, "message": {"message_id": "m"}}
    # Then the schema says no: it describes exactly what the builders send
    assert not validator_for(frames.MessageFrame).is_valid(missing)
    assert not validator_for(frames.SystemFrame).is_valid(nulled)
    assert not validator_for(frames.MessageFrame).is_valid(bare_message)


def test_every_server_frame_type_is_in_the_union_once():
    # Given the frame models
    kinds = [model.model_fields["type"].default for model in frames.SERVER_FRAMES]
    # Then each `type` is one frame, and the document's root offers each of them
    assert len(kinds) == len(set(kinds)) == 13  # issue 18 added `readings`
    refs = [branch["$ref"] for branch in wire_schema.document()["anyOf"]]
    assert refs == [f"#/$defs/{model.__name__}" for model in frames.SERVER_FRAMES]


def test_the_readings_frame_matches_its_schema():
    # Given a batch's newest machine values, as the live chart sends them
    points = [
        {"machine_id": "OVEN-1", "tag": "zone1_temp", "ts": "2026-12-06T01:02:03Z",
         "value": 186.4, "unit": "°C", "quality": "uncertain", "origin": "machine"},
        {"machine_id": "PRESS-2", "tag": "pressure", "ts": "2026-12-06T01:02:03Z",
         "value": 6.1, "quality": "good", "origin": "machine"},
    ]  # fmt: skip
    # When the frame is built
    frame = frames.readings_frame("7f0c4a4e-0000-4000-8000-000000000001", points)
    # Then it is valid against the schema the web client checks frames with, and a key
    # without a value (no unit) is left out rather than sent as null
    assert validator_for(frames.ReadingsFrame).is_valid(frame)
    assert frame["type"] == "readings" and "unit" not in frame["points"][1]
    assert not validator_for(frames.ReadingsFrame).is_valid({**frame, "points": [{"tag": "x"}]})
