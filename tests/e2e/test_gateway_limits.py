"""The local gateway holds clients to API Gateway's WebSocket limits, with real clients:
32 KB per frame, 128 KB per message (close 1009), 2 hours per connection (shortened
here), and `{"type":"ping"}` answered at the gateway as the cloud's MOCK route does."""

from __future__ import annotations

import json
import time
import uuid

import pytest
from websockets.exceptions import ConnectionClosed

from tests.e2e.conftest import frames_until, of_type

pytestmark = pytest.mark.e2e

KB = 1024


def _message(content: str) -> str:
    return json.dumps({"type": "message", "client_msg_id": str(uuid.uuid4()), "content": content})


def _close_code(ws) -> int | None:
    with pytest.raises(ConnectionClosed) as closed:
        while True:
            ws.recv(timeout=10)
    return closed.value.rcvd.code if closed.value.rcvd is not None else None


def test_a_single_frame_over_32_kb_closes_the_connection_with_1009(local_stack, incident):
    # Given a member's socket
    ws = local_stack.connect(incident["editor"].token, incident["room_id"])
    # When it sends one 33 KB frame (a browser sends each message as one frame)
    frame = _message("x" * (33 * KB))
    assert 32 * KB < len(frame.encode()) < 64 * KB
    ws.send(frame)
    # Then the gateway closes it with 1009, as API Gateway does
    assert _close_code(ws) == 1009


def test_a_30000_character_message_still_goes_through(local_stack, incident):
    # Given two members of a room
    editor, owner, room = incident["editor"], incident["owner"], incident["room_id"]
    with (
        local_stack.connect(editor.token, room) as sender,
        local_stack.connect(owner.token, room) as reader,
    ):
        # When one sends 30,000 ASCII characters (one frame, under 32 KB)
        content = ("incident log line. " * 1600)[:30_000]
        sender.send(_message(content))
        # Then it is acknowledged and the other member receives it whole
        frames_until(sender, of_type("ack"))
        received = frames_until(
            reader, lambda f: f.get("type") == "message" and f["message"]["content"] == content
        )[-1]
        assert received["message"]["sender_id"] == editor.user_id


def test_a_fragmented_message_of_small_frames_may_pass_32_kb(local_stack, incident):
    # Given a 60,000-character message sent as three frames of at most 20 KB
    with local_stack.connect(incident["editor"].token, incident["room_id"]) as ws:
        frame = _message("y" * 60_000)
        ws.send([frame[i : i + 20 * KB] for i in range(0, len(frame), 20 * KB)])
        # Then API Gateway's rule is per frame: the message is accepted
        ack = frames_until(ws, of_type("ack"))[-1]
        assert ack["sequence_number"] >= 1


def test_a_fragment_over_32_kb_closes_the_connection_with_1009(local_stack, incident):
    ws = local_stack.connect(incident["editor"].token, incident["room_id"])
    # Given a message whose second fragment alone is over 32 KB
    frame = _message("z" * (50 * KB))
    ws.send([frame[: 10 * KB], frame[10 * KB :]])
    # Then the socket is closed with 1009
    assert _close_code(ws) == 1009


def test_a_message_over_128_kb_in_small_frames_closes_the_connection_with_1009(
    local_stack, incident
):
    ws = local_stack.connect(incident["editor"].token, incident["room_id"])
    # Given 130 KB sent as frames of 30 KB, each within the frame limit
    frame = _message("w" * (130 * KB))
    ws.send([frame[i : i + 30 * KB] for i in range(0, len(frame), 30 * KB)])
    # Then the message limit closes it with 1009
    assert _close_code(ws) == 1009


def test_ping_is_answered_by_the_gateway_without_a_lambda(local_stack, incident):
    with local_stack.connect(incident["viewer"].token, incident["room_id"]) as ws:
        before = local_stack.request("GET", "/local/invocations").body
        # When the client pings five times
        for _ in range(5):
            ws.send(json.dumps({"type": "ping"}))
            # Then each is answered with exactly the MOCK route's response
            assert frames_until(ws, of_type("pong"))[-1] == {"type": "pong"}
        after = local_stack.request("GET", "/local/invocations").body
    # And the message function was not invoked for them
    assert after.get("message", 0) == before.get("message", 0)


def test_pings_keep_a_socket_past_the_idle_timeout_until_the_connection_limit(impatient_stack):
    # Given a stack with a 3 s idle timeout and a 6 s connection limit
    token = impatient_stack.login(f"long-{uuid.uuid4().hex[:6]}@factory.example", "Long")
    # When the client sends a ping frame every half second (data frames: they count as
    # activity, so the idle timeout never fires)
    with impatient_stack.connect(token) as ws, pytest.raises(ConnectionClosed) as closed:
        while True:
            ws.send(json.dumps({"type": "ping"}))
            frames_until(ws, of_type("pong"))
            time.sleep(0.5)
    # Then the connection limit closes it (1001, going away), not the idle timeout
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1001
    assert closed.value.rcvd.reason == "connection duration exceeded"
