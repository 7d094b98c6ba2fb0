"""Real WebSocket clients against the running local stack: every frame type, ordering,
resume, presence, typing, refusals, bad frames and the 128 KB limit."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import aiohttp
import psycopg
import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus

from tests.e2e.conftest import frames_until, of_type

pytestmark = pytest.mark.e2e


def send_text(ws, text: str, **extra: Any) -> str:
    client_msg_id = str(uuid.uuid4())
    ws.send(
        json.dumps(
            {
                "type": "message",
                "client_msg_id": client_msg_id,
                "message_type": "text",
                "content": text,
                **extra,
            }
        )
    )
    return client_msg_id


def test_send_is_acked_to_the_sender_and_broadcast_to_the_room(local_stack, incident):
    # Given the owner and the editor connected to the room
    owner, editor, room = incident["owner"], incident["editor"], incident["room_id"]
    with local_stack.connect(owner.token, room) as a, local_stack.connect(editor.token, room) as b:
        # When the owner sends a message
        client_msg_id = send_text(a, "Hydraulic pressure dropped to 90 bar")
        # Then the owner gets an ack with the number, and both see the message
        ack = frames_until(a, of_type("ack"))[-1]
        assert ack["client_msg_id"] == client_msg_id and ack["sequence_number"] > 0
        assert ack["created_at"].endswith("Z")
        for ws in (a, b):
            frame = frames_until(
                ws,
                lambda f: (
                    f.get("type") == "message" and f["message"]["message_id"] == ack["message_id"]
                ),
            )[-1]
            message = frame["message"]
            assert message["content"] == "Hydraulic pressure dropped to 90 bar"
            assert message["sender_display_name"] == owner.display_name
            assert message["sequence_number"] == ack["sequence_number"]
            assert set(message) >= {
                "message_id",
                "room_id",
                "sender_id",
                "sender_display_name",
                "content",
                "message_type",
                "mentions",
                "file_id",
                "file_url",
                "created_at",
                "edited_at",
                "deleted_at",
                "sequence_number",
                "reactions",
            }


def test_resend_with_the_same_client_msg_id_gets_the_same_ack(local_stack, incident):
    owner, room = incident["owner"], incident["room_id"]
    with local_stack.connect(owner.token, room) as ws:
        frame = {"type": "message", "client_msg_id": str(uuid.uuid4()), "content": "once only"}
        ws.send(json.dumps(frame))
        first = frames_until(ws, of_type("ack"))[-1]
        ws.send(json.dumps(frame))
        second = frames_until(ws, of_type("ack"))[-1]
        assert (second["message_id"], second["sequence_number"]) == (
            first["message_id"],
            first["sequence_number"],
        )
    page = local_stack.request("GET", f"/api/rooms/{room}/messages?limit=200", owner.token).body
    assert sum(m["content"] == "once only" for m in page["messages"]) == 1


def test_edit_delete_and_reactions_reach_everyone(local_stack, incident):
    owner, editor, room = incident["owner"], incident["editor"], incident["room_id"]
    with local_stack.connect(editor.token, room) as a, local_stack.connect(owner.token, room) as b:
        send_text(a, "temp 80")
        message_id = frames_until(a, of_type("ack"))[-1]["message_id"]
        # edit
        a.send(json.dumps({"type": "edit_message", "message_id": message_id, "content": "temp 85"}))
        edited = frames_until(b, of_type("message_edited"))[-1]["message"]
        assert edited["content"] == "temp 85" and edited["edited_at"]
        # reactions, aggregated per emoji; updates may arrive out of order, and the
        # version tells a client which totals are the newest
        b.send(json.dumps({"type": "add_reaction", "message_id": message_id, "emoji": "👀"}))
        a.send(json.dumps({"type": "add_reaction", "message_id": message_id, "emoji": "👀"}))
        reacted = frames_until(
            a, lambda f: f.get("type") == "reaction_updated" and f["version"] == 2
        )[-1]
        assert reacted["reactions"][0]["count"] == 2
        assert set(reacted["reactions"][0]["user_ids"]) == {owner.user_id, editor.user_id}
        b.send(json.dumps({"type": "remove_reaction", "message_id": message_id, "emoji": "👀"}))
        removed = frames_until(
            a, lambda f: f.get("type") == "reaction_updated" and f["version"] == 3
        )[-1]
        assert removed["reactions"] == [{"emoji": "👀", "count": 1, "user_ids": [editor.user_id]}]
        # delete (by the room's owner)
        b.send(json.dumps({"type": "delete_message", "message_id": message_id}))
        deleted = frames_until(a, of_type("message_deleted"))[-1]
        assert deleted["message_id"] == message_id and deleted["deleted_at"].endswith("Z")


def test_fifty_clients_sending_at_once_all_see_the_same_gap_free_order(local_stack, incident):
    # Given 50 members connected to one room
    owner, room = incident["owner"], incident["room_id"]
    people = []
    for i in range(50):
        user_id = f"crew{i}-{uuid.uuid4().hex[:6]}@factory.example"
        token = local_stack.login(user_id, f"Crew {i}")
        assert (
            local_stack.request(
                "POST",
                f"/api/rooms/{room}/members",
                owner.token,
                {"user_id": user_id, "role": "EDITOR"},
            ).status
            == 201
        )
        people.append(token)
    start_seq = local_stack.request("GET", f"/api/rooms/{room}", owner.token).body["last_seq"]
    sockets = [local_stack.connect(token, room) for token in people]
    seen: list[dict[int, str]] = [dict() for _ in sockets]
    barrier = threading.Barrier(len(sockets))
    errors: list[BaseException] = []

    def run(index: int) -> None:
        ws = sockets[index]
        try:
            barrier.wait()
            send_text(ws, f"status from crew {index}")
            deadline = time.monotonic() + 60
            while len(seen[index]) < 50 and time.monotonic() < deadline:
                frame = json.loads(ws.recv(timeout=deadline - time.monotonic()))
                if frame.get("type") == "message" and frame["message"]["content"].startswith(
                    "status from crew"
                ):
                    seq = frame["message"]["sequence_number"]
                    assert seq not in seen[index], "a message was delivered twice"
                    seen[index][seq] = frame["message"]["message_id"]
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    # When all 50 send at the same moment
    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(sockets))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for ws in sockets:
        ws.close()
    assert not errors, (errors[:3], "".join(local_stack.log[-40:]))
    # Then every client holds the same 50 messages, numbered without gaps, each once
    expected = list(range(start_seq + 1, start_seq + 51))
    for received in seen:
        assert sorted(received) == expected
    assert all(received == seen[0] for received in seen)


def test_resume_with_sync_after_a_forced_disconnect(local_stack, incident):
    owner, editor, room = incident["owner"], incident["editor"], incident["room_id"]
    writer = local_stack.connect(owner.token, room)
    reader = local_stack.connect(editor.token, room)
    before = send_text(writer, "before the drop")
    frames_until(writer, of_type("ack", client_msg_id=before))
    last_seen = frames_until(
        reader,
        lambda f: f.get("type") == "message" and f["message"]["content"] == "before the drop",
    )[-1]["message"]["sequence_number"]
    # the reader's Wi-Fi drops: the TCP connection dies with no closing handshake
    reader.socket.shutdown(socket.SHUT_RDWR)
    reader.socket.close()
    # meanwhile five messages are sent
    sent = []
    for i in range(5):
        client_msg_id = send_text(writer, f"while away {i}")
        sent.append(
            frames_until(writer, of_type("ack", client_msg_id=client_msg_id))[-1]["sequence_number"]
        )
    # the reader comes back and syncs from what it saw
    with local_stack.connect(editor.token, room) as again:
        again.send(json.dumps({"type": "sync", "after_seq": last_seen}))
        sync = frames_until(again, of_type("sync"))[-1]
    writer.close()
    got = [m["sequence_number"] for m in sync["messages"]]
    assert got == list(range(last_seen + 1, sent[-1] + 1))  # nothing lost, nothing twice, in order
    assert [m["content"] for m in sync["messages"]][-5:] == [f"while away {i}" for i in range(5)]
    assert sync["has_more"] is False


def test_presence_and_typing(local_stack, incident):
    owner, editor, room = incident["owner"], incident["editor"], incident["room_id"]
    with local_stack.connect(owner.token, room) as a:
        with local_stack.connect(editor.token, room) as b:
            joined = frames_until(a, of_type("system", event="user_joined"))[-1]
            assert joined["user_id"] == editor.user_id and joined["timestamp"].endswith("Z")
            a.send(json.dumps({"type": "presence"}))
            presence = frames_until(a, of_type("presence"))[-1]
            assert {p["user_id"] for p in presence["online"]} == {owner.user_id, editor.user_id}
            b.send(json.dumps({"type": "typing", "is_typing": True}))
            typing = frames_until(a, of_type("typing"))[-1]
            assert typing == {
                "type": "typing",
                "user_id": editor.user_id,
                "display_name": editor.display_name,
                "is_typing": True,
            }
        # (announced once the departure grace has passed: 12 s in the test stack)
        left = frames_until(a, of_type("system", event="user_left"), timeout=30)[-1]
        assert left["user_id"] == editor.user_id


def test_ping_gets_pong(local_stack, incident):
    with local_stack.connect(incident["viewer"].token, incident["room_id"]) as ws:
        ws.send(json.dumps({"type": "ping"}))
        assert frames_until(ws, of_type("pong"))[-1] == {"type": "pong"}


def test_bad_token_is_401_and_non_member_is_403(local_stack, incident, person):
    room = incident["room_id"]
    with pytest.raises(InvalidStatus) as no_token:
        local_stack.connect("not-a-jwt", room)
    assert no_token.value.response.status_code == 401
    stranger = person("stranger")
    with pytest.raises(InvalidStatus) as not_member:
        local_stack.connect(stranger.token, room)
    assert not_member.value.response.status_code == 403


def test_viewer_write_is_refused_and_the_connection_stays_usable(local_stack, incident):
    with local_stack.connect(incident["viewer"].token, incident["room_id"]) as ws:
        client_msg_id = send_text(ws, "I should not be able to say this")
        error = frames_until(ws, of_type("error"))[-1]
        assert error["code"] == "FORBIDDEN" and error["client_msg_id"] == client_msg_id
        ws.send(json.dumps({"type": "ping"}))
        frames_until(ws, of_type("pong"))


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ("this is not json", "VALIDATION"),
        (json.dumps([1, 2, 3]), "VALIDATION"),
        (json.dumps({"type": "dance"}), "VALIDATION"),
        (json.dumps({"type": "message", "client_msg_id": "nope", "content": "x"}), "VALIDATION"),
        (
            json.dumps({"type": "message", "client_msg_id": str(uuid.uuid4()), "content": 42}),
            "VALIDATION",
        ),
        (
            json.dumps(
                {
                    "type": "message",
                    "client_msg_id": str(uuid.uuid4()),
                    "message_type": "poem",
                    "content": "x",
                }
            ),
            "VALIDATION",
        ),
        (
            json.dumps(
                {
                    "type": "message",
                    "client_msg_id": str(uuid.uuid4()),
                    "content": "x" * (65 * 1024),
                }
            ),
            "PAYLOAD_TOO_LARGE",
        ),
        (json.dumps({"type": "sync", "after_seq": -1}), "VALIDATION"),
        (
            json.dumps({"type": "edit_message", "message_id": str(uuid.uuid4()), "content": "x"}),
            "NOT_FOUND",
        ),
    ],
)
def test_bad_frames_get_error_frames_and_the_connection_stays_open(
    local_stack, incident, frame, code
):
    with local_stack.connect(incident["editor"].token, incident["room_id"]) as ws:
        if len(frame) > 32 * 1024:  # one frame would be closed (1009): send it in fragments
            ws.send([frame[i : i + 16 * 1024] for i in range(0, len(frame), 16 * 1024)])
        else:
            ws.send(frame)
        error = frames_until(ws, of_type("error"))[-1]
        assert error["code"] == code
        assert "Traceback" not in error["message"] and 'File "' not in error["message"]
        send_text(ws, "still here")
        frames_until(ws, of_type("ack"))


def test_a_frame_over_128_kb_closes_the_connection_with_1009(local_stack, incident):
    ws = local_stack.connect(incident["editor"].token, incident["room_id"])
    ws.send(
        json.dumps(
            {"type": "message", "client_msg_id": str(uuid.uuid4()), "content": "x" * (130 * 1024)}
        )
    )
    with pytest.raises(ConnectionClosed) as closed:
        while True:
            ws.recv(timeout=10)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009


def test_user_connection_gets_notifications_and_mentions(local_stack, incident):
    owner, editor, room = incident["owner"], incident["editor"], incident["room_id"]
    with (
        local_stack.connect(editor.token) as notifications,
        local_stack.connect(owner.token, room) as ws,
    ):
        send_text(ws, "plain update")
        plain = frames_until(notifications, of_type("notification"))[-1]
        assert plain["event"] == "message" and plain["room_id"] == room
        send_text(ws, f"@{editor.display_name} check the seal", mentions=[editor.user_id])
        mention = frames_until(
            notifications, lambda f: f.get("type") == "notification" and f["event"] == "mention"
        )[-1]
        assert mention["message"]["mentions"] == [editor.user_id]
        # a user connection cannot post into a room
        notifications.send(
            json.dumps({"type": "message", "client_msg_id": str(uuid.uuid4()), "content": "x"})
        )
        assert frames_until(notifications, of_type("error"))[-1]["code"] == "FORBIDDEN"


def test_gone_connections_are_cleaned_from_the_table(local_stack, incident, database_url):
    # Given a stale row in the connection table: a connection the gateway no longer has,
    # registered long enough ago to be past the registration grace
    owner, room = incident["owner"], incident["room_id"]
    stale = "stale-" + uuid.uuid4().hex[:8]
    with psycopg.connect(database_url, autocommit=True) as sql:
        sql.execute(
            "INSERT INTO connections (connection_id, user_id, display_name, room_id, "
            "connected_at, expires_at) VALUES (%s, %s, 'Ghost', %s, now() - interval '1 minute', "
            "now() + interval '1 hour')",
            (stale, owner.user_id, room),
        )
        # When a message is broadcast to the room
        with local_stack.connect(owner.token, room) as ws:
            send_text(ws, "anyone there?")
            frames_until(ws, of_type("message"))
        # Then the fan-out met 410 Gone and deleted the row (posts run in parallel, so the
        # sender's own copy may arrive before the stale one has been tried)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            row = sql.execute(
                "SELECT 1 FROM connections WHERE connection_id = %s", (stale,)
            ).fetchone()
            if row is None:
                break
            time.sleep(0.1)
        assert row is None


def test_idle_connections_are_closed_and_unanswered_pings_close_them(impatient_stack):
    token = impatient_stack.login(f"idle-{uuid.uuid4().hex[:6]}@factory.example", "Idle")

    async def silent_client() -> tuple[int | None, float]:
        # aiohttp with autoping off never answers the gateway's pings
        async with aiohttp.ClientSession() as session:
            started = time.monotonic()
            async with session.ws_connect(
                impatient_stack.ws_url + f"?token={token}", autoping=False
            ) as ws:
                async for _ in ws:
                    pass
                return ws.close_code, time.monotonic() - started

    # on a thread of its own: the browser tests leave an event loop on this one
    with ThreadPoolExecutor(1) as pool:
        code, elapsed = pool.submit(asyncio.run, silent_client()).result()
    assert code == 1001 and elapsed < 2.9  # closed by the pong deadline, before the idle timeout

    with impatient_stack.connect(token) as ws:  # answers pings, but sends nothing
        started = time.monotonic()
        with pytest.raises(ConnectionClosed) as closed:
            while True:
                ws.recv(timeout=10)
        assert closed.value.rcvd.code == 1001 and time.monotonic() - started >= 2.5


def test_the_specifications_frames_verbatim_are_acked_and_broadcast(local_stack, incident):
    # Given the owner and the editor in the room
    owner, editor, room = incident["owner"], incident["editor"], incident["room_id"]
    spec_frames = [
        '{"type":"message","content":"Line 3 conveyor stopped","message_type":"text"}',
        '{"type":"message","content":"Can someone check?","message_type":"text",'
        '"mentions":["someone-not-in-room@example.com"]}',
        '{"type":"message","message_type":"incident_data","content":{"temperature":85,'
        '"pressure":120,"production_rate":450,"timestamp":"2026-12-01T08:00:00Z"}}',
    ]
    with local_stack.connect(owner.token, room) as a, local_stack.connect(editor.token, room) as b:
        for text in spec_frames:
            # When a frame from the specification is sent exactly as written
            a.send(text)
            # Then the sender gets an ack (with a server-made client_msg_id) ...
            reply = frames_until(a, lambda f: f.get("type") in ("ack", "error"))[-1]
            assert reply["type"] == "ack", reply
            assert uuid.UUID(reply["client_msg_id"]) and reply["change_seq"] > 0
            # ... and both see the message
            for ws in (a, b):
                got = frames_until(
                    ws,
                    lambda f, r=reply: (
                        f.get("type") == "message" and f["message"]["message_id"] == r["message_id"]
                    ),
                )[-1]
                assert got["change_seq"] == reply["change_seq"]
            sent = json.loads(text)
            message = got["message"]
            if "mentions" in sent:
                # a mention of someone outside the room: stored, delivered, reported
                assert reply["unresolved_mentions"] == ["someone-not-in-room@example.com"]
                assert message["mentions"] == []
            else:
                assert reply["unresolved_mentions"] == []
            # content comes back exactly as sent, readings in the order they were entered
            assert message["content"] == sent["content"]
            if isinstance(sent["content"], dict):
                assert list(message["content"]) == list(sent["content"])
    # And the readings are found by field, in the flat shape as in the nested one
    hot = local_stack.request(
        "GET", f"/api/rooms/{room}/incident-data?field=temperature&min=80", owner.token
    )
    assert hot.status == 200
    assert [m["content"]["temperature"] for m in hot.body["messages"]] == [85]


def test_twelve_clients_connecting_while_three_send_all_hear_the_room(local_stack, incident):
    # Given 12 members about to open the room and 3 members sending
    owner, room = incident["owner"], incident["room_id"]
    tokens = []
    for i in range(12):
        user_id = f"tap{i}-{uuid.uuid4().hex[:6]}@factory.example"
        tokens.append(local_stack.login(user_id, f"Tap {i}"))
        added = local_stack.request(
            "POST",
            f"/api/rooms/{room}/members",
            owner.token,
            {"user_id": user_id, "role": "VIEWER"},
        )
        assert added.status == 201
    senders = [
        local_stack.connect(t, room) for t in (owner.token, incident["editor"].token, owner.token)
    ]
    start = threading.Barrier(15)

    def open_one(token: str):
        start.wait()
        return local_stack.connect(token, room)

    def chatter(ws, n: int) -> None:
        start.wait()
        for k in range(5):
            send_text(ws, f"sender {n} line {k}")

    # When they all connect at the same moment while the three send
    with ThreadPoolExecutor(15) as pool:
        opened = [pool.submit(open_one, t) for t in tokens]
        talk = [pool.submit(chatter, ws, n) for n, ws in enumerate(senders)]
        sockets = [f.result() for f in opened]
        for f in talk:
            f.result()
    try:
        # Then every socket is registered (a ping is answered, never UNAUTHORIZED) and
        # hears the room
        marker = send_text(senders[0], "everyone here?")
        for ws in sockets:
            ws.send(json.dumps({"type": "ping"}))
            seen = frames_until(
                ws,
                lambda f: (
                    f.get("type") == "message" and f["message"]["content"] == "everyone here?"
                ),
                timeout=20,
            )
            assert not [f for f in seen if f.get("type") == "error"], seen
        assert marker
    finally:
        for ws in sockets + senders:
            ws.close()


def test_resume_by_change_number_shows_edits_deletes_and_reactions(local_stack, incident):
    # Given a reader holding three messages
    owner, editor, room = incident["owner"], incident["editor"], incident["room_id"]
    writer = local_stack.connect(owner.token, room)
    reader = local_stack.connect(editor.token, room)
    ids = []
    for text in ("reading: 19 °C", "restart the line now", "seal replaced"):
        cid = send_text(writer, text)
        ids.append(frames_until(writer, of_type("ack", client_msg_id=cid))[-1]["message_id"])
    held = frames_until(
        reader,
        lambda f: f.get("type") == "message" and f["message"]["message_id"] == ids[-1],
    )[-1]["change_seq"]
    # When its network drops while one is corrected, one retracted, one reacted to
    reader.socket.shutdown(socket.SHUT_RDWR)
    reader.socket.close()
    writer.send(
        json.dumps({"type": "edit_message", "message_id": ids[0], "content": "reading: 91 °C"})
    )
    frames_until(writer, of_type("message_edited"))
    writer.send(json.dumps({"type": "delete_message", "message_id": ids[1]}))
    frames_until(writer, of_type("message_deleted"))
    writer.send(json.dumps({"type": "add_reaction", "message_id": ids[2], "emoji": "👍"}))
    frames_until(writer, of_type("reaction_updated"))
    writer.close()
    # and it reconnects and resumes from the change number it held
    with local_stack.connect(editor.token, room) as again:
        again.send(json.dumps({"type": "sync", "after_change": held}))
        reply = frames_until(again, of_type("sync"))[-1]
    # Then it sees all three, in change order, each once
    by_id = {m["message_id"]: m for m in reply["messages"]}
    assert [m["message_id"] for m in reply["messages"]] == ids
    assert by_id[ids[0]]["content"] == "reading: 91 °C"
    assert by_id[ids[1]]["deleted_at"] and by_id[ids[1]]["content"] is None
    assert [(r["emoji"], r["count"]) for r in by_id[ids[2]]["reactions"]] == [("👍", 1)]
    assert reply["has_more"] is False and reply["change_seq"] >= by_id[ids[2]]["change_seq"]


def test_a_socket_whose_row_is_gone_is_told_and_closed_so_it_reconnects_at_once(
    local_stack, incident, database_url
):
    # Given an open socket whose connection row has gone (swept, or lost)
    ws = local_stack.connect(incident["editor"].token, incident["room_id"])
    with psycopg.connect(database_url, autocommit=True) as sql:
        sql.execute(
            "DELETE FROM connections WHERE user_id = %s AND room_id = %s",
            (incident["editor"].user_id, incident["room_id"]),
        )
    # When it sends a frame
    send_text(ws, "is anyone listening?")
    # Then it is told it is not registered, and the server closes the socket
    error = frames_until(ws, of_type("error"))[-1]
    assert error["code"] == "UNAUTHORIZED"
    with pytest.raises(ConnectionClosed):
        while True:
            ws.recv(timeout=10)
    # and a reconnect is registered and works
    with local_stack.connect(incident["editor"].token, incident["room_id"]) as again:
        send_text(again, "back")
        frames_until(again, of_type("ack"))
