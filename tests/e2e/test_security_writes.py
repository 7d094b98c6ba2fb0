"""Who may write, and who hears of it (issue 10, items 17, 19, 20, 21). Each behaviour
was right before these tests and nothing held it there: each test fails when the
behaviour is broken on purpose (see the security report)."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import psycopg
import pytest
from psycopg.rows import dict_row

from tests.e2e.conftest import frames_until
from warroom.dal import rooms as rooms_dal

pytestmark = pytest.mark.e2e


def _send(ws, text: str, **extra: Any) -> dict[str, Any]:
    client_msg_id = str(uuid.uuid4())
    ws.send(
        json.dumps({"type": "message", "client_msg_id": client_msg_id, "content": text, **extra})
    )
    return frames_until(ws, lambda f: f.get("client_msg_id") == client_msg_id)[-1]


def _answer(ws, frame: dict[str, Any]) -> dict[str, Any]:
    ws.send(json.dumps(frame))
    return _answer_to(ws, frame["message_id"])


def _answer_to(ws, message_id: str) -> dict[str, Any]:
    """The error frame, or the change broadcast about `message_id`."""
    changes = ("message_edited", "message_deleted", "reaction_updated")

    def answers(f: dict[str, Any]) -> bool:
        if f.get("type") == "error":
            return True
        about = f.get("message_id") or (f.get("message") or {}).get("message_id")
        return f.get("type") in changes and about == message_id

    return frames_until(ws, answers)[-1]


# --- 17: notifications reach members only ------------------------------------------


def test_a_signed_in_non_member_gets_no_notification_of_a_rooms_messages(
    local_stack, incident, person
):
    owner, editor, room_id = incident["owner"], incident["editor"], incident["room_id"]
    # Given a signed-in user who is in another room but not this one, with the app open
    outsider, buddy = person("outsider"), person("buddy")
    theirs = local_stack.request("POST", "/api/rooms", outsider.token, {"title": "Other line"})
    assert theirs.status == 201
    joined = local_stack.request(
        "POST",
        f"/api/rooms/{theirs.body['room_id']}/members",
        outsider.token,
        {"user_id": buddy.user_id},
    )
    assert joined.status == 201
    with (
        local_stack.connect(outsider.token) as outsider_app,
        local_stack.connect(editor.token) as editor_app,
        local_stack.connect(owner.token, room_id) as ws,
    ):
        # When a member posts in this room
        secret = f"root cause is the seal {uuid.uuid4().hex[:6]}"
        ack = _send(ws, secret)
        assert ack["type"] == "ack", ack
        # Then a member's app hears of it (the fan-out ran)
        frames_until(
            editor_app,
            lambda f: (
                f.get("type") == "notification" and f["message"]["message_id"] == ack["message_id"]
            ),
        )
        # and the outsider's app hears of their own room's messages, but never of this one
        with local_stack.connect(buddy.token, theirs.body["room_id"]) as own:
            sentinel = _send(own, "meanwhile in their room")
        seen = frames_until(
            outsider_app,
            lambda f: (
                f.get("type") == "notification"
                and f["message"]["message_id"] == sentinel["message_id"]
            ),
        )
        del seen[-1]
        # the sentinel went through the same fan-out after this room's, so anything of
        # this room's meant for the outsider would have arrived by now
        time.sleep(0.2)
        while True:
            try:
                seen.append(json.loads(outsider_app.recv(timeout=0.5)))
            except TimeoutError:
                break
    leaked = [f for f in seen if f.get("room_id") == room_id or secret in json.dumps(f)]
    assert leaked == []


# --- 19: a demotion in flight, and viewers' old messages -------------------------------


def _wait_for_lock_waiter(database_url: str, deadline: float = 15.0) -> None:
    """Until some backend waits for a row lock: the send has reached the room row."""
    with psycopg.connect(database_url, autocommit=True) as watcher:
        end = time.monotonic() + deadline
        while time.monotonic() < end:
            row = watcher.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock'"
            ).fetchone()
            if row and row[0] > 0:
                return
            time.sleep(0.05)
    raise AssertionError("the send never waited for the room row")


def test_a_member_demoted_while_their_send_waits_for_the_room_cannot_post(
    local_stack, incident, database_url
):
    editor, room_id = incident["editor"], incident["room_id"]
    with local_stack.connect(editor.token, room_id) as ws:
        before = _send(ws, "warming up")
        assert before["type"] == "ack"
        # Given another transaction holding the room row, as a concurrent write does
        with psycopg.connect(database_url, row_factory=dict_row) as holder:
            holder.execute("SELECT 1 FROM incident_rooms WHERE room_id = %s FOR UPDATE", (room_id,))
            # When the editor sends, and the send waits for the room row
            client_msg_id = str(uuid.uuid4())
            ws.send(
                json.dumps(
                    {"type": "message", "client_msg_id": client_msg_id, "content": "too late"}
                )
            )
            _wait_for_lock_waiter(database_url)
            # and the holder (an owner's role change, by the service's own statement) demotes
            # the editor to viewer before the row is released
            rooms_dal.set_role(holder, room_id=room_id, user_id=editor.user_id, role="VIEWER")
            holder.commit()
        # Then the send is refused: the role is checked under the row lock
        answer = frames_until(ws, lambda f: f.get("client_msg_id") == client_msg_id)[-1]
        assert answer["type"] == "error" and answer["code"] == "FORBIDDEN", answer
    page = local_stack.request("GET", f"/api/rooms/{room_id}/messages", incident["owner"].token)
    assert all(m["content"] != "too late" for m in page.body["messages"])


# (not add_reaction: a viewer may react, issue 16: a reaction acknowledges, it says nothing)
@pytest.mark.parametrize("change", ["edit_message", "delete_message"])
def test_a_member_demoted_while_their_change_waits_for_the_room_cannot_make_it(
    local_stack, incident, database_url, change
):
    editor, room_id = incident["editor"], incident["room_id"]
    with local_stack.connect(editor.token, room_id) as ws:
        # Given a message of the editor's
        message_id = _send(ws, "pressure 3.1 bar")["message_id"]
        frame = {"type": change, "message_id": message_id, "content": "3.4", "emoji": "👍"}
        # and another transaction holding the room row
        with psycopg.connect(database_url, row_factory=dict_row) as holder:
            holder.execute("SELECT 1 FROM incident_rooms WHERE room_id = %s FOR UPDATE", (room_id,))
            # When the editor changes the message, the change waits for the room row
            ws.send(json.dumps(frame))
            _wait_for_lock_waiter(database_url)
            # and the holder (an owner's role change, by the service's own statement) demotes
            # the editor to viewer before the row is released
            rooms_dal.set_role(holder, room_id=room_id, user_id=editor.user_id, role="VIEWER")
            holder.commit()
        # Then the change is refused and the message is as it was
        answer = _answer_to(ws, message_id)
        assert answer["type"] == "error" and answer["code"] == "FORBIDDEN", answer
    page = local_stack.request("GET", f"/api/rooms/{room_id}/messages", incident["owner"].token)
    kept = next(m for m in page.body["messages"] if m["message_id"] == message_id)
    assert kept["content"] == "pressure 3.1 bar" and kept["reactions"] == []
    assert kept["deleted_at"] is None


def test_a_viewer_cannot_delete_their_own_earlier_messages(local_stack, incident):
    owner, editor, room_id = incident["owner"], incident["editor"], incident["room_id"]
    with local_stack.connect(editor.token, room_id) as ws:
        # Given a message the editor posted
        ack = _send(ws, "posted while an editor")
        # When they are made a viewer and try to delete it
        demoted = local_stack.request(
            "PATCH",
            f"/api/rooms/{room_id}/members/{editor.user_id}",
            owner.token,
            {"role": "VIEWER"},
        )
        assert demoted.status == 200, demoted.text
        answer = _answer(ws, {"type": "delete_message", "message_id": ack["message_id"]})
    # Then it is FORBIDDEN and the message stays
    assert answer["type"] == "error" and answer["code"] == "FORBIDDEN", answer
    page = local_stack.request("GET", f"/api/rooms/{room_id}/messages", owner.token).body
    kept = next(m for m in page["messages"] if m["message_id"] == ack["message_id"])
    assert kept["deleted_at"] is None


# --- 20: the edit window counts from created_at ------------------------------------------


def test_the_edit_window_counts_from_created_at_even_after_an_edit(local_stack, incident, sql):
    editor, room_id = incident["editor"], incident["room_id"]
    with local_stack.connect(editor.token, room_id) as ws:
        # Given a message edited once, recently
        ack = _send(ws, "pressure 3.1 bar")
        message_id = ack["message_id"]
        first = _answer(ws, {"type": "edit_message", "message_id": message_id, "content": "3.2"})
        assert first["type"] == "message_edited", first
        # whose creation lies 16 minutes back, its edit only now
        sql.execute(
            "UPDATE messages SET created_at = created_at - interval '16 minutes', "
            "edited_at = clock_timestamp() WHERE message_id = %s",
            (message_id,),
        )
        # When the author edits it again
        second = _answer(ws, {"type": "edit_message", "message_id": message_id, "content": "3.3"})
        # Then the window has closed: it counts from creation, not from the last edit
        assert second["type"] == "error" and second["code"] == "EDIT_WINDOW_EXPIRED", second
        # and a message created 14 minutes ago can still be edited
        fresh = _send(ws, "temperature 80")
        sql.execute(
            "UPDATE messages SET created_at = created_at - interval '14 minutes' "
            "WHERE message_id = %s",
            (fresh["message_id"],),
        )
        inside = _answer(
            ws, {"type": "edit_message", "message_id": fresh["message_id"], "content": "81"}
        )
        assert inside["type"] == "message_edited", inside


# --- 21: an edit cannot mention (or notify) non-members ---------------------------------


def test_an_edit_never_mentions_or_notifies_a_non_member(local_stack, incident, person):
    editor, room_id = incident["editor"], incident["room_id"]
    outsider = person("outsider")
    with (
        local_stack.connect(outsider.token) as outsider_app,
        local_stack.connect(editor.token, room_id) as ws,
    ):
        # Given a message of the editor's
        ack = _send(ws, "who knows this press?")
        # When they edit it to mention someone outside the room (and a member)
        answer = _answer(
            ws,
            {
                "type": "edit_message",
                "message_id": ack["message_id"],
                "content": "who knows this press? @outsider @viewer",
                "mentions": [outsider.user_id, incident["viewer"].user_id],
            },
        )
        # Then the outsider is not among the message's mentions, whether the edit is
        # refused (VALIDATION) or stored with members only
        if answer["type"] == "error":
            assert answer["code"] == "VALIDATION", answer
        else:
            assert answer["type"] == "message_edited", answer
            assert outsider.user_id not in answer["message"]["mentions"]
            assert incident["viewer"].user_id in answer["message"]["mentions"]
        stored = local_stack.request(
            "GET", f"/api/rooms/{room_id}/messages?limit=5", incident["owner"].token
        ).body["messages"]
        edited = next(m for m in stored if m["message_id"] == ack["message_id"])
        assert outsider.user_id not in edited["mentions"]
        # and nothing lists the message among the outsider's mentions
        mine = local_stack.request("GET", "/api/mentions", outsider.token).body["messages"]
        assert all(m["message_id"] != ack["message_id"] for m in mine)
        # nor reaches the outsider's app
        frames: list[dict[str, Any]] = []
        while True:
            try:
                frames.append(json.loads(outsider_app.recv(timeout=0.5)))
            except TimeoutError:
                break
        assert all(f.get("room_id") != room_id for f in frames), frames
