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


def test_incident_data_is_validated_and_normalized():
    checked = check_draft(
        draft(message_type="incident_data", content={"readings": {"temperature": 85}})
    )
    assert checked.content_json == {"readings": {"temperature": 85.0}, "units": {}}


@pytest.mark.parametrize(
    "fields",
    [
        {"message_type": "incident_data", "content": {"readings": {"Temp C": 1}}},
        {"message_type": "incident_data", "content": {"readings": {"t": float("nan")}}},
        {"message_type": "incident_data", "content": {"readings": {"t": 1}, "extra": 1}},
        {"content": "hi", "mentions": ["not-an-email"]},
        {"content": "hi", "mentions": [f"u{i}@x.example" for i in range(51)]},
        {"content": "hi", "file_id": str(uuid.uuid4())},
        {"content": "nul\x00byte"},
    ],
)
def test_malformed_drafts_are_validation_errors(fields):
    with pytest.raises(ValidationFailed):
        check_draft(draft(**fields))


def test_missing_or_bad_client_msg_id_is_a_validation_error():
    with pytest.raises(ValidationFailed):
        parse_draft({"content": "hi"})
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
