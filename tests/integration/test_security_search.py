"""Search highlights cannot be faked (issue 10, item 22): markers a user puts in a
message are stripped whatever the query's language, so only the server marks matches."""

from __future__ import annotations

import uuid

import pytest

from warroom.logic import messages
from warroom.logic.search_text import HIGHLIGHT_END as E
from warroom.logic.search_text import HIGHLIGHT_START as S
from warroom.models import MessageDraft

pytestmark = pytest.mark.integration


def _send(db, room, sender, text):
    draft = MessageDraft(client_msg_id=uuid.uuid4(), content=text)
    return messages.send_message(room_id=room.room_id, sender_id=sender, draft=draft, db=db)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("溫度", f"假警報 設備{S}溫度{E}上升"),
        ("設備溫度", f"假警報 {S}設備溫度{E}上升"),
        ("pump 溫度", None),
    ],
)
def test_user_supplied_markers_are_stripped_for_chinese_queries(
    db, make_user, make_room, query, expected
):
    # Given a message that carries the highlight markers itself, around other words
    alice = make_user("alice")
    room = make_room(alice)
    _send(db, room, alice, f"{S}假警報{E} 設備溫度上升" + (" pump" if expected is None else ""))
    # When it is found by a Chinese-only (or mixed) query
    hits = messages.search(user_id=alice, query=query, room_id=room.room_id, db=db)
    # Then the only markers in the highlight are the server's, around the match
    assert len(hits) == 1
    highlight = hits[0].highlight
    if expected is not None:
        assert highlight == expected
    assert highlight.count(S) == highlight.count(E) >= 1
    assert f"{S}假警報{E}" not in highlight and "假警報" in highlight
