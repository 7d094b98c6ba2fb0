"""The delivery contract under real conditions (issue 8) and the data path's costs
(issue 9), driven through the Lambda handlers on the real PostgreSQL with a recording
Management API that answers 410 for a socket whose `$connect` has not returned, as API
Gateway does."""

from __future__ import annotations

import re
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from functions.connect import handler as connect
from tests.integration.conftest import ctx, frame, open_connection, ws
from warroom.db import set_database
from warroom.delivery import RoomDelivery
from warroom.fanout import Broadcaster
from warroom.models import Role
from warroom.realtime import Realtime, set_realtime

pytestmark = pytest.mark.integration


def connect_racing(api: Any, conn: Any) -> dict[str, Any]:
    """$connect as API Gateway runs it: until it returns, posts to the socket get 410."""
    api.gone.add(conn.connection_id)
    try:
        return open_connection(conn)
    finally:
        api.gone.discard(conn.connection_id)


def contents(api: Any, connection_id: str) -> list[str]:
    return [f["message"]["content"] for f in api.frames(connection_id, "message")]


@pytest.fixture
def crowd(make_user, make_room, issuer):
    """A room with 3 senders and 12 more members."""
    owner = make_user("owner")
    senders = [owner] + [make_user(f"sender{i}") for i in range(2)]
    others = [make_user(f"crew{i}") for i in range(12)]
    room = make_room(owner, {u: Role.EDITOR for u in senders[1:] + others})
    token = {u: issuer.mint(u, u.split("@")[0]) for u in senders + others}
    return {"room_id": str(room.room_id), "senders": senders, "others": others, "token": token}


def test_twelve_clients_joining_while_three_send_are_all_registered_and_hear_the_room(aws, crowd):
    api, store = aws
    room = crowd["room_id"]
    sender_sockets = [ws(room, crowd["token"][u]) for u in crowd["senders"]]
    for conn in sender_sockets:
        open_connection(conn)
    for round_no in range(3):
        # Given 12 members opening the room at the same moment while 3 members send
        joiners = [ws(room, crowd["token"][u]) for u in crowd["others"]]
        start = threading.Barrier(len(joiners) + len(sender_sockets))

        def join(conn: Any, start: threading.Barrier = start) -> None:
            start.wait()
            assert connect_racing(api, conn)["statusCode"] == 200

        def chatter(conn: Any, round_no: int = round_no, start: threading.Barrier = start) -> None:
            start.wait()
            for n in range(4):
                frame(conn, {"type": "message", "content": f"r{round_no} {conn.connection_id} {n}"})

        with ThreadPoolExecutor(len(joiners) + len(sender_sockets)) as pool:
            jobs = [pool.submit(join, c) for c in joiners]
            jobs += [pool.submit(chatter, c) for c in sender_sockets]
            for job in jobs:
                job.result()
        # Then every socket is registered (the posts that raced $connect removed nothing)
        for conn in joiners:
            assert store.get(conn.connection_id) is not None, f"round {round_no}: lost a row"
        # and every one of them hears the room
        marker = f"after round {round_no}"
        frame(sender_sockets[0], {"type": "message", "content": marker})
        for conn in joiners:
            assert marker in contents(api, conn.connection_id)
            frame(conn, {"type": "ping"})
            assert api.frames(conn.connection_id, "pong"), "the socket answers as registered"
            assert not api.frames(conn.connection_id, "error")
        for conn in joiners:
            connect.lambda_handler(conn.disconnect_event(1000, "bye"), ctx("connect"))


class TracedDatabase:
    """The session database with libpq's protocol trace on every borrowed connection: a
    round trip is one `Sync` (extended protocol) or one `Query` (simple) sent by us."""

    def __init__(self, inner: Any, path: str) -> None:
        self.inner, self.path = inner, path

    def run(self, operation: Any) -> Any:
        def traced(conn: Any) -> Any:
            with open(self.path, "a") as out:
                conn.pgconn.trace(out.fileno())
                try:
                    return operation(conn)
                finally:
                    conn.pgconn.untrace()

        return self.inner.run(traced)

    def close(self) -> None:
        pass

    def round_trips(self) -> int:
        with open(self.path) as f:
            text = f.read()
        open(self.path, "w").close()
        return len(re.findall(r"\tF\t\d+\t(?:Sync|Query)\b", text))


def test_a_send_an_edit_a_delete_and_a_reaction_are_one_round_trip_each(
    aws, room, db, tmp_path, recorded_pushes
):
    api, _store = aws
    owner = ws(room["room_id"], room["tokens"]["owner"])
    listener = ws(room["room_id"], room["tokens"]["viewer"])
    badge = ws(None, room["tokens"]["editor"])
    for conn in (owner, listener, badge):
        open_connection(conn)
    frame(owner, {"type": "ping"})  # the router has seen this connection
    traced = TracedDatabase(db, str(tmp_path / "trace.log"))
    set_database(traced)
    try:
        # When the owner sends (with a mention and a badge to deliver)
        frame(
            owner,
            {"type": "message", "content": "one trip", "mentions": [room["ids"]["editor"]]},
        )
        # Then that took one round trip, and the room and the badge heard of it
        assert traced.round_trips() == 1
        message_id = api.frames(owner.connection_id, "ack")[-1]["message_id"]
        assert contents(api, listener.connection_id) == ["one trip"]
        assert [n["event"] for n in api.frames(badge.connection_id, "notification")] == ["mention"]
        # And the mentioned editor's devices are to be pushed, off the send path (issue 19)
        assert [(n.kind, n.user_ids) for n in recorded_pushes.notices] == [
            ("mention", (room["ids"]["editor"],))
        ]
        # And an edit, a reaction and a delete are one round trip each, each heard
        steps = [
            (
                {"type": "edit_message", "message_id": message_id, "content": "fixed"},
                "message_edited",
            ),
            ({"type": "add_reaction", "message_id": message_id, "emoji": "👍"}, "reaction_updated"),
            (
                {"type": "remove_reaction", "message_id": message_id, "emoji": "👍"},
                "reaction_updated",
            ),
            ({"type": "delete_message", "message_id": message_id}, "message_deleted"),
        ]
        for body, heard in steps:
            before = len(api.frames(listener.connection_id, heard))
            frame(owner, body)
            assert traced.round_trips() == 1, body["type"]
            assert len(api.frames(listener.connection_id, heard)) == before + 1
    finally:
        set_database(db)


def test_nobody_outside_the_room_is_notified(aws, room, make_user, issuer):
    # Given a non-member with a user connection open, and a member's user connection
    api, _store = aws
    outsider = make_user("outsider")
    outsider_badges = ws(None, issuer.mint(outsider, "Outsider"))
    member_badges = ws(None, room["tokens"]["viewer"])
    sender = ws(room["room_id"], room["tokens"]["owner"])
    for conn in (outsider_badges, member_badges, sender):
        open_connection(conn)
    # When a member sends a message that even mentions the outsider
    frame(sender, {"type": "message", "content": "outsider?", "mentions": [outsider]})
    # Then the message is stored with no mention of them, the ack lists them as unresolved
    ack = api.frames(sender.connection_id, "ack")[-1]
    assert ack["unresolved_mentions"] == [outsider]
    assert api.frames(sender.connection_id, "message")[-1]["message"]["mentions"] == []
    # and the member's room list hears of it, the outsider's hears nothing
    assert [n["event"] for n in api.frames(member_badges.connection_id, "notification")] == [
        "message"
    ]
    assert api.posts[outsider_badges.connection_id] == []


def test_a_client_away_during_an_edit_a_delete_and_a_reaction_sees_all_three_on_resume(aws, room):
    # Given a reader who holds three messages and the change number of the last
    api, _store = aws
    writer = ws(room["room_id"], room["tokens"]["owner"])
    reader = ws(room["room_id"], room["tokens"]["viewer"])
    open_connection(writer)
    open_connection(reader)
    ids = []
    for text in ("reading: 19 °C", "restart the line now", "pressure 3.1 bar"):
        frame(writer, {"type": "message", "content": text})
        ids.append(api.frames(writer.connection_id, "ack")[-1]["message_id"])
    held = api.frames(reader.connection_id, "message")[-1]["change_seq"]
    # When the reader is away while one is edited, one deleted and one reacted to
    connect.lambda_handler(reader.disconnect_event(1006, "gone"), ctx("connect"))
    frame(writer, {"type": "edit_message", "message_id": ids[0], "content": "reading: 91 °C"})
    frame(writer, {"type": "delete_message", "message_id": ids[1]})
    frame(writer, {"type": "add_reaction", "message_id": ids[2], "emoji": "👀"})
    # and comes back and resumes by change number
    again = ws(room["room_id"], room["tokens"]["viewer"])
    open_connection(again)
    frame(again, {"type": "sync", "after_change": held})
    reply = api.frames(again.connection_id, "sync")[-1]
    # Then it sees the edit, the deletion and the reaction, in change order, once each
    by_id = {m["message_id"]: m for m in reply["messages"]}
    assert [m["message_id"] for m in reply["messages"]] == ids
    assert by_id[ids[0]]["content"] == "reading: 91 °C" and by_id[ids[0]]["edited_at"]
    assert by_id[ids[1]]["deleted_at"] and by_id[ids[1]]["content"] is None
    assert [r["emoji"] for r in by_id[ids[2]]["reactions"]] == ["👀"]
    changes = [m["change_seq"] for m in reply["messages"]]
    assert changes == sorted(changes) and changes[0] > held
    assert reply["has_more"] is False and reply["change_seq"] == changes[-1]
    assert reply["after_change"] == held
    # and syncing from where it is now finds nothing new
    frame(again, {"type": "sync", "after_change": reply["change_seq"]})
    assert api.frames(again.connection_id, "sync")[-1]["messages"] == []


def test_reactions_are_real_emoji_within_caps(aws, room, make_user):
    api, _store = aws
    owner = ws(room["room_id"], room["tokens"]["owner"])
    open_connection(owner)
    frame(owner, {"type": "message", "content": "react to me"})
    message_id = api.frames(owner.connection_id, "ack")[-1]["message_id"]

    def react(emoji: str) -> dict[str, Any]:
        frame(owner, {"type": "add_reaction", "message_id": message_id, "emoji": emoji})
        return api.posts[owner.connection_id][-1]

    # Real emoji of every kind are one reaction each
    for emoji in ("👍", "👩‍🔧", "👍🏽", "1️⃣", "🇹🇼", "❤️"):
        assert react(emoji)["type"] == "reaction_updated", emoji
    # Words, letters, symbols and two emoji at once are not
    for bad in ("lol", "a", "★", "👍👍", "👍 ", "<script>"):
        reply = react(bad)
        if bad == "👍 ":  # surrounding space is trimmed: the same 👍 again
            assert reply["type"] == "reaction_updated"
            continue
        assert reply["type"] == "error" and reply["code"] == "VALIDATION", bad
    # At most 10 per person on one message
    for emoji in ("🔥", "👀", "✅", "🙏"):
        assert react(emoji)["type"] == "reaction_updated"
    over = react("🚨")
    assert over["type"] == "error" and over["code"] == "VALIDATION" and "10" in over["message"]


def test_a_message_holds_at_most_twenty_different_reactions(aws, room, make_user, issuer, db):
    from warroom.logic import messages, rooms

    api, _store = aws
    owner = ws(room["room_id"], room["tokens"]["owner"])
    open_connection(owner)
    frame(owner, {"type": "message", "content": "popular"})
    message_id = uuid.UUID(api.frames(owner.connection_id, "ack")[-1]["message_id"])
    emoji = list("😀😁😂🤣😃😄😅😆😉😊😋😎😍😘🥰😗😙😚🙂🤗🤩")
    people = [make_user(f"fan{i}") for i in range(3)]
    for person in people:
        rooms.add_member(
            room_id=uuid.UUID(room["room_id"]),
            user_id=room["ids"]["owner"],
            member_id=person,
            role=Role.EDITOR,
        )
    for n, e in enumerate(emoji[:20]):
        messages.add_reaction(message_id=message_id, user_id=people[n % 3], emoji=e)
    from warroom.errors import ValidationFailed

    with pytest.raises(ValidationFailed, match="20"):
        messages.add_reaction(message_id=message_id, user_id=people[0], emoji=emoji[20])
    # an emoji already there can still be added by someone else
    change = messages.add_reaction(message_id=message_id, user_id=people[1], emoji=emoji[0])
    assert len(change.change.reactions) == 20 and change.change.reactions[0].count == 2


def test_sync_and_history_over_huge_messages_answer_within_limits(aws, room, sql):
    # Given a room of 64 KB messages and one message with a very long reactions list
    from warroom.bounds import MAX_HTTP_RESPONSE_BYTES, MAX_MESSAGE_BYTES, encoded_size
    from warroom.logic import messages

    api, _store = aws
    owner = ws(room["room_id"], room["tokens"]["owner"])
    open_connection(owner)
    big = "x" * 60_000
    for n in range(20):
        frame(owner, {"type": "message", "content": f"{n} {big}"})
    message_id = api.frames(owner.connection_id, "ack")[-1]["message_id"]
    crowd = [
        {"emoji": e, "user_ids": [f"u{i:05d}@plant.example" for i in range(2500)]}
        for e in "😀😁😂😃😄😅😆😉😊😋😎😍😘🥰😗😙😚🙂🤗🤩"
    ]
    import json as _json

    sql.execute(
        "UPDATE messages SET reactions = %s::jsonb, change_seq = change_seq WHERE message_id = %s",
        (_json.dumps(crowd), message_id),
    )
    # When a client syncs from the start, by number and by change, until has_more is false
    for cursor in ("after_seq", "after_change"):
        position, pages, seen = 0, 0, 0
        while True:
            frame(owner, {"type": "sync", cursor: position})
            reply = api.frames(owner.connection_id, "sync")[-1]
            # Then every reply fits one frame and moves forward
            assert encoded_size(reply) <= MAX_MESSAGE_BYTES
            assert reply["messages"], "a page always holds at least one message"
            seen += len(reply["messages"])
            last = reply["messages"][-1]
            new_position = last["sequence_number"] if cursor == "after_seq" else reply["change_seq"]
            assert new_position > position
            position, pages = new_position, pages + 1
            if not reply["has_more"]:
                break
            assert pages < 100
        assert seen >= 22
    # and the message whose reactions alone pass 128 KB came once as a slim pointer
    heavy = [
        m
        for reply in api.frames(owner.connection_id, "sync")
        for m in reply["messages"]
        if m["message_id"] == message_id
    ]
    assert heavy and all(m["content_truncated"] and m["reactions_truncated"] for m in heavy)
    assert [r["count"] for r in heavy[0]["reactions"]] == [2500] * 20
    # And an HTTP page of 200 stays under 1 MB, saying has_more, with a cursor that continues
    page = messages.bounded_history(
        messages.history(
            room_id=uuid.UUID(room["room_id"]), user_id=room["ids"]["owner"], limit=200
        )
    )
    assert encoded_size(page) < MAX_HTTP_RESPONSE_BYTES and page["has_more"] is True
    assert page["next_before_seq"] == page["messages"][-1]["sequence_number"]


def test_two_hundred_members_joining_cost_linear_posts(aws, make_user, make_room, issuer, db):
    # Given a room of 200 members and a delivery that announces at most every 0.5 s
    api, store = aws
    owner = make_user("owner")
    crowd = [make_user(f"m{i}") for i in range(199)]
    created = make_room(owner)
    from warroom.logic import rooms

    for user in crowd:
        rooms.add_member(room_id=created.room_id, user_id=owner, member_id=user, role=Role.VIEWER)
    broadcaster = Broadcaster("https://ws.test/local", store, client=api)
    delivery = RoomDelivery(broadcaster, db=db, join_window=0.5)
    set_realtime(Realtime(store, broadcaster, delivery))
    room_id = str(created.room_id)
    # When the owner is in and the other 199 open the room, 8 at a time
    sockets = [ws(room_id, issuer.mint(u, u.split("@")[0])) for u in [owner, *crowd]]
    assert open_connection(sockets[0])["statusCode"] == 200
    with ThreadPoolExecutor(8) as pool:
        assert all(r["statusCode"] == 200 for r in pool.map(open_connection, sockets[1:]))
    time.sleep(0.6)  # the window passes; the periodic flush announces what is left
    delivery.flush_due_presence()
    # Then the joins cost O(n) posts, not O(n²) (one frame per joiner would be ~20,000)
    posts = sum(len(api.frames(s.connection_id, "system")) for s in sockets)
    assert posts < 200 * 40
    # and the first one in heard of everyone who came after, by name, in few frames
    frames_heard = [
        f for f in api.frames(sockets[0].connection_id, "system") if f["event"] == "user_joined"
    ]
    announced = {u["user_id"] for f in frames_heard for u in f["users"]}
    assert announced >= set(crowd)
    assert len(frames_heard) < 40
    one = frames_heard[0]
    assert one["user_id"] == one["users"][0]["user_id"] and one["display_name"]


def test_a_report_too_large_for_a_response_is_handed_out_as_a_short_lived_link(
    aws, room, monkeypatch
):
    import json

    import boto3

    from functions.history import handler as history
    from local.events import http_event
    from warroom.logic import report

    def get_report() -> dict[str, Any]:
        event = http_event(
            method="GET",
            path=f"/api/rooms/{room['room_id']}/report",
            raw_query="",
            query={},
            headers={"authorization": f"Bearer {room['tokens']['viewer']}"},
            body=b"",
            source_ip="10.0.0.1",
            domain_name="api.test",
        )
        return history.lambda_handler(event, ctx("history"))

    # Given a room with some history
    _api, _store = aws
    owner = ws(room["room_id"], room["tokens"]["owner"])
    open_connection(owner)
    for n in range(5):
        frame(owner, {"type": "message", "content": f"step {n}: " + "detail " * 400})
    # When the report is small it is the Markdown itself
    small = get_report()
    assert small["statusCode"] == 200 and small["body"].startswith("# Incident report")
    # When it would pass the response limit (made tiny here)
    monkeypatch.setattr(report, "MAX_INLINE_BYTES", 2_000)
    large = get_report()
    # Then the answer is a 303 to a presigned link of the same Markdown in S3
    assert large["statusCode"] == 303
    url = json.loads(large["body"])["url"]
    assert large["headers"]["Location"] == url and "X-Amz-Expires=300" in url
    key = url.split("/attachments/", 1)[1].split("?", 1)[0] if "/attachments/" in url else None
    objects = boto3.client("s3").list_objects_v2(Bucket="attachments", Prefix="reports/")
    stored = [o["Key"] for o in objects.get("Contents", [])]
    assert len(stored) == 1 and (key is None or key == stored[0])
    body = boto3.client("s3").get_object(Bucket="attachments", Key=stored[0])["Body"].read()
    assert body.decode() == small["body"]
    # and each timeline entry is bounded however long the message was
    assert all(len(line) < report.MAX_ENTRY_CHARS + 400 for line in small["body"].splitlines())


def test_the_scheduled_sweep_removes_expired_rows_and_announces_pending_joins(aws, room, sql):
    from functions.sweep import handler as sweep_handler
    from warroom.delivery import room_delivery

    # Given a row whose socket ended without a $disconnect, long ago
    api, store = aws
    sql.execute(
        "INSERT INTO connections (connection_id, user_id, display_name, room_id, connected_at, "
        "expires_at) VALUES ('expired-1', %s, 'Gone', %s, now() - interval '3 hours', "
        "now() - interval '1 minute')",
        (room["ids"]["owner"], room["room_id"]),
    )
    # and a join that was left pending in a quiet room
    watcher = ws(room["room_id"], room["tokens"]["owner"])
    open_connection(watcher)
    sql.execute(
        "INSERT INTO presence_changes (room_id, user_id, display_name, event) "
        "VALUES (%s, %s, 'Late', 'user_joined')",
        (room["room_id"], room["ids"]["editor"]),
    )
    # When the scheduled function runs (once: its delayed flush never came)
    result = sweep_handler.handler({}, ctx("sweep"))
    # Then the expired row is gone, the live one stays, and the join is announced
    assert result["expired_connections"] >= 1
    assert store.get("expired-1") is None and store.get(watcher.connection_id) is not None
    joined = [
        f
        for f in api.frames(watcher.connection_id, "system")
        if (f.get("users") or [{}])[0].get("display_name") == "Late"
    ]
    assert [f["user_id"] for f in joined] == [room["ids"]["editor"]]
    assert room_delivery().flush_due_presence().delivered == 0  # nothing left pending


def test_removing_a_member_drops_their_room_connections_with_the_membership(aws, room, sql):
    from warroom.logic import rooms

    # Given the editor in the room on two tabs, and on their room list
    _api, _store = aws
    tabs = [ws(room["room_id"], room["tokens"]["editor"]) for _ in range(2)]
    badges = ws(None, room["tokens"]["editor"])
    for conn in (*tabs, badges):
        open_connection(conn)
    # When the owner removes them
    change = rooms.remove_member(
        room_id=uuid.UUID(room["room_id"]),
        user_id=room["ids"]["owner"],
        member_id=room["ids"]["editor"],
    )
    # Then the same transaction took their room connections (not their room list's)
    assert sorted(change.closed_connections) == sorted(t.connection_id for t in tabs)
    left = sql.execute(
        "SELECT connection_id FROM connections WHERE user_id = %s", (room["ids"]["editor"],)
    ).fetchall()
    assert [r["connection_id"] for r in left] == [badges.connection_id]
    # and the numbered system message goes to the room without them
    event, recipients = change.events[0]
    assert not set(recipients.room) & {t.connection_id for t in tabs}
    assert event.content["event"] == "member_removed"


def test_a_page_of_large_messages_stops_reading_at_its_byte_budget(db, make_user, make_room):
    from warroom.dal import messages as dal
    from warroom.logic import messages
    from warroom.models import MessageDraft

    # Given a room of twenty 60 KB messages
    owner = make_user("owner")
    room = make_room(owner)
    for n in range(20):
        messages.send_message(
            room_id=room.room_id,
            sender_id=owner,
            draft=MessageDraft(content=f"{n} " + "x" * 60_000),
            db=db,
        )
    # When a page of 200 is read with a 128 KB budget, by number and by change
    by_seq = db.run(
        lambda conn: dal.page_after(
            conn, room_id=room.room_id, after_seq=0, limit=201, max_bytes=128 * 1024
        )
    )
    by_change, _current = db.run(
        lambda conn: dal.changed_after(
            conn, room_id=room.room_id, after_change=0, limit=201, max_bytes=128 * 1024
        )
    )
    # Then the database returned only about a frame's worth, and says more exist
    for page in (by_seq, by_change):
        assert 1 <= len(page.messages) <= 4 and page.cut is True
    # and with room for everything, nothing is cut
    whole = db.run(
        lambda conn: dal.page_after(
            conn, room_id=room.room_id, after_seq=0, limit=201, max_bytes=10_000_000
        )
    )
    assert len(whole.messages) == 20 and whole.cut is False
