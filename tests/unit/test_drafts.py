"""Shape rules for a message draft, checked before any database work."""

from __future__ import annotations

import uuid

import pytest

from warroom.errors import PayloadTooLarge, ValidationFailed
from warroom.logic.messages import check_draft, parse_draft
from warroom.models import MessageType, iso_z

pytestmark = pytest.mark.unit


def draft(**fields):
    return parse_draft({"client_msg_id": str(uuid.uuid4()), **fields})


def test_text_draft_normalizes_mentions():
    checked = check_draft(
        draft(content="hi", mentions=["Bob@Factory.Example", "bob@factory.example"])
    )
    assert checked.message_type is MessageType.TEXT
    assert checked.mentions == ["bob@factory.example"]


def test_incident_data_is_validated_and_kept_as_sent():
    # Given readings in the nested shape and in the specification's flat shape
    nested = {"readings": {"pressure": 3.1, "temperature": 85}, "units": {"pressure": "bar"}}
    flat = {
        "temperature": 85,
        "pressure": 120,
        "production_rate": 450,
        "timestamp": "2026-12-01T08:00:00Z",
    }
    chinese = {"readings": {"溫度": 85, "壓力": 3.1}}
    for content in (nested, flat, chinese):
        # When each is checked
        checked = check_draft(draft(message_type="incident_data", content=content))
        # Then it is kept exactly as sent, readings in the order they were entered
        assert checked.content_json == content
        assert list(checked.content_json) == list(content)


def test_client_msg_id_is_optional():
    # Given the specification's frame, which has no client_msg_id
    parsed = parse_draft({"content": "Line 3 conveyor stopped", "message_type": "text"})
    # Then it parses; the server makes an id when it sends
    assert parsed.client_msg_id is None


@pytest.mark.parametrize(
    "fields",
    [
        {"message_type": "incident_data", "content": {"readings": {"Temp C": 1}}},
        {"message_type": "incident_data", "content": {"readings": {"t": float("nan")}}},
        {"message_type": "incident_data", "content": {"readings": {"t": 1}, "extra": 1}},
        {"message_type": "incident_data", "content": {"readings": {"t": "85"}}},
        {"message_type": "incident_data", "content": {"readings": {"t": True}}},
        {"message_type": "incident_data", "content": {"temperature": "hot"}},
        {"message_type": "incident_data", "content": {"timestamp": "2026-12-01T08:00:00Z"}},
        {"message_type": "incident_data", "content": {"t": 1, "timestamp": "yesterday"}},
        {"message_type": "incident_data", "content": {}},
        {"content": "hi", "mentions": ["not-an-email"]},
        {"content": "hi", "mentions": [f"u{i}@x.example" for i in range(51)]},
        {"content": "hi", "file_id": str(uuid.uuid4())},
        {"content": "nul\x00byte"},
    ],
)
def test_malformed_drafts_are_validation_errors(fields):
    with pytest.raises(ValidationFailed):
        check_draft(draft(**fields))


def test_bad_client_msg_id_is_a_validation_error():
    with pytest.raises(ValidationFailed):
        parse_draft({"client_msg_id": "nope", "content": "hi"})


def test_size_limit_is_counted_in_utf8_bytes():
    check_draft(draft(content="溫" * 21845))  # 65,535 bytes
    with pytest.raises(PayloadTooLarge):
        check_draft(draft(content="溫" * 21846))


def test_timestamps_are_iso_utc_with_z():
    from datetime import datetime, timedelta, timezone

    taipei = datetime(2026, 11, 26, 9, 30, tzinfo=timezone(timedelta(hours=8)))
    assert iso_z(taipei) == "2026-11-26T01:30:00.000000Z"
