"""Bad input over the wire (issue 10, item 4): NUL characters, lone surrogates and deeply
nested JSON get a typed 4xx / VALIDATION naming the field, change nothing, and are judged
only after the caller has proven who they are."""

from __future__ import annotations

import json
import urllib.parse
import uuid
from typing import Any

import pytest

from tests.e2e.conftest import frames_until, of_type

pytestmark = pytest.mark.e2e

NUL = "\x00"
LONE = "\ud800"  # a lone surrogate: valid in a JSON escape, not encodable as UTF-8


def _raw_json(value: Any) -> bytes:
    # ensure_ascii writes both NUL and lone surrogates as \u escapes, as a client's
    # JSON encoder would; the bytes on the wire are valid UTF-8 either way.
    return json.dumps(value).encode()


def _assert_validation(result, field: str) -> None:
    assert result.status == 422, (result.status, result.text)
    error = result.body["error"]
    assert error["code"] == "VALIDATION"
    assert field in error["message"], error["message"]
    assert "Traceback" not in result.text


def _room_state(local_stack, incident) -> dict[str, Any]:
    room = local_stack.request("GET", f"/api/rooms/{incident['room_id']}", incident["owner"].token)
    assert room.status == 200, room.text
    return room.body


def _post_json(local_stack, path: str, token: str | None, body: Any, method: str = "POST"):
    return local_stack.request(
        method, path, token, raw=_raw_json(body), headers={"Content-Type": "application/json"}
    )


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"title": f"Line{NUL}3 down"}, "title"),
        ({"title": "Line 3 down", "location": f"Plant{NUL}B"}, "location"),
        ({"title": "Line 3 down", "lots": ["LOT-1", f"LOT{NUL}2"]}, "lots"),
        ({"title": f"Line {LONE} down"}, "title"),
        ({"title": "Line 3 down", "location": f"Plant {LONE}"}, "location"),
    ],
)
def test_room_fields_with_nul_or_lone_surrogates_are_refused(local_stack, person, body, field):
    # Given a signed-in engineer
    owner = person("owner")
    before = local_stack.request("GET", "/api/rooms", owner.token).body["rooms"]
    # When they create a room with a NUL or a lone surrogate in one field
    result = _post_json(local_stack, "/api/rooms", owner.token, body)
    # Then the answer is 422 VALIDATION naming that field, and no room was created
    _assert_validation(result, field)
    assert local_stack.request("GET", "/api/rooms", owner.token).body["rooms"] == before


def test_room_edit_with_nul_is_refused_and_changes_nothing(local_stack, incident):
    # Given a room
    room_id, owner = incident["room_id"], incident["owner"]
    before = _room_state(local_stack, incident)
    # When its owner renames it with a NUL in the title
    result = _post_json(
        local_stack, f"/api/rooms/{room_id}", owner.token, {"title": f"x{NUL}y"}, "PATCH"
    )
    # Then VALIDATION names the title and the room is unchanged
    _assert_validation(result, "title")
    assert _room_state(local_stack, incident)["title"] == before["title"]


def test_file_name_with_nul_is_refused(local_stack, incident):
    # When an upload is asked for with a NUL in its file name
    result = _post_json(
        local_stack,
        f"/api/rooms/{incident['room_id']}/files",
        incident["owner"].token,
        {"filename": f"report{NUL}.pdf", "content_type": "application/pdf", "size": 10},
    )
    # Then VALIDATION names the file name and no file is listed
    _assert_validation(result, "filename")
    files = local_stack.request(
        "GET", f"/api/rooms/{incident['room_id']}/files", incident["owner"].token
    )
    assert files.body["files"] == []


def test_member_ids_with_nul_are_refused_in_bodies_and_paths(local_stack, incident):
    room_id, owner = incident["room_id"], incident["owner"]
    bad_id = f"ghost{NUL}@factory.example"
    members_before = local_stack.request("GET", f"/api/rooms/{room_id}/members", owner.token).body
    # When the owner adds, re-roles and removes a member id holding a NUL
    added = _post_json(
        local_stack, f"/api/rooms/{room_id}/members", owner.token, {"user_id": bad_id}
    )
    quoted = urllib.parse.quote(bad_id, safe="@")
    changed = _post_json(
        local_stack,
        f"/api/rooms/{room_id}/members/{quoted}",
        owner.token,
        {"role": "VIEWER"},
        "PATCH",
    )
    removed = local_stack.request("DELETE", f"/api/rooms/{room_id}/members/{quoted}", owner.token)
    # Then each is VALIDATION naming the member id, and the member list is unchanged
    _assert_validation(added, "user_id")
    _assert_validation(changed, "member_id")
    _assert_validation(removed, "member_id")
    after = local_stack.request("GET", f"/api/rooms/{room_id}/members", owner.token).body
    assert after == members_before


def test_directory_query_with_nul_is_refused(local_stack, person):
    result = local_stack.request("GET", "/api/users?q=al%00ice", person("asker").token)
    _assert_validation(result, "q")


@pytest.mark.parametrize(
    "raw",
    [
        b"[" * 100_000 + b"]" * 100_000,
        json.dumps(
            {"title": "deep", "lots": [[[[[[[[[[[[[[[[[[[[[[["x"]]]]]]]]]]]]]]]]]]]]]]]}
        ).encode(),
    ],
    ids=["far-too-deep", "deeper-than-the-limit"],
)
def test_deeply_nested_json_bodies_are_refused_not_a_500(local_stack, person, raw):
    # When a body nests arrays far deeper than any request needs
    result = local_stack.request(
        "POST",
        "/api/rooms",
        person("owner").token,
        raw=raw,
        headers={"Content-Type": "application/json"},
    )
    # Then it is a typed 422, not a 500
    assert result.status == 422, (result.status, result.text[:200])
    assert result.body["error"]["code"] == "VALIDATION"


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/api/rooms", {"title": 5, "severity": "apocalyptic"}),
        ("POST", "/api/rooms", {"title": f"a{NUL}b"}),
        ("GET", "/api/users?q=" + "x" * 500, None),
        ("GET", "/api/rooms/not-a-uuid/messages?limit=0", None),
    ],
)
def test_requests_without_a_token_learn_nothing_about_their_fields(local_stack, method, path, body):
    # When a request carries no token and a body or query that is also invalid
    result = local_stack.request(
        method,
        path,
        None,
        raw=_raw_json(body) if body is not None else None,
        headers={"Content-Type": "application/json"},
    )
    # Then it is refused as unauthenticated, and nothing is said about its fields
    assert result.status == 401, (result.status, result.text)
    assert result.body["error"]["code"] == "UNAUTHORIZED"
    assert "title" not in result.text and "severity" not in result.text


# --- WebSocket -----------------------------------------------------------------


def _incident(note: str = "rising", machine_id: str = "CNC-07") -> dict[str, Any]:
    return {
        "machine_id": machine_id,
        "readings": {"temperature": 85.2},
        "note": note,
    }


def _error_for(ws, raw: str) -> dict[str, Any]:
    ws.send(raw)
    return frames_until(ws, of_type("error"))[-1]


def _still_usable(ws) -> None:
    ws.send(json.dumps({"type": "ping"}))
    frames_until(ws, of_type("pong"))


@pytest.mark.parametrize(
    ("frame", "field"),
    [
        (
            {"type": "message", "message_type": "incident_data", "content": _incident(NUL)},
            "note",
        ),
        (
            {
                "type": "message",
                "message_type": "incident_data",
                "content": _incident(machine_id=f"CNC{NUL}07"),
            },
            "machine_id",
        ),
        (
            {"type": "message", "message_type": "incident_data", "content": _incident(LONE)},
            "note",
        ),
        ({"type": "message", "message_type": "text", "content": f"pump {LONE} alarm"}, "content"),
        (
            {
                "type": "message",
                "message_type": "text",
                "content": "hi",
                "mentions": [f"a{NUL}@b.c"],
            },
            "mentions",
        ),
    ],
)
def test_bad_characters_in_sends_are_validation_naming_the_field(
    local_stack, incident, frame, field
):
    room_id = incident["room_id"]
    last_seq = _room_state(local_stack, incident)["last_seq"]
    with local_stack.connect(incident["editor"].token, room_id) as ws:
        # When an editor sends a frame with a NUL or a lone surrogate in one field
        client_msg_id = str(uuid.uuid4())
        error = _error_for(ws, json.dumps({**frame, "client_msg_id": client_msg_id}))
        # Then the answer is VALIDATION naming the field, for that send
        assert error["code"] == "VALIDATION", error
        assert field in error["message"], error
        assert error["client_msg_id"] == client_msg_id
        _still_usable(ws)
    # and nothing was stored
    assert _room_state(local_stack, incident)["last_seq"] == last_seq


def test_lone_surrogates_in_edits_and_emoji_are_validation(local_stack, incident):
    room_id = incident["room_id"]
    with local_stack.connect(incident["editor"].token, room_id) as ws:
        # Given a message of the editor's
        client_msg_id = str(uuid.uuid4())
        ws.send(json.dumps({"type": "message", "client_msg_id": client_msg_id, "content": "ok"}))
        ack = frames_until(ws, of_type("ack", client_msg_id=client_msg_id))[-1]
        message_id = ack["message_id"]
        # When they edit it, and react to it, with lone surrogates
        edit = _error_for(
            ws,
            json.dumps({"type": "edit_message", "message_id": message_id, "content": f"x{LONE}"}),
        )
        react = _error_for(
            ws, json.dumps({"type": "add_reaction", "message_id": message_id, "emoji": LONE})
        )
        # Then both are VALIDATION naming the field, and the message is unchanged
        assert edit["code"] == "VALIDATION" and "content" in edit["message"], edit
        assert react["code"] == "VALIDATION" and "emoji" in react["message"], react
        _still_usable(ws)
    page = local_stack.request(
        "GET", f"/api/rooms/{room_id}/messages?limit=5", incident["editor"].token
    ).body
    stored = next(m for m in page["messages"] if m["message_id"] == message_id)
    assert stored["content"] == "ok" and stored["edited_at"] is None and stored["reactions"] == []


@pytest.mark.parametrize(
    "raw",
    [
        "[" * 15_000 + "]" * 15_000,
        '{"type":"message","content":' + "[" * 15_000 + "]" * 15_000 + "}",
        json.dumps(
            {
                "type": "message",
                "content": {"readings": {"a": 1}, "x": [[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]},
            }
        ),
    ],
    ids=["array", "in-a-message", "deeper-than-the-limit"],
)
def test_deeply_nested_frames_get_an_answer(local_stack, incident, raw):
    with local_stack.connect(incident["editor"].token, incident["room_id"]) as ws:
        # When a frame nests deeper than any frame needs
        error = _error_for(ws, raw)
        # Then it gets a VALIDATION error frame (not silence) and the socket stays usable
        assert error["code"] == "VALIDATION", error
        _still_usable(ws)


def test_the_http_send_refuses_bad_characters_naming_the_field(local_stack, incident):
    # When a message with a NUL in a reading's note is sent over HTTP
    room_id = incident["room_id"]
    before = _room_state(local_stack, incident)["last_seq"]
    result = _post_json(
        local_stack,
        f"/api/rooms/{room_id}/messages",
        incident["editor"].token,
        {
            "client_msg_id": str(uuid.uuid4()),
            "message_type": "incident_data",
            "content": _incident(f"leak{NUL}"),
        },
    )
    # Then it is VALIDATION naming the note, and nothing was stored
    _assert_validation(result, "note")
    assert _room_state(local_stack, incident)["last_seq"] == before


def test_the_local_sign_in_refuses_bad_characters_too(local_stack):
    result = local_stack.request(
        "POST", "/api/dev/login", raw=_raw_json({"user_id": f"ann{NUL}@factory.example"})
    )
    _assert_validation(result, "user_id")
