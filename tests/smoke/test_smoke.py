"""End to end over the real protocols, against the local stack or a deployed stage
(`make smoke STAGE=dev`): health, a room made over HTTP, two people on WebSockets, a send
acknowledged and delivered, the heartbeat, history over HTTP, and a stranger refused."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import ClientConnection

from tests.smoke.targets import SignedIn, Target

pytestmark = pytest.mark.smoke

# Deployed, a first request may wait for a cold start and a resuming database.
FRAME_TIMEOUT_S = 30


def frames_until(
    ws: ClientConnection, predicate: Callable[[dict[str, Any]], bool]
) -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = []
    deadline = time.monotonic() + FRAME_TIMEOUT_S
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise AssertionError(f"no matching frame within {FRAME_TIMEOUT_S} s; saw {seen}")
        frame = json.loads(ws.recv(timeout=remaining))
        seen.append(frame)
        if predicate(frame):
            return seen


@pytest.fixture(scope="module")
def people(target: Target) -> dict[str, SignedIn]:
    return {"owner": target.sign_in("owner"), "editor": target.sign_in("editor")}


@pytest.fixture(scope="module")
def room(target: Target, people: dict[str, SignedIn]) -> str:
    owner, editor = people["owner"], people["editor"]
    created = target.request(
        "POST",
        "/api/rooms",
        owner.token,
        {"title": "Smoke test: line 0 stopped", "severity": "low", "location": "Smoke"},
    )
    assert created.status == 201, created.body
    room_id = str(created.body["room_id"])
    added = target.request(
        "POST",
        f"/api/rooms/{room_id}/members",
        owner.token,
        {"user_id": editor.user_id, "role": "EDITOR"},
    )
    assert added.status == 201, added.body
    return room_id


def test_health_reaches_the_database(target: Target) -> None:
    # Given the target's HTTP API
    # When asking for its health (public)
    answer = target.request("GET", "/api/health")
    # Then it answers, and it reached the database
    assert answer.status == 200, answer.body
    assert answer.body == {"status": "ok", "database": "ok"}


def test_the_api_refuses_a_request_without_a_token(target: Target) -> None:
    # Given no sign-in
    # When listing rooms
    answer = target.request("GET", "/api/rooms")
    # Then the API refuses (API Gateway's JWT authorizer in the cloud, the function locally)
    assert answer.status == 401


def test_signed_in_user_is_in_the_directory(target: Target, people: dict[str, SignedIn]) -> None:
    # Given a user who just signed in for the first time (user_sync ran in the cloud)
    owner = people["owner"]
    # When asking who they are
    answer = target.request("GET", "/api/me", owner.token)
    # Then the directory knows them by their e-mail, with their name
    assert answer.status == 200, answer.body
    assert answer.body["user_id"] == owner.user_id
    assert answer.body["display_name"] == owner.display_name


def test_a_send_is_acknowledged_and_delivered_and_kept(
    target: Target, people: dict[str, SignedIn], room: str
) -> None:
    owner, editor = people["owner"], people["editor"]
    # Given the owner and the editor connected to the room
    with target.connect(owner.token, room) as sender, target.connect(editor.token, room) as peer:
        # When the owner sends a message
        client_msg_id = str(uuid.uuid4())
        sender.send(
            json.dumps(
                {
                    "type": "message",
                    "client_msg_id": client_msg_id,
                    "message_type": "text",
                    "content": "Smoke: pressure back to 120 bar",
                }
            )
        )
        # Then the sender gets the ack with the message's number
        ack = frames_until(sender, lambda f: f.get("type") == "ack")[-1]
        assert ack["client_msg_id"] == client_msg_id
        assert ack["sequence_number"] > 0
        # And the other member receives the message, numbered the same
        frame = frames_until(
            peer,
            lambda f: (
                f.get("type") == "message" and f["message"]["message_id"] == ack["message_id"]
            ),
        )[-1]
        assert frame["message"]["content"] == "Smoke: pressure back to 120 bar"
        assert frame["message"]["sequence_number"] == ack["sequence_number"]
        assert frame["message"]["sender_id"] == owner.user_id
    # And the history over HTTP has it
    history = target.request("GET", f"/api/rooms/{room}/messages", editor.token)
    assert history.status == 200, history.body
    ids = [m["message_id"] for m in history.body["messages"]]
    assert ack["message_id"] in ids


def test_ping_is_answered_with_pong(target: Target, people: dict[str, SignedIn], room: str) -> None:
    # Given a member connected to the room (in the cloud API Gateway answers, no Lambda)
    with target.connect(people["editor"].token, room) as ws:
        # When the client's heartbeat asks
        ws.send(json.dumps({"type": "ping"}))
        # Then the answer is the pong frame
        assert frames_until(ws, lambda f: f.get("type") == "pong")[-1] == {"type": "pong"}


def test_a_stranger_cannot_join_the_room(target: Target, room: str) -> None:
    # Given someone signed in who is not a member
    stranger = target.sign_in("stranger")
    # When they open a socket to the room
    # Then the handshake is refused with 403
    with pytest.raises(InvalidStatus) as refused:
        target.connect(stranger.token, room).close()
    assert refused.value.response.status_code == 403
