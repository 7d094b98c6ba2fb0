"""Replies cut by bytes: every loop ends, every page moves forward, nothing passes the
limit."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

import pytest

from warroom.bounds import MAX_HTTP_RESPONSE_BYTES, MAX_MESSAGE_BYTES, encoded_size, fit_messages
from warroom.models import Message, Reaction
from warroom.realtime import changes_sync_frame, sync_frame

pytestmark = pytest.mark.unit


def message(seq: int, text: str = "ok", reactions: list[Reaction] | None = None) -> Message:
    return Message(
        message_id=uuid4(),
        room_id=uuid4(),
        sender_id="a@b.example",
        sender_display_name="A",
        content=text,
        message_type="text",
        mentions=[],
        created_at=datetime.now(UTC),
        sequence_number=seq,
        change_seq=seq * 10,
        reactions=reactions or [],
    )


def crowded(seq: int) -> Message:
    # 20 emoji, each from 1,100 people: the reactions alone are ~600 KB of JSON
    people = [f"person{i:05d}@plant.example" for i in range(1100)]
    emoji = "😀😁😂😃😄😅😆😉😊😋😎😍😘🥰😗😙😚🙂🤗🤩"
    return message(seq, reactions=[Reaction(emoji=e, count=1100, user_ids=people) for e in emoji])


def test_one_message_too_big_even_without_its_content_still_ends_and_fits():
    # Given a message whose reactions alone are far over one frame (the old halving
    # loop spun forever on this)
    heavy = crowded(7)
    # When it is synced, by number and by change
    for reply in (sync_frame([heavy], False), changes_sync_frame([heavy], False, 0, 70)):
        # Then the reply fits one frame and carries it as a pointer with its totals
        assert encoded_size(reply) <= MAX_MESSAGE_BYTES
        (slim,) = reply["messages"]
        assert slim["content"] is None and slim["content_truncated"] is True
        assert slim["reactions_truncated"] is True
        assert [r["count"] for r in slim["reactions"]] == [1100] * 20


def test_a_cut_change_page_resumes_after_the_last_message_it_holds():
    # Given 40 messages of 30 KB
    many = [message(n, "x" * 30_000) for n in range(1, 41)]
    # When they go in one sync reply by change number
    reply = changes_sync_frame(many, False, 0, 400)
    # Then it holds the oldest that fit, says has_more and resumes after the last held
    held = reply["messages"]
    assert 0 < len(held) < 40 and reply["has_more"] is True
    assert reply["change_seq"] == held[-1]["change_seq"]
    assert encoded_size(reply) <= MAX_MESSAGE_BYTES


def test_http_lists_stay_under_one_megabyte():
    many = [message(n, "y" * 60_000) for n in range(200)]
    kept = fit_messages(many, MAX_HTTP_RESPONSE_BYTES)
    assert 0 < len(kept) < 200
    assert encoded_size({"messages": kept}) < MAX_HTTP_RESPONSE_BYTES
    assert fit_messages([], MAX_HTTP_RESPONSE_BYTES) == []
