"""Gap-free, unique, consecutive sequence numbers under concurrency, and idempotent sends."""

from __future__ import annotations

import itertools
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from warroom.errors import NotFoundError
from warroom.logic import messages
from warroom.models import MessageDraft

pytestmark = pytest.mark.integration


def _draft(text: str, client_msg_id: uuid.UUID | None = None) -> MessageDraft:
    return MessageDraft(client_msg_id=client_msg_id or uuid.uuid4(), content=text)


def test_200_concurrent_senders_get_consecutive_numbers_without_gaps(db, make_user, make_room, sql):
    # Given a room with 200 editors (members arranged directly, so no system messages)
    owner = make_user("owner")
    room = make_room(owner)
    senders = [f"sender{i}-{uuid.uuid4().hex[:6]}@factory.example" for i in range(200)]
    with sql.cursor() as cur:
        cur.executemany(
            "INSERT INTO room_members (room_id, user_id, role) VALUES (%s, %s, 'EDITOR')",
            [(room.room_id, s) for s in senders],
        )
    start = threading.Barrier(200)

    def send(sender: str) -> int:
        start.wait()
        result = messages.send_message(
            room_id=room.room_id, sender_id=sender, draft=_draft(f"reading from {sender}"), db=db
        )
        return result.message.sequence_number

    # When all 200 send at the same moment
    with ThreadPoolExecutor(max_workers=200) as pool:
        numbers = list(pool.map(send, senders))

    # Then the numbers are exactly 1..200, and the table and the counter agree
    assert sorted(numbers) == list(range(1, 201))
    stored = [
        r["sequence_number"]
        for r in sql.execute(
            "SELECT sequence_number FROM messages WHERE room_id = %s ORDER BY 1", (room.room_id,)
        )
    ]
    assert stored == list(range(1, 201))
    counter = sql.execute(
        "SELECT last_seq FROM incident_rooms WHERE room_id = %s", (room.room_id,)
    ).fetchone()
    assert counter["last_seq"] == 200
    # and created_at follows the sequence order strictly (the timestamp cursor relies on it)
    times = [
        r["created_at"]
        for r in sql.execute(
            "SELECT created_at FROM messages WHERE room_id = %s ORDER BY sequence_number",
            (room.room_id,),
        )
    ]
    assert all(a < b for a, b in itertools.pairwise(times))


def test_resending_the_same_client_msg_id_returns_the_original_and_consumes_no_number(
    db, make_user, make_room
):
    # Given a message already sent
    owner = make_user("owner")
    room = make_room(owner)
    client_msg_id = uuid.uuid4()
    first = messages.send_message(
        room_id=room.room_id, sender_id=owner, draft=_draft("hello", client_msg_id), db=db
    )

    # When the client resends it (say, after a lost ack), even with other content
    again = messages.send_message(
        room_id=room.room_id, sender_id=owner, draft=_draft("hello?", client_msg_id), db=db
    )
    following = messages.send_message(
        room_id=room.room_id, sender_id=owner, draft=_draft("next"), db=db
    )

    # Then the original comes back, and the next message takes the next number
    assert first.created and not again.created
    assert again.message.message_id == first.message.message_id
    assert again.message.content == "hello"
    assert following.message.sequence_number == first.message.sequence_number + 1


def test_concurrent_resends_of_one_message_store_it_once(db, make_user, make_room, sql):
    # Given one client message id sent 20 times at once (a flaky connection retrying)
    owner = make_user("owner")
    room = make_room(owner)
    client_msg_id = uuid.uuid4()
    start = threading.Barrier(20)

    def send(_: int):
        start.wait()
        return messages.send_message(
            room_id=room.room_id, sender_id=owner, draft=_draft("once", client_msg_id), db=db
        )

    # When they race
    with ThreadPoolExecutor(max_workers=20) as pool:
        results = list(pool.map(send, range(20)))

    # Then exactly one was created, all got the same message, and no number was burnt
    assert sum(r.created for r in results) == 1
    assert {r.message.message_id for r in results} == {results[0].message.message_id}
    counter = sql.execute(
        "SELECT last_seq FROM incident_rooms WHERE room_id = %s", (room.room_id,)
    ).fetchone()
    assert counter["last_seq"] == 1


def test_a_refused_send_consumes_no_number(db, make_user, make_room, sql):
    # Given a room and a send refused in the database (a file of no room)
    owner = make_user("owner")
    room = make_room(owner)

    # When the refused send is followed by a good one
    with pytest.raises(NotFoundError):
        messages.send_message(
            room_id=room.room_id,
            sender_id=owner,
            draft=MessageDraft(
                client_msg_id=uuid.uuid4(), message_type="file_ref", file_id=uuid.uuid4()
            ),
            db=db,
        )
    ok = messages.send_message(room_id=room.room_id, sender_id=owner, draft=_draft("ok"), db=db)

    # Then the good one is number 1 and nothing else was written
    assert ok.message.sequence_number == 1
    count = sql.execute(
        "SELECT count(*) AS n FROM messages WHERE room_id = %s", (room.room_id,)
    ).fetchone()
    assert count["n"] == 1
