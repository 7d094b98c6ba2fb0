"""An archived room is read-only (issue 10, item 1): every change answers CONFLICT, over
the WebSocket and over HTTP, except reopening it; reads still work."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import psycopg
import pytest

from tests.e2e.conftest import frames_until

pytestmark = pytest.mark.e2e


def _send(ws, text: str) -> dict[str, Any]:
    client_msg_id = str(uuid.uuid4())
    ws.send(json.dumps({"type": "message", "client_msg_id": client_msg_id, "content": text}))
    return frames_until(ws, lambda f: f.get("client_msg_id") == client_msg_id)[-1]


def _answer(ws, frame: dict[str, Any]) -> dict[str, Any]:
    """The error frame for `frame`, or the broadcast it caused (by message id)."""
    ws.send(json.dumps(frame))
    message_id = frame["message_id"]
    changes = ("message_edited", "message_deleted", "reaction_updated")

    def answers(f: dict[str, Any]) -> bool:
        if f.get("type") == "error":
            return True
        about = f.get("message_id") or (f.get("message") or {}).get("message_id")
        return f.get("type") in changes and about == message_id

    return frames_until(ws, answers)[-1]


def _patch_room(local_stack, token: str, room_id: str, body: dict[str, Any]):
    return local_stack.request("PATCH", f"/api/rooms/{room_id}", token, body)


@pytest.fixture
def archived(local_stack, incident, person) -> dict[str, Any]:
    """The incident with one message of the editor's and one of the owner's, then archived."""
    room_id = incident["room_id"]
    with local_stack.connect(incident["editor"].token, room_id) as ws:
        editor_ack = _send(ws, "seal replaced")
    with local_stack.connect(incident["owner"].token, room_id) as ws:
        owner_ack = _send(ws, "closing this out")
    done = _patch_room(local_stack, incident["owner"].token, room_id, {"status": "archived"})
    assert done.status == 200 and done.body["status"] == "archived", done.text
    return {
        **incident,
        "editor_message": editor_ack["message_id"],
        "owner_message": owner_ack["message_id"],
        "outsider": person("outsider"),
    }


def _room(local_stack, archived) -> dict[str, Any]:
    return local_stack.request(
        "GET", f"/api/rooms/{archived['room_id']}", archived["owner"].token
    ).body


def test_messages_of_an_archived_room_cannot_be_changed(local_stack, archived):
    room_id = archived["room_id"]
    before = _room(local_stack, archived)
    with local_stack.connect(archived["editor"].token, room_id) as ws:
        mine = archived["editor_message"]
        # When the editor sends, edits, reacts, unreacts and deletes in the archived room
        sent = _send(ws, "one more thing")
        answers = [
            _answer(ws, {"type": "edit_message", "message_id": mine, "content": "changed"}),
            _answer(ws, {"type": "add_reaction", "message_id": mine, "emoji": "👍"}),
            _answer(ws, {"type": "remove_reaction", "message_id": mine, "emoji": "👍"}),
            _answer(ws, {"type": "delete_message", "message_id": mine}),
        ]
    with local_stack.connect(archived["owner"].token, room_id) as ws:
        # and the owner deletes their own and the editor's message
        answers += [
            _answer(ws, {"type": "delete_message", "message_id": archived["owner_message"]}),
            _answer(ws, {"type": "delete_message", "message_id": mine}),
        ]
    # Then every one is CONFLICT
    assert sent["type"] == "error" and sent["code"] == "CONFLICT", sent
    for answer in answers:
        assert answer["type"] == "error" and answer["code"] == "CONFLICT", answer
    # and the messages and the room's numbers are as they were
    after = _room(local_stack, archived)
    assert after["last_seq"] == before["last_seq"]
    page = local_stack.request(
        "GET", f"/api/rooms/{room_id}/messages", archived["owner"].token
    ).body["messages"]
    kept = {m["message_id"]: m for m in page}
    for message_id in (archived["editor_message"], archived["owner_message"]):
        assert kept[message_id]["deleted_at"] is None
        assert kept[message_id]["edited_at"] is None
        assert kept[message_id]["reactions"] == []


def test_membership_and_room_details_of_an_archived_room_cannot_change(local_stack, archived):
    room_id, owner = archived["room_id"], archived["owner"]
    members = f"/api/rooms/{room_id}/members"
    before_members = local_stack.request("GET", members, owner.token).body
    before = _room(local_stack, archived)
    # When the owner adds, re-roles and removes members, a member leaves, and the owner
    # renames the room or changes its severity, location or lots
    answers = [
        local_stack.request(
            "POST", members, owner.token, {"user_id": archived["outsider"].user_id}
        ),
        local_stack.request(
            "PATCH", f"{members}/{archived['viewer'].user_id}", owner.token, {"role": "EDITOR"}
        ),
        local_stack.request("DELETE", f"{members}/{archived['editor'].user_id}", owner.token),
        local_stack.request(
            "DELETE", f"{members}/{archived['viewer'].user_id}", archived["viewer"].token
        ),
        _patch_room(local_stack, owner.token, room_id, {"title": "Renamed"}),
        _patch_room(local_stack, owner.token, room_id, {"severity": "low"}),
        _patch_room(local_stack, owner.token, room_id, {"location": "elsewhere"}),
        _patch_room(local_stack, owner.token, room_id, {"lots": ["LOT-9"]}),
        local_stack.request(
            "POST",
            f"/api/rooms/{room_id}/files",
            owner.token,
            {"filename": "late.pdf", "content_type": "application/pdf", "size": 10},
        ),
    ]
    # Then each is 409 CONFLICT and nothing changed
    for answer in answers:
        assert answer.status == 409, (answer.status, answer.text)
        assert answer.body["error"]["code"] == "CONFLICT"
    assert local_stack.request("GET", members, owner.token).body == before_members
    after = _room(local_stack, archived)
    assert {k: after[k] for k in ("title", "severity", "location", "lots", "last_seq")} == {
        k: before[k] for k in ("title", "severity", "location", "lots", "last_seq")
    }
    # while reading still works for every member
    for member in ("owner", "editor", "viewer"):
        token = archived[member].token
        assert local_stack.request("GET", f"/api/rooms/{room_id}/messages", token).status == 200


def test_reopening_an_archived_room_makes_it_writable_again(local_stack, archived):
    room_id, owner = archived["room_id"], archived["owner"]
    # When the owner reopens the room
    reopened = _patch_room(local_stack, owner.token, room_id, {"status": "active"})
    assert reopened.status == 200 and reopened.body["status"] == "active", reopened.text
    # Then the editor can edit again and the owner can manage members again
    with local_stack.connect(archived["editor"].token, room_id) as ws:
        edited = _answer(
            ws,
            {
                "type": "edit_message",
                "message_id": archived["editor_message"],
                "content": "seal replaced (again)",
            },
        )
    assert edited["type"] == "message_edited", edited
    added = local_stack.request(
        "POST",
        f"/api/rooms/{room_id}/members",
        owner.token,
        {"user_id": archived["outsider"].user_id},
    )
    assert added.status == 201, added.text


def test_a_viewer_cannot_reopen_an_archived_room(local_stack, archived):
    answer = _patch_room(
        local_stack, archived["viewer"].token, archived["room_id"], {"status": "active"}
    )
    assert answer.status == 403
    assert _room(local_stack, archived)["status"] == "archived"


def _wait_for_lock_waiter(database_url: str) -> None:
    with psycopg.connect(database_url, autocommit=True) as watcher:
        end = time.monotonic() + 15
        while time.monotonic() < end:
            row = watcher.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock'"
            ).fetchone()
            if row and row[0] > 0:
                return
            time.sleep(0.05)
    raise AssertionError("the write never waited for the room row")


@pytest.mark.parametrize("change", ["message", "edit_message", "add_reaction", "delete_message"])
def test_a_room_archived_while_a_write_waits_for_it_refuses_the_write(
    local_stack, incident, database_url, change
):
    editor, room_id = incident["editor"], incident["room_id"]
    with local_stack.connect(editor.token, room_id) as ws:
        # Given a message of the editor's, and another transaction holding the room row
        message_id = _send(ws, "seal replaced")["message_id"]
        client_msg_id = str(uuid.uuid4())
        frame = {
            "type": change,
            "client_msg_id": client_msg_id,
            "message_id": message_id,
            "content": "seal replaced twice",
            "emoji": "👍",
        }
        with psycopg.connect(database_url) as holder:
            holder.execute("SELECT 1 FROM incident_rooms WHERE room_id = %s FOR UPDATE", (room_id,))
            # When the editor writes, the write waits for the row, and the room is archived
            ws.send(json.dumps(frame))
            _wait_for_lock_waiter(database_url)
            holder.execute(
                "UPDATE incident_rooms SET status = 'archived' WHERE room_id = %s", (room_id,)
            )
            holder.commit()
        # Then the write is CONFLICT: the status is checked on the locked row
        answer = frames_until(
            ws,
            lambda f: (
                f.get("type") in ("error", "ack", "message_edited", "message_deleted")
                or f.get("type") == "reaction_updated"
            ),
        )[-1]
        assert answer["type"] == "error" and answer["code"] == "CONFLICT", answer
