"""The message service on the real PostgreSQL: permissions, edits, deletes, reactions,
history pages, mentions, readings and display names."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from warroom.errors import (
    ConflictError,
    EditWindowExpired,
    ForbiddenError,
    NotFoundError,
    PayloadTooLarge,
    ValidationFailed,
)
from warroom.logic import messages, rooms
from warroom.models import MessageDraft, Role, RoomPatch, RoomStatus

pytestmark = pytest.mark.integration


def send(db, room, sender, text="hello", **extra):
    draft = MessageDraft(client_msg_id=uuid.uuid4(), content=text, **extra)
    return messages.send_message(room_id=room.room_id, sender_id=sender, draft=draft, db=db).message


@pytest.fixture
def cast(make_user, make_room):
    """A room with one member of each role, plus an outsider and a system admin."""
    owner, editor, viewer = make_user("owner"), make_user("editor"), make_user("viewer")
    outsider, admin = make_user("outsider"), make_user("admin", admin=True)
    room = make_room(owner, {editor: Role.EDITOR, viewer: Role.VIEWER})
    return dict(
        room=room, owner=owner, editor=editor, viewer=viewer, outsider=outsider, admin=admin
    )


@pytest.mark.parametrize(
    ("who", "allowed"),
    [("owner", True), ("editor", True), ("viewer", False), ("outsider", False), ("admin", False)],
)
def test_who_may_send(db, cast, who, allowed):
    # Given a room and a person with some role (or none)
    room = cast["room"]
    # When they send
    if allowed:
        message = send(db, room, cast[who], "line stopped")
        # Then it is stored under their name
        assert message.sender_id == cast[who]
    else:
        # Then they are refused, with no message written
        with pytest.raises(ForbiddenError):
            send(db, room, cast[who])
        page = messages.history(room_id=room.room_id, user_id=cast["owner"], db=db)
        assert all(m.sender_id != cast[who] for m in page.messages)


@pytest.mark.parametrize(
    ("who", "allowed"), [("owner", True), ("editor", True), ("viewer", True), ("outsider", False)]
)
def test_who_may_read(db, cast, who, allowed):
    # Given a room with a message
    send(db, cast["room"], cast["owner"], "spindle at 85°C")
    # When someone reads the history
    if allowed:
        page = messages.history(room_id=cast["room"].room_id, user_id=cast[who], db=db)
        # Then members see it
        assert any(m.content == "spindle at 85°C" for m in page.messages)
    else:
        with pytest.raises(ForbiddenError):
            messages.history(room_id=cast["room"].room_id, user_id=cast[who], db=db)


def test_unknown_room_is_not_found(db, cast):
    with pytest.raises(NotFoundError):
        send(db, type("R", (), {"room_id": uuid.uuid4()})(), cast["owner"])


def test_edit_own_message_keeps_the_old_version_in_the_audit(db, cast, sql):
    # Given an editor's message
    message = send(db, cast["room"], cast["editor"], "temp 80")
    # When they correct it
    edited = messages.edit_message(
        message_id=message.message_id, user_id=cast["editor"], content="temp 85", db=db
    ).message
    # Then readers see the new text marked as edited, and the audit keeps the old one
    assert edited.content == "temp 85" and edited.edited_at is not None
    audit = sql.execute(
        "SELECT action, prior_content FROM message_audit WHERE message_id = %s",
        (message.message_id,),
    ).fetchall()
    assert audit == [{"action": "edit", "prior_content": "temp 80"}]


def test_nobody_edits_someone_elses_message_not_even_the_owner(db, cast):
    message = send(db, cast["room"], cast["editor"], "mine")
    with pytest.raises(ForbiddenError):
        messages.edit_message(
            message_id=message.message_id, user_id=cast["owner"], content="theirs", db=db
        )


def test_edit_window_closes_after_15_minutes(db, cast, sql):
    # Given a message sent 16 minutes ago
    message = send(db, cast["room"], cast["editor"], "old")
    sql.execute(
        "UPDATE messages SET created_at = created_at - interval '16 minutes' WHERE message_id = %s",
        (message.message_id,),
    )
    # When its sender tries to edit it
    with pytest.raises(EditWindowExpired):
        messages.edit_message(
            message_id=message.message_id, user_id=cast["editor"], content="new", db=db
        )
    # Then nothing changed and nothing was audited
    assert (
        sql.execute(
            "SELECT content FROM messages WHERE message_id = %s", (message.message_id,)
        ).fetchone()["content"]
        == "old"
    )
    assert (
        sql.execute(
            "SELECT count(*) AS n FROM message_audit WHERE message_id = %s", (message.message_id,)
        ).fetchone()["n"]
        == 0
    )


def test_edit_just_inside_the_window_is_allowed(db, cast, sql):
    message = send(db, cast["room"], cast["editor"], "old")
    sql.execute(
        "UPDATE messages SET created_at = created_at - interval '14 minutes' WHERE message_id = %s",
        (message.message_id,),
    )
    assert (
        messages.edit_message(
            message_id=message.message_id, user_id=cast["editor"], content="new", db=db
        ).message.content
        == "new"
    )


@pytest.mark.parametrize(
    ("who", "allowed"),
    [
        ("sender", True),
        ("owner", True),
        ("admin", True),
        ("other_editor", False),
        ("viewer", False),
        ("outsider", False),
    ],
)
def test_delete_permission_matrix(db, cast, make_user, who, allowed):
    # Given a message by an editor, and another editor in the room
    other_editor = make_user("editor2")
    rooms.add_member(
        room_id=cast["room"].room_id,
        user_id=cast["owner"],
        member_id=other_editor,
        role=Role.EDITOR,
        db=db,
    )
    message = send(db, cast["room"], cast["editor"], "to delete")
    actor = {"sender": cast["editor"], "other_editor": other_editor}.get(who) or cast[who]
    # When someone deletes it
    if allowed:
        deleted = messages.delete_message(message_id=message.message_id, user_id=actor, db=db)
        assert deleted.message.deleted_at is not None
    else:
        with pytest.raises(ForbiddenError):
            messages.delete_message(message_id=message.message_id, user_id=actor, db=db)


def test_soft_deleted_message_is_a_placeholder_for_readers_but_kept_for_audit(db, cast, sql):
    # Given a message with a mention and a reaction
    message = send(db, cast["room"], cast["owner"], "secret reading", mentions=[cast["editor"]])
    messages.add_reaction(message_id=message.message_id, user_id=cast["editor"], emoji="👍", db=db)
    # When it is deleted
    messages.delete_message(message_id=message.message_id, user_id=cast["owner"], db=db)
    # Then history shows a placeholder with no content, mentions or reactions
    page = messages.history(room_id=cast["room"].room_id, user_id=cast["viewer"], db=db)
    shown = next(m for m in page.messages if m.message_id == message.message_id)
    assert shown.deleted_at is not None and shown.content is None
    assert shown.mentions == [] and shown.reactions == []
    # and search and mentions no longer find it
    assert messages.search(user_id=cast["owner"], query="secret", db=db) == []
    assert all(
        m.message_id != message.message_id
        for m in messages.mentions_of(user_id=cast["editor"], db=db)
    )
    # while the table and the audit still hold the content
    assert (
        sql.execute(
            "SELECT content FROM messages WHERE message_id = %s", (message.message_id,)
        ).fetchone()["content"]
        == "secret reading"
    )
    audit = sql.execute(
        "SELECT action, prior_content FROM message_audit WHERE message_id = %s",
        (message.message_id,),
    ).fetchall()
    assert audit == [{"action": "delete", "prior_content": "secret reading"}]


def test_audit_trail_is_append_only(db, cast, sql):
    import psycopg

    message = send(db, cast["room"], cast["editor"], "v1")
    messages.edit_message(
        message_id=message.message_id, user_id=cast["editor"], content="v2", db=db
    )
    with pytest.raises(psycopg.errors.RaiseException):
        sql.execute("DELETE FROM message_audit WHERE message_id = %s", (message.message_id,))


def test_reactions_are_counted_per_emoji_and_toggle(db, cast):
    # Given a message
    message = send(db, cast["room"], cast["owner"], "found the cause")
    # When two people react with 👍, one also with 🔥, and one 👍 twice
    messages.add_reaction(message_id=message.message_id, user_id=cast["owner"], emoji="👍", db=db)
    messages.add_reaction(message_id=message.message_id, user_id=cast["editor"], emoji="👍", db=db)
    messages.add_reaction(message_id=message.message_id, user_id=cast["editor"], emoji="👍", db=db)
    change = messages.add_reaction(
        message_id=message.message_id, user_id=cast["editor"], emoji="🔥", db=db
    ).change
    # Then counts are per emoji and a repeated reaction counts once
    assert [(r.emoji, r.count) for r in change.reactions] == [("👍", 2), ("🔥", 1)]
    # When one removes their 👍
    removed = messages.remove_reaction(
        message_id=message.message_id, user_id=cast["owner"], emoji="👍", db=db
    ).change
    assert [(r.emoji, r.count, r.user_ids) for r in removed.reactions] == [
        ("👍", 1, [cast["editor"]]),
        ("🔥", 1, [cast["editor"]]),
    ]
    # and each change carries a higher version than the last, to order the fan-out
    assert removed.version > change.version
    # and a viewer may react (an acknowledgement, issue 16), but nobody with a word
    acknowledged = messages.add_reaction(
        message_id=message.message_id, user_id=cast["viewer"], emoji="👍", db=db
    ).change
    assert (acknowledged.reactions[0].emoji, acknowledged.reactions[0].count) == ("👍", 2)
    assert cast["viewer"] in acknowledged.reactions[0].user_ids
    with pytest.raises(ValidationFailed):
        messages.add_reaction(
            message_id=message.message_id, user_id=cast["owner"], emoji="lol", db=db
        )


def test_history_pages_newest_first_with_cursors(db, cast):
    # Given 7 messages
    room = cast["room"]
    sent = [send(db, room, cast["owner"], f"m{i}") for i in range(7)]
    # When reading 3 at a time with before_seq
    first = messages.history(room_id=room.room_id, user_id=cast["owner"], limit=3, db=db)
    second = messages.history(
        room_id=room.room_id,
        user_id=cast["owner"],
        limit=3,
        before_seq=first.next_before_seq,
        db=db,
    )
    # Then pages are newest first and continue exactly
    assert [m.content for m in first.messages] == ["m6", "m5", "m4"]
    assert [m.content for m in second.messages] == ["m3", "m2", "m1"]
    assert first.has_more and second.has_more
    # and the timestamp cursor gives the same page as the sequence cursor
    by_time = messages.history(
        room_id=room.room_id, user_id=cast["owner"], limit=3, before=first.next_before, db=db
    )
    assert [m.message_id for m in by_time.messages] == [m.message_id for m in second.messages]
    # When reading the last page
    last = messages.history(
        room_id=room.room_id,
        user_id=cast["owner"],
        limit=50,
        before_seq=sent[0].sequence_number,
        db=db,
    )
    # Then it holds only what came before (the membership events), has_more is false
    # and there is no next cursor
    assert not last.has_more and last.next_before is None
    assert [m.message_type for m in last.messages] == ["system", "system"]
    assert last.messages[-1].sequence_number == 1


def test_history_after_seq_catches_up_oldest_first(db, cast):
    room = cast["room"]
    sent = [send(db, room, cast["owner"], f"c{i}") for i in range(5)]
    page = messages.history(
        room_id=room.room_id,
        user_id=cast["viewer"],
        after_seq=sent[1].sequence_number,
        limit=2,
        db=db,
    )
    assert [m.content for m in page.messages] == ["c2", "c3"]
    assert page.has_more and page.next_after_seq == sent[3].sequence_number
    rest = messages.history(
        room_id=room.room_id, user_id=cast["viewer"], after_seq=page.next_after_seq, db=db
    )
    assert [m.content for m in rest.messages] == ["c4"] and not rest.has_more


def test_history_edges(db, cast):
    room = cast["room"]
    # an empty page after the newest message
    page = messages.history(room_id=room.room_id, user_id=cast["owner"], after_seq=10_000, db=db)
    assert page.messages == [] and not page.has_more
    # limit is capped at 200 and must be positive; cursors cannot be mixed
    with pytest.raises(ValidationFailed):
        messages.history(room_id=room.room_id, user_id=cast["owner"], limit=0, db=db)
    with pytest.raises(ValidationFailed):
        messages.history(
            room_id=room.room_id, user_id=cast["owner"], after_seq=1, before_seq=5, db=db
        )
    many = messages.history(room_id=room.room_id, user_id=cast["owner"], limit=10_000, db=db)
    assert len(many.messages) <= 200


def test_sender_display_name_falls_back_to_sender_id(db, cast, sql):
    # Given an editor who is not (or no longer) in the directory
    ghost = f"ghost-{uuid.uuid4().hex[:6]}@factory.example"
    sql.execute(
        "INSERT INTO room_members (room_id, user_id, role) VALUES (%s, %s, 'EDITOR')",
        (cast["room"].room_id, ghost),
    )
    # When both a known and an unknown user send
    known = send(db, cast["room"], cast["owner"], "known")
    unknown = send(db, cast["room"], ghost, "unknown")
    page = messages.history(room_id=cast["room"].room_id, user_id=cast["owner"], db=db)
    names = {m.message_id: m.sender_display_name for m in page.messages}
    # Then the known one carries the directory name and the unknown one their id
    assert names[known.message_id] == "Owner" and known.sender_display_name == "Owner"
    assert names[unknown.message_id] == ghost and unknown.sender_display_name == ghost


def test_mentions_keep_members_and_report_the_others(db, cast):
    message = send(
        db, cast["room"], cast["owner"], "@Editor please check", mentions=[cast["editor"].upper()]
    )
    assert message.mentions == [cast["editor"]]
    found = messages.mentions_of(user_id=cast["editor"], db=db)
    assert [m.message_id for m in found][:1] == [message.message_id]
    # Given a mention of someone outside the room beside a member
    # When the message is sent
    sent = messages.send_message(
        room_id=cast["room"].room_id,
        sender_id=cast["owner"],
        draft=MessageDraft(
            content="hey", mentions=[cast["outsider"], cast["editor"], "nobody@nowhere.example"]
        ),
        db=db,
    )
    # Then it is stored with the member's mention only, and the others are reported
    assert sent.created and sent.message.mentions == [cast["editor"]]
    assert sent.unresolved_mentions == [cast["outsider"], "nobody@nowhere.example"]
    # and the outsider has no mention to find
    assert messages.mentions_of(user_id=cast["outsider"], db=db) == []


def test_incident_data_filtered_by_field_and_range(db, cast):
    room = cast["room"]
    for temperature in (72.5, 80, 85.2, 91):
        messages.send_message(
            room_id=room.room_id,
            sender_id=cast["editor"],
            db=db,
            draft=MessageDraft(
                client_msg_id=uuid.uuid4(),
                message_type="incident_data",
                content={
                    "machine_id": "CNC-07",
                    "readings": {"temperature": temperature, "pressure": 3.1},
                },
            ),
        )
    hot = messages.incident_readings(
        room_id=room.room_id, user_id=cast["viewer"], field="temperature", minimum=80, db=db
    )
    assert [m.content["readings"]["temperature"] for m in hot] == [80, 85.2, 91]
    band = messages.incident_readings(
        room_id=room.room_id,
        user_id=cast["viewer"],
        field="temperature",
        minimum=80,
        maximum=90,
        db=db,
    )
    assert [m.content["readings"]["temperature"] for m in band] == [80, 85.2]
    assert (
        messages.incident_readings(
            room_id=room.room_id, user_id=cast["viewer"], field="humidity", db=db
        )
        == []
    )
    with pytest.raises(ValidationFailed):
        messages.incident_readings(
            room_id=room.room_id, user_id=cast["viewer"], field="temp; drop table", db=db
        )
    with pytest.raises(ForbiddenError):
        messages.incident_readings(
            room_id=room.room_id, user_id=cast["outsider"], field="temperature", db=db
        )


@pytest.mark.parametrize(
    ("payload", "error"),
    [
        ({"message_type": "poem", "content": "x"}, ValidationFailed),
        ({"message_type": "text", "content": "x" * (64 * 1024 + 1)}, PayloadTooLarge),
        ({"message_type": "text", "content": "   "}, ValidationFailed),
        ({"message_type": "system", "content": "fake"}, ValidationFailed),
        (
            {"message_type": "incident_data", "content": {"readings": {"temperature": "hot"}}},
            ValidationFailed,
        ),
        ({"message_type": "incident_data", "content": {"readings": {}}}, ValidationFailed),
        ({"message_type": "incident_data", "content": "85"}, ValidationFailed),
        ({"message_type": "image_ref", "content": "photo"}, ValidationFailed),
        ({"message_type": "file_ref", "file_id": str(uuid.uuid4())}, NotFoundError),
    ],
)
def test_bad_input_is_refused_and_changes_nothing(db, cast, sql, payload, error):
    room = cast["room"]
    before = sql.execute(
        "SELECT last_seq FROM incident_rooms WHERE room_id = %s", (room.room_id,)
    ).fetchone()["last_seq"]
    with pytest.raises(error):
        messages.send_message(
            room_id=room.room_id,
            sender_id=cast["owner"],
            db=db,
            draft=messages.parse_draft({"client_msg_id": str(uuid.uuid4()), **payload}),
        )
    after = sql.execute(
        "SELECT last_seq FROM incident_rooms WHERE room_id = %s", (room.room_id,)
    ).fetchone()["last_seq"]
    assert after == before


def test_content_of_exactly_64_kb_is_accepted(db, cast):
    message = send(db, cast["room"], cast["owner"], "é" * (32 * 1024))
    assert len(message.content.encode()) == 64 * 1024


def test_status_change_is_kept_as_a_system_message(db, cast):
    room = cast["room"]
    change = rooms.update_room(
        room_id=room.room_id,
        user_id=cast["owner"],
        patch=RoomPatch(status=RoomStatus.RESOLVED),
        db=db,
    )
    assert change.room.status == RoomStatus.RESOLVED
    event, _recipients = change.events[0]
    assert event.message_type == "system"
    assert event.content["event"] == "room_status_changed"
    with pytest.raises(ForbiddenError):
        rooms.update_room(
            room_id=room.room_id, user_id=cast["editor"], patch=RoomPatch(title="x"), db=db
        )


def test_archived_room_is_read_only(db, cast):
    room = cast["room"]
    rooms.update_room(
        room_id=room.room_id,
        user_id=cast["owner"],
        patch=RoomPatch(status=RoomStatus.ARCHIVED),
        db=db,
    )
    with pytest.raises(ConflictError):
        send(db, room, cast["owner"], "too late")
    assert messages.history(room_id=room.room_id, user_id=cast["viewer"], db=db).messages


def test_unread_and_mention_counts_follow_the_read_mark(db, cast):
    room = cast["room"]
    rooms.mark_read(room_id=room.room_id, user_id=cast["editor"], last_read_seq=10_000, db=db)
    send(db, room, cast["owner"], "one")
    last = send(db, room, cast["owner"], "two @editor", mentions=[cast["editor"]])
    send(db, room, cast["editor"], "my own message is not unread")
    mine = {r.room_id: r for r in rooms.list_rooms(user_id=cast["editor"], db=db)}[room.room_id]
    assert (mine.unread_count, mine.mention_count) == (2, 1)
    rooms.mark_read(
        room_id=room.room_id, user_id=cast["editor"], last_read_seq=last.sequence_number, db=db
    )
    mine = rooms.get_room(room_id=room.room_id, user_id=cast["editor"], db=db)
    assert (mine.unread_count, mine.mention_count) == (0, 0)


def test_last_owner_cannot_leave_or_be_demoted(db, cast):
    room = cast["room"]
    with pytest.raises(ConflictError):
        rooms.remove_member(
            room_id=room.room_id, user_id=cast["owner"], member_id=cast["owner"], db=db
        )
    with pytest.raises(ConflictError):
        rooms.change_member_role(
            room_id=room.room_id,
            user_id=cast["owner"],
            member_id=cast["owner"],
            role=Role.EDITOR,
            db=db,
        )


def test_old_messages_survive_clock_skew_in_pagination(db, cast, sql):
    # created_at is taken under the room lock and strictly increases, even if the
    # previous message carries a later timestamp (e.g. after a clock step back)
    room = cast["room"]
    first = send(db, room, cast["owner"], "a")
    sql.execute(
        "UPDATE incident_rooms SET last_activity_at = last_activity_at + interval '1 hour' WHERE room_id = %s",
        (room.room_id,),
    )
    second = send(db, room, cast["owner"], "b")
    assert second.created_at > first.created_at + timedelta(minutes=59)


def test_a_resend_after_the_room_was_archived_still_gets_the_original(db, cast):
    # Given a message stored just before the room was archived
    draft = MessageDraft(client_msg_id=uuid.uuid4(), content="last words")
    first = messages.send_message(
        room_id=cast["room"].room_id, sender_id=cast["editor"], draft=draft, db=db
    )
    rooms.update_room(
        room_id=cast["room"].room_id,
        user_id=cast["owner"],
        patch=RoomPatch(status=RoomStatus.ARCHIVED),
        db=db,
    )
    # When the outbox resends it (its ack was lost)
    again = messages.send_message(
        room_id=cast["room"].room_id, sender_id=cast["editor"], draft=draft, db=db
    )
    # Then it learns the original, and a new message is refused
    assert not again.created and again.message.message_id == first.message.message_id
    with pytest.raises(ConflictError):
        send(db, cast["room"], cast["editor"], "new words")


def test_readings_in_either_shape_and_any_language_are_found_by_field(db, cast):
    # Given readings in the flat shape, the nested shape, and with Chinese names
    room = cast["room"]
    shapes = [
        {
            "temperature": 85,
            "pressure": 120,
            "production_rate": 450,
            "timestamp": "2026-12-01T08:00:00Z",
        },
        {"machine_id": "CNC-07", "readings": {"temperature": 79.5, "pressure": 3.1}},
        {"readings": {"溫度": 91, "壓力": 2.9}, "units": {"溫度": "°C"}},
        {"temperature": 95, "note": "flat, with a note"},
    ]
    for content in shapes:
        messages.send_message(
            room_id=room.room_id,
            sender_id=cast["editor"],
            draft=MessageDraft(message_type="incident_data", content=content),
            db=db,
        )
    # When they are queried by field and range
    hot = messages.incident_readings(
        room_id=room.room_id, user_id=cast["viewer"], field="temperature", minimum=80, db=db
    )
    chinese = messages.incident_readings(
        room_id=room.room_id, user_id=cast["viewer"], field="溫度", minimum=90, db=db
    )
    # Then both shapes are found, and each comes back exactly as sent, in its order
    assert [m.content for m in hot] == [shapes[0], shapes[3]]
    assert [list(m.content) for m in hot] == [list(shapes[0]), list(shapes[3])]
    assert [m.content for m in chinese] == [shapes[2]]
    assert list(chinese[0].content["readings"]) == ["溫度", "壓力"]


def test_an_edit_keeps_only_members_in_its_mentions(db, cast):
    # Given an editor's message
    message = send(db, cast["room"], cast["editor"], "check this")
    # When they edit it to mention a member and someone outside the room
    edited = messages.edit_message(
        message_id=message.message_id,
        user_id=cast["editor"],
        content="@Owner @Outsider check this",
        mentions=[cast["outsider"], cast["owner"]],
        db=db,
    ).message
    # Then only the member is mentioned, and the outsider finds no mention of them
    assert edited.mentions == [cast["owner"]]
    assert messages.mentions_of(user_id=cast["outsider"], db=db) == []
