"""The incident record (issue 17) against the running local stack: a line, an incident
walked from declared to closed by two roles with a handover, a backfilled pin, a
follow-up, the room's and the line's metrics, every bad input the issue lists, and a
client that was offline during a move and a pin finding both when it resumes."""

from __future__ import annotations

import json
import socket
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from tests.e2e.conftest import frames_until, of_type

pytestmark = pytest.mark.e2e


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _parse(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _send_text(local_stack, token: str, room_id: str, text: str) -> str:
    sent = local_stack.request(
        "POST",
        f"/api/rooms/{room_id}/messages",
        token,
        {"client_msg_id": str(uuid.uuid4()), "message_type": "text", "content": text},
    )
    assert sent.status == 201, sent.text
    return str(sent.body["message_id"])


def _line(local_stack, token: str) -> dict[str, Any]:
    created = local_stack.request(
        "POST",
        "/api/lines",
        token,
        {"name": f"SMT-{uuid.uuid4().hex[:6]}", "location": "Plant B", "label_zh": "表面貼裝線"},
    )
    assert created.status == 201, created.text
    return created.body


def _move(local_stack, token: str, room_id: str, state: str, note: str | None = None) -> Any:
    body: dict[str, Any] = {"state": state}
    if note:
        body["note"] = note
    return local_stack.request("POST", f"/api/rooms/{room_id}/state", token, body)


def test_lines_have_an_owner_bilingual_labels_and_default_stop_reasons(local_stack, person):
    # Given a supervisor and a colleague
    supervisor, colleague = person("supervisor"), person("colleague")
    # When the supervisor creates a line
    line = _line(local_stack, supervisor.token)
    # Then they own it, it has both labels and a default stop-reason list in both languages
    assert line["owner_id"] == supervisor.user_id
    assert line["label_zh"] == "表面貼裝線" and line["label_en"] == line["name"]
    reasons = {r["code"]: r for r in line["stop_reasons"]}
    assert reasons["mechanical"]["zh-TW"] == "機械故障"
    assert reasons["mechanical"]["en"] == "Mechanical failure"
    # and everyone can list it
    listed = local_stack.request("GET", "/api/lines", colleague.token)
    assert line["line_id"] in [x["line_id"] for x in listed.body["lines"]]
    # When the owner sets its own stop reasons, it has exactly those
    custom = [{"code": "nozzle", "zh-TW": "吸嘴堵塞", "en": "Nozzle clogged"}]
    changed = local_stack.request(
        "PATCH", f"/api/lines/{line['line_id']}", supervisor.token, {"stop_reasons": custom}
    )
    assert changed.status == 200, changed.text
    assert changed.body["stop_reasons"] == custom
    # But a colleague who does not own it cannot change it
    refused = local_stack.request(
        "PATCH", f"/api/lines/{line['line_id']}", colleague.token, {"label_en": "mine"}
    )
    assert refused.status == 403 and refused.body["error"]["code"] == "FORBIDDEN"


def test_an_incident_is_walked_from_declared_to_closed(local_stack, person):
    # Given a line, and an incident on it declared by its owner with an editor beside them
    owner, editor, viewer = person("owner"), person("editor"), person("viewer")
    line = _line(local_stack, owner.token)
    created = local_stack.request(
        "POST",
        "/api/rooms",
        owner.token,
        {
            "title": "Reflow oven 2 over temperature",
            "severity": "high",
            "line_id": line["line_id"],
            "machine": "REFLOW-2",
            "stop_reason": "mechanical",
            "lots": ["LOT-881"],
        },
    )
    assert created.status == 201, created.text
    room = created.body
    room_id = room["room_id"]
    # Then it starts declared, commanded by its creator, on its line, status active
    assert room["state"] == "declared" and room["status"] == "active"
    assert room["commander_id"] == owner.user_id and room["line_id"] == line["line_id"]
    for member, role in ((editor, "EDITOR"), (viewer, "VIEWER")):
        added = local_stack.request(
            "POST",
            f"/api/rooms/{room_id}/members",
            owner.token,
            {"user_id": member.user_id, "role": role},
        )
        assert added.status == 201, added.text
    # And the room list filters by line
    on_line = local_stack.request("GET", f"/api/rooms?line_id={line['line_id']}", owner.token)
    assert [r["room_id"] for r in on_line.body["rooms"]] == [room_id]

    # When the editor acknowledges and the owner hands command to the editor
    acknowledged = _move(local_stack, editor.token, room_id, "acknowledged", "on my way")
    assert acknowledged.status == 200, acknowledged.text
    assert acknowledged.body["state"] == "acknowledged"
    handed = local_stack.request(
        "PUT", f"/api/rooms/{room_id}/commander", owner.token, {"user_id": editor.user_id}
    )
    assert handed.status == 200, handed.text
    assert handed.body["commander_id"] == editor.user_id
    # and a reading, posted late, is pinned with the time it really happened
    reading_id = _send_text(local_stack, editor.token, room_id, "oven zone 5 read 262 °C")
    # (it happened between the declaration and the acknowledgement)
    declared_at = _parse(room["created_at"])
    acknowledged_at = _parse(acknowledged.body["updated_at"])
    happened = declared_at + (acknowledged_at - declared_at) / 2
    pinned = local_stack.request(
        "POST",
        f"/api/rooms/{room_id}/pins",
        editor.token,
        {"message_id": reading_id, "event_time": _iso(happened)},
    )
    assert pinned.status == 201, pinned.text
    assert abs((_parse(pinned.body["event_time"]) - happened).total_seconds()) < 0.001
    assert _parse(pinned.body["recorded_at"]) > acknowledged_at
    # and the severity is raised, the line is contained, then resolved and closed
    raised = local_stack.request(
        "PATCH", f"/api/rooms/{room_id}", owner.token, {"severity": "critical"}
    )
    assert raised.status == 200, raised.text
    assert _move(local_stack, editor.token, room_id, "contained").status == 200
    # (a follow-up is added for the editor, due yesterday: overdue)
    follow = local_stack.request(
        "POST",
        f"/api/rooms/{room_id}/follow-ups",
        owner.token,
        {
            "title": "Replace zone 5 thermocouple",
            "owner_id": editor.user_id,
            "due": (date.today() - timedelta(days=1)).isoformat(),
        },
    )
    assert follow.status == 201, follow.text
    assert follow.body["overdue"] is True and follow.body["status"] == "open"
    resolved = _move(local_stack, owner.token, room_id, "resolved")
    assert resolved.body["state"] == "resolved" and resolved.body["status"] == "resolved"
    closed = _move(local_stack, owner.token, room_id, "closed", "8D filed")
    assert closed.body["state"] == "closed" and closed.body["status"] == "archived"

    # Then the timeline holds every milestone, the severity change, the handover and the
    # pin, in event-time order: the backfilled pin sits before the acknowledgement
    timeline = local_stack.request("GET", f"/api/rooms/{room_id}/timeline", viewer.token)
    assert timeline.status == 200, timeline.text
    entries = timeline.body["entries"]
    kinds = [
        (e["kind"], e.get("state") or e.get("severity") or e.get("commander_id")) for e in entries
    ]
    assert kinds == [
        ("milestone", "declared"),
        ("pin", None),
        ("milestone", "acknowledged"),
        ("handover", editor.user_id),
        ("severity", "critical"),
        ("milestone", "contained"),
        ("milestone", "resolved"),
        ("milestone", "closed"),
    ]
    pin_entry = next(e for e in entries if e["kind"] == "pin")
    assert pin_entry["message"]["content"] == "oven zone 5 read 262 °C"
    assert pin_entry["by"] == editor.user_id
    acknowledgement = next(e for e in entries if e.get("state") == "acknowledged")
    assert acknowledgement["note"] == "on my way" and acknowledgement["by"] == editor.user_id
    times = [_parse(e["event_time"]) for e in entries]
    assert times == sorted(times)
    # and each move is also a numbered system message in the history
    history = local_stack.request("GET", f"/api/rooms/{room_id}/messages", viewer.token)
    events = [
        m["content"]["event"] for m in history.body["messages"] if m["message_type"] == "system"
    ]
    for expected in (
        "incident_state_changed",
        "commander_changed",
        "message_pinned",
        "severity_changed",
        "follow_up_added",
    ):
        assert expected in events
    # and the follow-up is listed, overdue
    listed = local_stack.request("GET", f"/api/rooms/{room_id}/follow-ups", viewer.token)
    assert [f["title"] for f in listed.body["follow_ups"]] == ["Replace zone 5 thermocouple"]
    assert listed.body["follow_ups"][0]["overdue"] is True

    # And the room's metrics are measured from the declaration
    metrics = local_stack.request("GET", f"/api/rooms/{room_id}/metrics", viewer.token)
    assert metrics.status == 200, metrics.text
    m = metrics.body
    assert 0 <= m["time_to_acknowledge_s"] <= m["time_to_contain_s"] <= m["time_to_resolve_s"]
    assert m["downtime_minutes"] == pytest.approx(m["time_to_resolve_s"] / 60, abs=1e-6)
    # and the line's weekly figures count this one incident
    weekly = local_stack.request("GET", f"/api/metrics?line_id={line['line_id']}", owner.token)
    assert weekly.status == 200, weekly.text
    (week,) = weekly.body["weeks"]
    assert week["line_id"] == line["line_id"] and week["incidents"] == 1
    assert week["mtta_s"] == pytest.approx(m["time_to_acknowledge_s"])
    assert week["mttr_s"] == pytest.approx(m["time_to_resolve_s"])
    assert week["downtime_minutes"] == pytest.approx(m["downtime_minutes"])
    # and a window that ends before it counts nothing
    before = local_stack.request(
        "GET",
        f"/api/metrics?line_id={line['line_id']}&to={_iso(datetime.now(UTC) - timedelta(days=1))}",
        owner.token,
    )
    assert before.status == 200 and before.body["weeks"] == []

    # And the 8D report downloads in both languages, and as a PDF
    for lang, heading in (("en", "## D1 Team"), ("zh-TW", "## D1 團隊")):
        eight_d = local_stack.request(
            "GET", f"/api/rooms/{room_id}/report?format=8d&lang={lang}", viewer.token
        )
        assert eight_d.status == 200 and heading in eight_d.text
        assert "Replace zone 5 thermocouple" in eight_d.text
    pdf = urllib.request.Request(
        f"{local_stack.base_url}/api/rooms/{room_id}/report.pdf?lang=zh-TW"
    )
    pdf.add_header("Authorization", f"Bearer {viewer.token}")
    with urllib.request.urlopen(pdf, timeout=60) as answer:
        assert answer.headers["Content-Type"] == "application/pdf"
        assert answer.read(5) == b"%PDF-"

    # And a closed incident can be reopened, to acknowledged
    reopened = _move(local_stack, owner.token, room_id, "acknowledged", "came back")
    assert reopened.status == 200 and reopened.body["status"] == "active"


def test_bad_input_is_refused_and_changes_nothing(local_stack, incident, person):
    owner, editor, viewer = incident["owner"], incident["editor"], incident["viewer"]
    room_id = incident["room_id"]
    # Given a declared incident
    # When it is moved straight to resolved
    illegal = _move(local_stack, owner.token, room_id, "resolved")
    # Then 409 CONFLICT names the allowed states
    assert illegal.status == 409, illegal.text
    assert illegal.body["error"]["code"] == "CONFLICT"
    assert illegal.body["error"]["allowed"] == ["acknowledged"]
    # When a viewer tries to move it, or pin, or add a follow-up: 403
    assert _move(local_stack, viewer.token, room_id, "acknowledged").status == 403
    text_id = _send_text(local_stack, owner.token, room_id, "conveyor jammed")
    assert (
        local_stack.request(
            "POST", f"/api/rooms/{room_id}/pins", viewer.token, {"message_id": text_id}
        ).status
        == 403
    )
    assert (
        local_stack.request(
            "POST",
            f"/api/rooms/{room_id}/follow-ups",
            viewer.token,
            {"title": "x", "owner_id": viewer.user_id, "due": "2030-01-01"},
        ).status
        == 403
    )
    # When a state that does not exist is asked for: 422
    assert _move(local_stack, owner.token, room_id, "panicking").status == 422
    # When command is handed to the editor, who is then removed or made a viewer: 409
    handed = local_stack.request(
        "PUT", f"/api/rooms/{room_id}/commander", owner.token, {"user_id": editor.user_id}
    )
    assert handed.status == 200, handed.text
    removed = local_stack.request(
        "DELETE", f"/api/rooms/{room_id}/members/{editor.user_id}", owner.token
    )
    assert removed.status == 409 and "hand over" in removed.body["error"]["message"]
    demoted = local_stack.request(
        "PATCH",
        f"/api/rooms/{room_id}/members/{editor.user_id}",
        owner.token,
        {"role": "VIEWER"},
    )
    assert demoted.status == 409 and "hand over" in demoted.body["error"]["message"]
    # When command is handed to a viewer (422) or to someone outside the room (404)
    handed_to_viewer = local_stack.request(
        "PUT", f"/api/rooms/{room_id}/commander", owner.token, {"user_id": viewer.user_id}
    )
    assert handed_to_viewer.status == 422
    stranger = person("stranger")
    handed_to_stranger = local_stack.request(
        "PUT", f"/api/rooms/{room_id}/commander", owner.token, {"user_id": stranger.user_id}
    )
    assert handed_to_stranger.status == 404
    # When a pin has a time in the future: 422
    future = local_stack.request(
        "POST",
        f"/api/rooms/{room_id}/pins",
        owner.token,
        {"message_id": text_id, "event_time": _iso(datetime.now(UTC) + timedelta(hours=1))},
    )
    assert future.status == 422 and future.body["error"]["code"] == "VALIDATION"
    # When a message of another room is pinned: 404
    other = local_stack.request("POST", "/api/rooms", owner.token, {"title": "Other line"})
    foreign_id = _send_text(local_stack, owner.token, other.body["room_id"], "elsewhere")
    foreign = local_stack.request(
        "POST", f"/api/rooms/{room_id}/pins", owner.token, {"message_id": foreign_id}
    )
    assert foreign.status == 404 and foreign.body["error"]["code"] == "NOT_FOUND"
    # When a follow-up is given to someone outside the room, or unpinning what is not pinned
    assert (
        local_stack.request(
            "POST",
            f"/api/rooms/{room_id}/follow-ups",
            owner.token,
            {"title": "x", "owner_id": stranger.user_id, "due": "2030-01-01"},
        ).status
        == 422
    )
    assert (
        local_stack.request("DELETE", f"/api/rooms/{room_id}/pins/{text_id}", owner.token).status
        == 404
    )
    # When someone outside the room reads its timeline or metrics: 403
    assert (
        local_stack.request("GET", f"/api/rooms/{room_id}/timeline", stranger.token).status == 403
    )
    assert local_stack.request("GET", f"/api/rooms/{room_id}/metrics", stranger.token).status == 403
    # Then nothing else changed: still declared, the editor a member commanding it, the
    # timeline only the declaration and the handover
    room = local_stack.request("GET", f"/api/rooms/{room_id}", owner.token).body
    assert room["state"] == "declared" and room["commander_id"] == editor.user_id
    entries = local_stack.request("GET", f"/api/rooms/{room_id}/timeline", editor.token).body
    assert [e["kind"] for e in entries["entries"]] == ["milestone", "handover"]
    assert (
        local_stack.request("GET", f"/api/rooms/{room_id}/follow-ups", editor.token).body[
            "follow_ups"
        ]
        == []
    )


def test_a_client_offline_during_a_move_and_a_pin_sees_both_after_resuming(local_stack, incident):
    owner, editor, room_id = incident["owner"], incident["editor"], incident["room_id"]
    # Given an editor's client holding the room up to some change number
    text_id = _send_text(local_stack, owner.token, room_id, "hydraulic pressure dropped")
    reader = local_stack.connect(editor.token, room_id)
    reader.send(json.dumps({"type": "sync", "after_change": 0}))
    held = frames_until(reader, of_type("sync"))[-1]["change_seq"]
    # When its network drops while the owner acknowledges and pins a message
    reader.socket.shutdown(socket.SHUT_RDWR)
    reader.socket.close()
    assert _move(local_stack, owner.token, room_id, "acknowledged").status == 200
    assert (
        local_stack.request(
            "POST", f"/api/rooms/{room_id}/pins", owner.token, {"message_id": text_id}
        ).status
        == 201
    )
    # and it reconnects and resumes from the change number it held
    with local_stack.connect(editor.token, room_id) as again:
        again.send(json.dumps({"type": "sync", "after_change": held}))
        reply = frames_until(again, of_type("sync"))[-1]
    # Then it finds the move and the pin, in that order
    found = [m["content"] for m in reply["messages"] if m["message_type"] == "system"]
    assert [c["event"] for c in found] == ["incident_state_changed", "message_pinned"]
    assert found[0]["state"] == "acknowledged" and found[0]["from_state"] == "declared"
    assert found[1]["message_id"] == text_id


def test_a_live_client_hears_a_move_as_it_happens(local_stack, incident):
    owner, editor, room_id = incident["owner"], incident["editor"], incident["room_id"]
    # Given the editor's client in the room
    with local_stack.connect(editor.token, room_id) as ws:
        # When the owner acknowledges over HTTP
        assert _move(local_stack, owner.token, room_id, "acknowledged").status == 200
        # Then a system message frame carries the move
        frame = frames_until(
            ws,
            lambda f: (
                f.get("type") == "message"
                and f["message"]["message_type"] == "system"
                and f["message"]["content"].get("event") == "incident_state_changed"
            ),
        )[-1]
    assert frame["message"]["content"]["state"] == "acknowledged"


def test_production_impact_sets_the_downtime_the_metrics_count(local_stack, incident):
    owner, viewer, room_id = incident["owner"], incident["viewer"], incident["room_id"]
    # Given an incident
    start = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    # When an editor records the machine, stop reason, lots and a 95-minute stop
    changed = local_stack.request(
        "PATCH",
        f"/api/rooms/{room_id}/impact",
        incident["editor"].token,
        {
            "machine": "PRESS-4",
            "stop_reason": "mechanical",
            "lots": ["LOT-77", "LOT-78"],
            "downtime_start": _iso(start),
            "downtime_end": _iso(start + timedelta(minutes=95)),
        },
    )
    # Then the room carries them and the metrics count 95 minutes
    assert changed.status == 200, changed.text
    assert changed.body["machine"] == "PRESS-4" and changed.body["lots"] == ["LOT-77", "LOT-78"]
    metrics = local_stack.request("GET", f"/api/rooms/{room_id}/metrics", viewer.token).body
    assert metrics["downtime_minutes"] == pytest.approx(95)
    # But an end before the start, a viewer, or a line that does not exist change nothing
    backwards = local_stack.request(
        "PATCH",
        f"/api/rooms/{room_id}/impact",
        owner.token,
        {"downtime_end": _iso(start - timedelta(minutes=1))},
    )
    assert backwards.status == 422
    assert (
        local_stack.request(
            "PATCH", f"/api/rooms/{room_id}/impact", viewer.token, {"machine": "X"}
        ).status
        == 403
    )
    no_line = local_stack.request(
        "PATCH", f"/api/rooms/{room_id}/impact", owner.token, {"line_id": str(uuid.uuid4())}
    )
    assert no_line.status == 422
    room = local_stack.request("GET", f"/api/rooms/{room_id}", owner.token).body
    assert room["machine"] == "PRESS-4" and room["line_id"] is None
    assert _parse(room["downtime_end"]) == start + timedelta(minutes=95)


def test_todays_status_patch_still_works_and_moves_the_state(local_stack, incident):
    owner, room_id = incident["owner"], incident["room_id"]
    # Given a declared incident, when today's client resolves it by status
    resolved = local_stack.request(
        "PATCH", f"/api/rooms/{room_id}", owner.token, {"status": "resolved"}
    )
    # Then the state follows, and the move is a milestone on the timeline
    assert resolved.status == 200, resolved.text
    assert resolved.body["status"] == "resolved" and resolved.body["state"] == "resolved"
    entries = local_stack.request("GET", f"/api/rooms/{room_id}/timeline", owner.token).body
    assert [e.get("state") for e in entries["entries"]] == ["declared", "resolved"]
    # When it is reactivated by status, it is acknowledged again (reopened)
    active = local_stack.request(
        "PATCH", f"/api/rooms/{room_id}", owner.token, {"status": "active"}
    )
    assert active.body["state"] == "acknowledged"
    # And a state move is read back as the matching status by today's clients
    local_stack.request("POST", f"/api/rooms/{room_id}/state", owner.token, {"state": "contained"})
    listed = local_stack.request("GET", "/api/rooms?status=active", owner.token).body["rooms"]
    assert room_id in [r["room_id"] for r in listed]


def test_a_live_client_hears_a_pin_and_the_timeline_cuts_a_long_pinned_text(local_stack, incident):
    owner, editor, room_id = incident["owner"], incident["editor"], incident["room_id"]
    # Given a long message (10,000 characters) and the editor's client in the room
    long_id = _send_text(local_stack, owner.token, room_id, "漏油" * 5000)
    with local_stack.connect(editor.token, room_id) as ws:
        # When the owner pins it
        pinned = local_stack.request(
            "POST", f"/api/rooms/{room_id}/pins", owner.token, {"message_id": long_id}
        )
        assert pinned.status == 201, pinned.text
        # Then the editor hears the pin as it happens
        frame = frames_until(
            ws,
            lambda f: (
                f.get("type") == "message"
                and f["message"]["message_type"] == "system"
                and f["message"]["content"].get("event") == "message_pinned"
            ),
        )[-1]
    assert frame["message"]["content"]["message_id"] == long_id
    # and the timeline shows the first 2,000 characters of it (the history has all)
    entries = local_stack.request("GET", f"/api/rooms/{room_id}/timeline", editor.token).body
    (pin,) = [e for e in entries["entries"] if e["kind"] == "pin"]
    assert pin["message"]["content"] == ("漏油" * 5000)[:2000]


def test_two_people_acknowledging_at_once_make_one_move(local_stack, incident):
    owner, editor, room_id = incident["owner"], incident["editor"], incident["room_id"]
    # Given a declared incident, when the owner and the editor both acknowledge at once
    with ThreadPoolExecutor(max_workers=2) as pool:
        answers = list(
            pool.map(
                lambda person: _move(local_stack, person.token, room_id, "acknowledged"),
                [owner, editor],
            )
        )
    # Then one move is made and the other is told it is no longer allowed
    assert sorted(a.status for a in answers) == [200, 409]
    refused = next(a for a in answers if a.status == 409)
    assert refused.body["error"]["allowed"] == ["contained"]
    # and the timeline holds one acknowledgement
    entries = local_stack.request("GET", f"/api/rooms/{room_id}/timeline", owner.token).body
    assert [e.get("state") for e in entries["entries"]] == ["declared", "acknowledged"]
