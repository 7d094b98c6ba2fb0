"""Every HTTP route against the running local stack, as a browser or script calls it."""

from __future__ import annotations

import json
import urllib.request
import uuid
from urllib.parse import quote

import pytest
from websockets.exceptions import ConnectionClosed

from tests.e2e.conftest import frames_until, of_type

pytestmark = pytest.mark.e2e


def test_health_and_openapi_need_no_token(local_stack):
    assert local_stack.request("GET", "/api/health").body == {"status": "ok", "database": "ok"}
    spec = local_stack.request("GET", "/api/openapi.json").body
    assert "/api/rooms/{room_id}/messages" in spec["paths"]


def test_everything_else_needs_a_valid_token(local_stack):
    for token in (None, "garbage", local_stack.login("who@factory.example")[:-4] + "AAAA"):
        result = local_stack.request("GET", "/api/rooms", token)
        assert result.status == 401
        assert result.body["error"]["code"] == "UNAUTHORIZED"


def test_me_and_directory(local_stack, person):
    someone = person("directory")
    me = local_stack.request("GET", "/api/me", someone.token).body
    assert me["user_id"] == someone.user_id and me["display_name"] == "Directory"
    found = local_stack.request("GET", "/api/users?q=directory-", someone.token).body["users"]
    assert someone.user_id in [u["user_id"] for u in found]


def test_room_lifecycle_and_membership(local_stack, incident, person):
    owner, editor, room = incident["owner"], incident["editor"], incident["room_id"]
    # the owner sees it with a role and counts
    mine = local_stack.request("GET", "/api/rooms?status=active", owner.token).body["rooms"]
    assert next(r for r in mine if r["room_id"] == room)["my_role"] == "OWNER"
    detail = local_stack.request("GET", f"/api/rooms/{room}", editor.token).body
    assert detail["lots"] == ["LOT-77"] and detail["my_role"] == "EDITOR"
    # an editor may not change the room; the owner may, and live clients hear of it
    assert (
        local_stack.request(
            "PATCH", f"/api/rooms/{room}", editor.token, {"status": "resolved"}
        ).status
        == 403
    )
    with local_stack.connect(editor.token, room) as ws:
        changed = local_stack.request(
            "PATCH",
            f"/api/rooms/{room}",
            owner.token,
            {"status": "resolved", "lots": ["LOT-77", "LOT-78"]},
        )
        assert changed.status == 200 and changed.body["status"] == "resolved"
        event = frames_until(ws, of_type("system", event="room_status_changed"))[-1]
        assert event["user_id"] == owner.user_id
    # members: list, add, change role, remove
    newcomer = person("newcomer")
    members = local_stack.request("GET", f"/api/rooms/{room}/members", editor.token).body["members"]
    assert {m["role"] for m in members} == {"OWNER", "EDITOR", "VIEWER"}
    assert (
        local_stack.request(
            "POST",
            f"/api/rooms/{room}/members",
            editor.token,
            {"user_id": newcomer.user_id, "role": "EDITOR"},
        ).status
        == 403
    )
    added = local_stack.request(
        "POST",
        f"/api/rooms/{room}/members",
        owner.token,
        {"user_id": newcomer.user_id, "role": "VIEWER"},
    )
    assert added.status == 201 and added.body["role"] == "VIEWER"
    assert (
        local_stack.request(
            "POST",
            f"/api/rooms/{room}/members",
            owner.token,
            {"user_id": newcomer.user_id, "role": "VIEWER"},
        ).status
        == 409
    )
    promoted = local_stack.request(
        "PATCH", f"/api/rooms/{room}/members/{newcomer.user_id}", owner.token, {"role": "EDITOR"}
    )
    assert promoted.body["role"] == "EDITOR"
    with local_stack.connect(newcomer.token, room) as ws:
        assert (
            local_stack.request(
                "DELETE", f"/api/rooms/{room}/members/{newcomer.user_id}", owner.token
            ).status
            == 204
        )
        # the removed member's socket is closed by the server
        with pytest.raises(ConnectionClosed):
            frames_until(ws, lambda f: False, timeout=5)
    assert local_stack.request("GET", f"/api/rooms/{room}", newcomer.token).status == 403
    # the last owner cannot leave
    assert (
        local_stack.request(
            "DELETE", f"/api/rooms/{room}/members/{owner.user_id}", owner.token
        ).status
        == 409
    )


def test_create_room_validation(local_stack, person):
    someone = person("creator")
    assert local_stack.request("POST", "/api/rooms", someone.token, {"title": ""}).status == 422
    assert (
        local_stack.request(
            "POST", "/api/rooms", someone.token, {"title": "x", "severity": "apocalyptic"}
        ).status
        == 422
    )
    bad_json = local_stack.request(
        "POST",
        "/api/rooms",
        someone.token,
        raw=b"{not json",
        headers={"Content-Type": "application/json"},
    )
    assert bad_json.status in (400, 422) and "error" in bad_json.body
    assert local_stack.request("GET", f"/api/rooms/{uuid.uuid4()}", someone.token).status == 404
    assert local_stack.request("GET", "/api/rooms/not-a-uuid", someone.token).status == 422
    assert local_stack.request("GET", "/api/nothing-here", someone.token).status == 404


def _send(local_stack, person, room, text, **extra):
    with local_stack.connect(person.token, room) as ws:
        client_msg_id = str(uuid.uuid4())
        ws.send(
            json.dumps(
                {"type": "message", "client_msg_id": client_msg_id, "content": text, **extra}
            )
        )
        return frames_until(ws, of_type("ack", client_msg_id=client_msg_id))[-1]


def test_history_pages_read_marks_search_mentions_and_readings(local_stack, incident):
    owner, editor, viewer, room = (
        incident["owner"],
        incident["editor"],
        incident["viewer"],
        incident["room_id"],
    )
    tag = uuid.uuid4().hex[:6]
    for i in range(5):
        _send(local_stack, owner, room, f"step {i} {tag}")
    last = _send(local_stack, owner, room, f"@Editor 設備溫度上升 {tag}", mentions=[editor.user_id])
    _send(
        local_stack,
        editor,
        room,
        "",
        message_type="incident_data",
        content={"machine_id": "P4", "readings": {"temperature": 91.5}},
    )
    # pages
    first = local_stack.request("GET", f"/api/rooms/{room}/messages?limit=3", viewer.token).body
    assert len(first["messages"]) == 3 and first["has_more"] is True
    second = local_stack.request(
        "GET",
        f"/api/rooms/{room}/messages?limit=3&before_seq={first['next_before_seq']}",
        viewer.token,
    ).body
    assert second["messages"][0]["sequence_number"] == first["messages"][-1]["sequence_number"] - 1
    by_time = local_stack.request(
        "GET", f"/api/rooms/{room}/messages?limit=3&before={first['next_before']}", viewer.token
    ).body
    assert [m["message_id"] for m in by_time["messages"]] == [
        m["message_id"] for m in second["messages"]
    ]
    after = local_stack.request(
        "GET", f"/api/rooms/{room}/messages?after_seq={last['sequence_number'] - 1}", viewer.token
    ).body
    assert [m["sequence_number"] for m in after["messages"]][:2] == [
        last["sequence_number"],
        last["sequence_number"] + 1,
    ]
    assert (
        local_stack.request("GET", f"/api/rooms/{room}/messages?limit=0", viewer.token).status
        == 422
    )
    # unread and mention counts, cleared by a read mark
    counts = next(
        r
        for r in local_stack.request("GET", "/api/rooms", editor.token).body["rooms"]
        if r["room_id"] == room
    )
    assert counts["mention_count"] >= 1 and counts["unread_count"] >= 6
    read = local_stack.request(
        "POST",
        f"/api/rooms/{room}/read",
        editor.token,
        {"last_read_seq": last["sequence_number"] + 1},
    )
    assert read.status == 200
    counts = next(
        r
        for r in local_stack.request("GET", "/api/rooms", editor.token).body["rooms"]
        if r["room_id"] == room
    )
    assert (counts["unread_count"], counts["mention_count"]) == (0, 0)
    # search, in Chinese and English, highlighted with the documented markers
    hits = local_stack.request(
        "GET", f"/api/search?q={quote('溫度')}&room_id={room}", viewer.token
    ).body["results"]
    assert hits and "\ue000溫度\ue001" in hits[0]["highlight"]
    hits = local_stack.request("GET", f"/api/search?q=step%20{tag}", viewer.token).body["results"]
    assert len(hits) == 5
    # mentions and readings
    mentions = local_stack.request("GET", "/api/mentions", editor.token).body["messages"]
    assert mentions[0]["message_id"] == last["message_id"]
    hot = local_stack.request(
        "GET", f"/api/rooms/{room}/incident-data?field=temperature&min=90", viewer.token
    ).body["messages"]
    assert [m["content"]["readings"]["temperature"] for m in hot] == [91.5]
    assert (
        local_stack.request(
            "GET", f"/api/rooms/{room}/incident-data?field=temperature&min=95&max=90", viewer.token
        ).status
        == 422
    )


def test_file_upload_and_download_through_presigned_urls(local_stack, incident):
    owner, viewer, room = incident["owner"], incident["viewer"], incident["room_id"]
    limits = local_stack.request("GET", "/api/limits", owner.token).body
    assert "image/png" in limits["allowed_content_types"]
    png = b"\x89PNG\r\n\x1a\n" + b"0" * 100
    # refused: a viewer, a wrong type, too big
    assert (
        local_stack.request(
            "POST",
            f"/api/rooms/{room}/files",
            viewer.token,
            {"filename": "a.png", "content_type": "image/png", "size": len(png)},
        ).status
        == 403
    )
    assert (
        local_stack.request(
            "POST",
            f"/api/rooms/{room}/files",
            owner.token,
            {"filename": "a.exe", "content_type": "application/x-msdownload", "size": 10},
        ).status
        == 422
    )
    assert (
        local_stack.request(
            "POST",
            f"/api/rooms/{room}/files",
            owner.token,
            {
                "filename": "a.png",
                "content_type": "image/png",
                "size": limits["max_file_bytes"] + 1,
            },
        ).status
        == 413
    )
    created = local_stack.request(
        "POST",
        f"/api/rooms/{room}/files",
        owner.token,
        {"filename": "spindle photo.png", "content_type": "image/png", "size": len(png)},
    )
    assert created.status == 201
    upload = created.body["upload"]
    # the browser's presigned POST: a multipart form, fields first, the file last
    boundary = uuid.uuid4().hex
    parts = b""
    for name, value in upload["fields"].items():
        parts += f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
    parts += (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="p.png"\r\nContent-Type: image/png\r\n\r\n'.encode()
        + png
        + f"\r\n--{boundary}--\r\n".encode()
    )
    req = urllib.request.Request(
        upload["url"],
        data=parts,
        method="POST",
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    with urllib.request.urlopen(req) as resp:
        assert resp.status in (200, 204)
    ack = _send(
        local_stack,
        owner,
        room,
        "the spindle",
        message_type="image_ref",
        file_id=created.body["file_id"],
    )
    message = next(
        m
        for m in local_stack.request("GET", f"/api/rooms/{room}/messages", viewer.token).body[
            "messages"
        ]
        if m["message_id"] == ack["message_id"]
    )
    assert message["file"]["filename"] == "spindle photo.png"
    link = local_stack.request("GET", message["file_url"], viewer.token).body
    with urllib.request.urlopen(link["url"]) as resp:
        assert resp.read() == png
    files = local_stack.request("GET", f"/api/rooms/{room}/files", viewer.token).body["files"]
    assert [f["file_id"] for f in files] == [created.body["file_id"]]


def test_report_is_markdown_with_the_incident(local_stack, incident):
    owner, room = incident["owner"], incident["room_id"]
    _send(local_stack, owner, room, "Root cause: worn seal <b>replaced</b>")
    _send(
        local_stack,
        owner,
        room,
        "",
        message_type="incident_data",
        content={
            "machine_id": "P4",
            "readings": {"pressure": 180, "temperature": 71},
            "units": {"pressure": "bar"},
        },
    )
    report = local_stack.request("GET", f"/api/rooms/{room}/report", incident["viewer"].token)
    assert report.status == 200 and report.headers["Content-Type"].startswith("text/markdown")
    text = report.text
    assert text.startswith("# Incident report: Press 4 hydraulic leak")
    for needle in (
        "| Severity | high |",
        "LOT-77",
        "## Participants",
        "## Timeline (GMT+8)",
        "## Machine readings",
        "| 180 bar | 71 |",
        "## Attachments",
    ):
        assert needle in text
    assert "&lt;b&gt;replaced&lt;/b&gt;" in text and "<b>" not in text


def test_no_stack_trace_ever_reaches_a_client(local_stack, person):
    someone = person("prober")
    for path in ("/api/rooms/%00", "/api/search?q=" + "x" * 500, "/api/rooms?status=nope"):
        result = local_stack.request("GET", path, someone.token)
        assert result.status < 500 or result.body["error"]["code"] == "INTERNAL"
        assert "Traceback" not in result.text and 'File "' not in result.text


def test_membership_changes_reach_live_clients_as_numbered_system_messages(
    local_stack, incident, person
):
    owner, editor, room = incident["owner"], incident["editor"], incident["room_id"]
    newcomer = person("newcomer")
    with (
        local_stack.connect(editor.token, room) as ws,
        local_stack.connect(newcomer.token) as badge,
    ):
        added = local_stack.request(
            "POST",
            f"/api/rooms/{room}/members",
            owner.token,
            {"user_id": newcomer.user_id, "role": "EDITOR"},
        )
        assert added.status == 201
        seen = frames_until(ws, of_type("system", event="member_added"))
        assert seen[-1]["user_id"] == newcomer.user_id
        # the same change is a numbered message in the history, so no client sees a gap
        # (sent just before the event frame)
        numbered = [f["message"] for f in seen if f["type"] == "message"][-1]
        assert numbered["message_type"] == "system"
        assert numbered["content"]["event"] == "member_added"
        # the newcomer's room list hears of the room at once
        note = frames_until(badge, of_type("notification"))[-1]
        assert note["room_id"] == room
        local_stack.request("DELETE", f"/api/rooms/{room}/members/{newcomer.user_id}", owner.token)
        removed = frames_until(ws, of_type("system", event="member_removed"))[-1]
        assert removed["user_id"] == newcomer.user_id


def test_dev_login_lists_the_demo_people_and_refuses_a_bad_id(local_stack):
    users = local_stack.request("GET", "/api/dev/users").body["users"]
    assert {"user_id": "alice@factory.example", "display_name": "Alice Chen"} in users
    refused = local_stack.request("POST", "/api/dev/login", body={"user_id": "not an email"})
    assert refused.status == 422 and refused.body["error"]["code"] == "VALIDATION"


def test_http_send_is_idempotent_broadcast_and_read_back_by_change_number(local_stack, incident):
    owner, editor, room = incident["owner"], incident["editor"], incident["room_id"]
    before = local_stack.request(
        "GET", f"/api/rooms/{room}/messages?changed_after=0&limit=1", owner.token
    ).body
    with local_stack.connect(editor.token, room) as listener:
        # Given a long message whose frame would pass 32 KB
        body = {"client_msg_id": str(uuid.uuid4()), "content": "log line\n" * 4000}
        # When it is sent over HTTP
        first = local_stack.request("POST", f"/api/rooms/{room}/messages", owner.token, body)
        # Then it is stored (201) with the ack's fields, and the room hears of it
        assert first.status == 201, first.text
        assert set(first.body) >= {
            "client_msg_id",
            "message_id",
            "sequence_number",
            "created_at",
            "change_seq",
            "unresolved_mentions",
        }
        heard = frames_until(
            listener,
            lambda f: (
                f.get("type") == "message"
                and f["message"]["message_id"] == first.body["message_id"]
            ),
        )[-1]
        assert heard["change_seq"] == first.body["change_seq"]
    # And the same send again is the same message (200), stored once
    again = local_stack.request("POST", f"/api/rooms/{room}/messages", owner.token, body)
    assert again.status == 200 and again.body["message_id"] == first.body["message_id"]
    # And a viewer may not send, nor may anyone send nonsense
    viewer = local_stack.request(
        "POST", f"/api/rooms/{room}/messages", incident["viewer"].token, {"content": "hi"}
    )
    assert viewer.status == 403
    bad = local_stack.request(
        "POST", f"/api/rooms/{room}/messages", owner.token, {"message_type": "poem", "content": "x"}
    )
    assert bad.status == 422
    # And changed_after returns what changed, by change number, with the cursor to go on
    changes = local_stack.request(
        "GET", f"/api/rooms/{room}/messages?changed_after=0&limit=200", owner.token
    ).body
    numbers = [m["change_seq"] for m in changes["messages"]]
    assert numbers == sorted(numbers) and changes["has_more"] is False
    assert changes["next_changed_after"] == numbers[-1] == first.body["change_seq"]
    assert before["has_more"] is True and before["next_changed_after"] == 1
