"""The rate limiter's bucket refills with time (issue 14, survivor 6a): a mutation that
never refilled the bucket passed every other test, because none emptied a bucket, waited,
and sent again."""

from __future__ import annotations

import time
import uuid

import pytest

from warroom.errors import RateLimited
from warroom.logic import messages
from warroom.models import MessageDraft
from warroom.settings import rate_limits

pytestmark = pytest.mark.integration

BURST = 2
PER_SECOND = 5.0  # one token every 0.2 s


@pytest.fixture
def small_bucket(monkeypatch):
    monkeypatch.setenv("RATE_LIMIT_SEND_BURST", str(BURST))
    monkeypatch.setenv("RATE_LIMIT_SEND_PER_SECOND", str(PER_SECOND))
    rate_limits.cache_clear()
    yield
    monkeypatch.undo()
    rate_limits.cache_clear()


def _send(db, room_id, sender):
    draft = MessageDraft(client_msg_id=uuid.uuid4(), content="pressure dropping")
    return messages.send_message(room_id=room_id, sender_id=sender, draft=draft, db=db)


def test_an_emptied_bucket_lets_the_sender_send_again_after_a_wait(
    db, make_user, make_room, small_bucket
):
    # Given a sender whose send bucket (2 tokens, 5 a second) has just been emptied
    sender = make_user("operator")
    room = make_room(sender)
    for _ in range(BURST):
        _send(db, room.room_id, sender)
    with pytest.raises(RateLimited):
        _send(db, room.room_id, sender)
    # When they wait longer than one token takes to come back
    time.sleep(2 / PER_SECOND)
    # Then their next message is stored (the bucket refilled), numbered after the others
    sent = _send(db, room.room_id, sender)
    assert sent.created
    assert sent.message.sequence_number == BURST + 1
