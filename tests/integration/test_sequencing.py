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


def test_concurrent_reactions_each_return_complete_totals_with_their_version(
    db, make_user, make_room
):
    from warroom.models import Role

    # Given a message and eight members
    owner = make_user("owner")
    people = [make_user(f"fan{i}") for i in range(8)]
    room = make_room(owner, {p: Role.EDITOR for p in people})
    message = messages.send_message(
        room_id=room.room_id, sender_id=owner, draft=_draft("react!"), db=db
    ).message
    emoji = ["👍", "🔥", "👀", "✅"]
    jobs = [(p, e) for p in people for e in emoji]
    start = threading.Barrier(8)

    def react(batch: list[tuple[str, str]]):
        start.wait()
        return [
            messages.add_reaction(message_id=message.message_id, user_id=p, emoji=e, db=db).change
            for p, e in batch
        ]

    # When they all react at once, 32 reactions from 8 threads
    with ThreadPoolExecutor(8) as pool:
        results = list(
            itertools.chain.from_iterable(pool.map(react, [jobs[i::8] for i in range(8)]))
        )
    # Then every change has its own version, and each version's totals count exactly
    # as many reactions as changes up to it: no answer misses a concurrent reaction
    versions = sorted(r.version for r in results)
    assert versions == list(range(1, 33))
    for change in results:
        assert sum(r.count for r in change.reactions) == change.version
    final = max(results, key=lambda r: r.version)
    assert {r.emoji: r.count for r in final.reactions} == dict.fromkeys(emoji, 8)
    # and change numbers follow the same order as the versions
    by_version = sorted(results, key=lambda r: r.version)
    assert [r.change_seq for r in by_version] == sorted(r.change_seq for r in results)


def test_change_numbers_under_concurrent_writes_are_unique_and_resume_sees_the_latest(
    db, make_user, make_room, sql
):
    from warroom.models import Role

    # Given six writers in one room
    owner = make_user("owner")
    writers = [owner] + [make_user(f"w{i}") for i in range(5)]
    room = make_room(owner, {w: Role.EDITOR for w in writers[1:]})
    start_change = sql.execute(
        "SELECT last_change_seq FROM incident_rooms WHERE room_id = %s", (room.room_id,)
    ).fetchone()["last_change_seq"]
    start = threading.Barrier(len(writers))

    def work(writer: str) -> int:
        start.wait()
        changes = 0
        for n in range(5):
            sent = messages.send_message(
                room_id=room.room_id, sender_id=writer, draft=_draft(f"{writer} {n}"), db=db
            ).message
            messages.edit_message(
                message_id=sent.message_id, user_id=writer, content=f"{writer} {n} (fixed)", db=db
            )
            messages.add_reaction(message_id=sent.message_id, user_id=writer, emoji="👍", db=db)
            changes += 3
        return changes

    # When they send, edit and react at the same time
    with ThreadPoolExecutor(len(writers)) as pool:
        total = sum(pool.map(work, writers))
    # Then every change took its own number, none skipped
    end_change = sql.execute(
        "SELECT last_change_seq FROM incident_rooms WHERE room_id = %s", (room.room_id,)
    ).fetchone()["last_change_seq"]
    assert end_change - start_change == total
    # and a client resuming from before sees each message once, in its final state
    seen, after = [], start_change
    while True:
        page = messages.changed_since(
            room_id=room.room_id, user_id=owner, after_change=after, limit=7, db=db
        )
        seen += page.messages
        after = page.change_seq
        if not page.has_more:
            break
    assert len(seen) == len({m.message_id for m in seen}) == len(writers) * 5
    assert all(m.content.endswith("(fixed)") and m.reactions[0].count == 1 for m in seen)
    assert [m.change_seq for m in seen] == sorted(m.change_seq for m in seen)
    assert after == end_change


def test_a_member_demoted_while_their_send_waits_for_the_room_cannot_post(
    db, make_user, make_room, database_url
):
    import psycopg

    from warroom.errors import ForbiddenError
    from warroom.models import Role

    # Given an editor, and the room's row held by another transaction (an owner's change)
    owner, editor = make_user("owner"), make_user("editor")
    room = make_room(owner, {editor: Role.EDITOR})
    with psycopg.connect(database_url) as owner_tx:
        owner_tx.execute(
            "SELECT 1 FROM incident_rooms WHERE room_id = %s FOR UPDATE", (room.room_id,)
        )
        # When the editor's send starts (and waits for the row) ...
        with ThreadPoolExecutor(1) as pool:
            sending = pool.submit(
                messages.send_message,
                room_id=room.room_id,
                sender_id=editor,
                draft=_draft("slipping in?"),
                db=db,
            )
            _wait_until_blocked_on_a_lock(database_url)
            # ... and the owner demotes them to VIEWER and commits
            owner_tx.execute(
                "UPDATE room_members SET role = 'VIEWER' WHERE room_id = %s AND user_id = %s",
                (room.room_id, editor),
            )
            owner_tx.execute(
                "UPDATE incident_rooms SET members_version = members_version + 1 "
                "WHERE room_id = %s",
                (room.room_id,),
            )
            owner_tx.commit()
            # Then the send is refused as a viewer's, and nothing was stored
            with pytest.raises(ForbiddenError):
                sending.result(timeout=30)
    history = messages.history(room_id=room.room_id, user_id=owner, db=db)
    assert "slipping in?" not in [m.content for m in history.messages]


def _wait_until_blocked_on_a_lock(database_url: str) -> None:
    import time

    import psycopg

    with psycopg.connect(database_url, autocommit=True) as watch:
        for _ in range(300):
            waiting = watch.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock'"
            ).fetchone()
            if waiting and waiting[0] > 0:
                return
            time.sleep(0.01)
    raise AssertionError("the send never waited for the room's lock")
