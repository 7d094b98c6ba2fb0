"""Full-text search in English and Traditional Chinese, limited to the user's rooms."""

from __future__ import annotations

import uuid

import pytest

from warroom.errors import ForbiddenError, ValidationFailed
from warroom.logic import messages
from warroom.logic.search_text import HIGHLIGHT_END as E
from warroom.logic.search_text import HIGHLIGHT_START as S
from warroom.models import MessageDraft, Role

pytestmark = pytest.mark.integration


def send(db, room, sender, text):
    draft = MessageDraft(client_msg_id=uuid.uuid4(), content=text)
    return messages.send_message(room_id=room.room_id, sender_id=sender, draft=draft, db=db).message


@pytest.fixture
def two_rooms(db, make_user, make_room):
    alice, bob = make_user("alice"), make_user("bob")
    tag = uuid.uuid4().hex[:8]
    mine = make_room(alice, {bob: Role.VIEWER}, title=f"mine {tag}")
    theirs = make_room(bob, title=f"theirs {tag}")
    return dict(alice=alice, bob=bob, mine=mine, theirs=theirs, tag=tag)


def test_chinese_term_finds_chinese_text_highlighted(db, two_rooms):
    # Given a Chinese message in alice's room
    message = send(
        db, two_rooms["mine"], two_rooms["alice"], f"設備溫度上升到85°C {two_rooms['tag']}"
    )
    # When alice searches for 溫度
    hits = messages.search(
        user_id=two_rooms["alice"], query="溫度", room_id=two_rooms["mine"].room_id, db=db
    )
    # Then she finds it, with the term highlighted
    assert [h.message.message_id for h in hits] == [message.message_id]
    assert f"設備{S}溫度{E}上升到85°C" in hits[0].highlight


def test_english_term_finds_case_and_inflection(db, two_rooms):
    message = send(
        db,
        two_rooms["mine"],
        two_rooms["alice"],
        f"Temperature rising on spindle {two_rooms['tag']}",
    )
    hits = messages.search(
        user_id=two_rooms["alice"], query="temperature", room_id=two_rooms["mine"].room_id, db=db
    )
    assert [h.message.message_id for h in hits] == [message.message_id]
    assert f"{S}Temperature{E} rising" in hits[0].highlight
    rises = messages.search(
        user_id=two_rooms["alice"], query="rise", room_id=two_rooms["mine"].room_id, db=db
    )
    assert f"{S}rising{E}" in rises[0].highlight


def test_mixed_query_needs_both_parts(db, two_rooms):
    room, alice = two_rooms["mine"], two_rooms["alice"]
    both = send(db, room, alice, "CNC-07 主軸溫度 high")
    send(db, room, alice, "主軸溫度 normal")
    hits = messages.search(user_id=alice, query="high 溫度", room_id=room.room_id, db=db)
    assert [h.message.message_id for h in hits] == [both.message_id]
    assert f"{S}high{E}" in hits[0].highlight and f"{S}溫度{E}" in hits[0].highlight


def test_single_chinese_character_and_longer_phrases(db, two_rooms):
    room, alice = two_rooms["mine"], two_rooms["alice"]
    message = send(db, room, alice, "冷卻水壓力不足")
    assert (
        messages.search(user_id=alice, query="壓", room_id=room.room_id, db=db)[
            0
        ].message.message_id
        == message.message_id
    )
    assert (
        messages.search(user_id=alice, query="冷卻水壓力", room_id=room.room_id, db=db)[
            0
        ].message.message_id
        == message.message_id
    )
    assert messages.search(user_id=alice, query="熱水", room_id=room.room_id, db=db) == []


def test_search_never_crosses_into_rooms_i_am_not_in(db, two_rooms):
    # Given the same word in alice's room and in bob's private room
    tag = two_rooms["tag"]
    in_mine = send(db, two_rooms["mine"], two_rooms["alice"], f"coolant leak {tag}")
    in_theirs = send(db, two_rooms["theirs"], two_rooms["bob"], f"coolant leak {tag}")
    # When each searches everywhere
    alice_hits = {
        h.message.message_id
        for h in messages.search(user_id=two_rooms["alice"], query=f"coolant {tag}", db=db)
    }
    bob_hits = {
        h.message.message_id
        for h in messages.search(user_id=two_rooms["bob"], query=f"coolant {tag}", db=db)
    }
    # Then alice sees only her room; bob (a viewer in hers) sees both
    assert alice_hits == {in_mine.message_id}
    assert bob_hits == {in_mine.message_id, in_theirs.message_id}
    # and naming a room one is not in is refused
    with pytest.raises(ForbiddenError):
        messages.search(
            user_id=two_rooms["alice"], query="coolant", room_id=two_rooms["theirs"].room_id, db=db
        )


def test_user_supplied_markers_cannot_fake_a_highlight(db, two_rooms):
    room, alice = two_rooms["mine"], two_rooms["alice"]
    send(db, room, alice, f"{S}fake{E} pump alarm")
    hit = messages.search(user_id=alice, query="pump", room_id=room.room_id, db=db)[0]
    assert hit.highlight == f"fake {S}pump{E} alarm"


def test_long_messages_are_cut_to_a_snippet_around_the_match(db, two_rooms):
    room, alice = two_rooms["mine"], two_rooms["alice"]
    send(db, room, alice, "filler " * 200 + "bearing failure " + "tail " * 200)
    hit = messages.search(user_id=alice, query="bearing", room_id=room.room_id, db=db)[0]
    assert f"{S}bearing{E}" in hit.highlight
    assert hit.highlight.startswith("…") and hit.highlight.endswith("…")
    assert len(hit.highlight) < 400


@pytest.mark.parametrize("query", ["", "   ", "!!!", "x" * 201])
def test_empty_or_silly_queries_are_refused(db, two_rooms, query):
    with pytest.raises(ValidationFailed):
        messages.search(user_id=two_rooms["alice"], query=query, db=db)


def send_reading(db, room, sender, content):
    draft = MessageDraft(client_msg_id=uuid.uuid4(), message_type="incident_data", content=content)
    return messages.send_message(room_id=room.room_id, sender_id=sender, draft=draft, db=db).message


READING = {
    "machine_id": "CNC-12",
    "line": "L3",
    "readings": {"temperature": 87, "冷卻水流量": 2.1},
    "units": {"temperature": "°C", "冷卻水流量": "L/min"},
    "note": "主軸溫度持續上升，已通知品保",
}


def test_chinese_label_finds_a_reading_by_its_name_and_note(db, two_rooms):
    # Given a reading named in English with a Chinese note
    room, alice = two_rooms["mine"], two_rooms["alice"]
    reading = send_reading(db, room, alice, READING)
    # When alice searches for 溫度 (the label of "temperature" and a word of the note)
    hits = messages.search(user_id=alice, query="溫度", room_id=room.room_id, db=db)
    # Then she finds the reading, shown as text with the term highlighted, never as JSON
    assert [h.message.message_id for h in hits] == [reading.message_id]
    text = hits[0].highlight.replace(S, "").replace(E, "")
    assert text.startswith("CNC-12 · L3 · temperature 溫度 87 °C · 冷卻水流量 2.1 L/min — 主軸")
    assert "{" not in text and "\\u" not in text
    assert f"{S}溫度{E}" in hits[0].highlight


def test_a_reading_is_found_by_its_note_machine_line_and_english_label(db, two_rooms):
    room, alice = two_rooms["mine"], two_rooms["alice"]
    # Given a reading named in Chinese
    reading = send_reading(
        db, room, alice, {"machine_id": "CNC-12", "line": "L3", "readings": {"壓力": 3.2}}
    )
    noted = send_reading(db, room, alice, READING)
    # When searching by the note's exact text, the machine, the line and the English label
    # Then each query finds the reading it names
    for query, expected in (
        ("主軸溫度持續上升", [noted]),
        ("pressure", [reading]),
        ("CNC-12", [noted, reading]),
        ("L3", [noted, reading]),
    ):
        hits = messages.search(user_id=alice, query=query, room_id=room.room_id, db=db)
        assert [h.message.message_id for h in hits] == [m.message_id for m in expected], query


def test_reading_keys_and_json_punctuation_are_not_indexed(db, two_rooms):
    room, alice = two_rooms["mine"], two_rooms["alice"]
    # Given a reading (its JSON has the keys "readings", "units", "note")
    send_reading(db, room, alice, READING)
    # When searching for a JSON key, Then nothing is found
    assert messages.search(user_id=alice, query="units", room_id=room.room_id, db=db) == []
