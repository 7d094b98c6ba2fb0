"""Readings over the wire (issue 16, item 1): a value is a JSON number, never a string
the server would have to guess at (`"2,1"` is a decimal comma or a typo)."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from tests.e2e.conftest import frames_until, of_type

pytestmark = pytest.mark.e2e


def _last_seq(local_stack, incident) -> int:
    room = local_stack.request("GET", f"/api/rooms/{incident['room_id']}", incident["owner"].token)
    return int(room.body["last_seq"])


@pytest.mark.parametrize(
    "content",
    [
        {"machine_id": "CNC-12", "readings": {"coolant_flow": "2,1"}},
        {"machine_id": "CNC-12", "readings": {"temperature": "87"}},
        {"readings": {"production_rate": "1,200"}},
        {"temperature": "85", "timestamp": "2026-12-06T01:00:00Z"},
    ],
)
def test_a_reading_sent_as_a_string_is_refused_and_stores_nothing(
    local_stack, incident, content: dict[str, Any]
):
    # Given an editor in a room, and the room's last sequence number
    before = _last_seq(local_stack, incident)
    with local_stack.connect(incident["editor"].token, incident["room_id"]) as ws:
        # When they send a reading whose value is a string of digits
        client_msg_id = str(uuid.uuid4())
        ws.send(
            json.dumps(
                {
                    "type": "message",
                    "client_msg_id": client_msg_id,
                    "message_type": "incident_data",
                    "content": content,
                }
            )
        )
        error = frames_until(ws, of_type("error"))[-1]
    # Then it is VALIDATION saying the reading must be a number, for that send
    assert error["code"] == "VALIDATION", error
    assert "must be a finite number" in error["message"], error
    assert error["client_msg_id"] == client_msg_id
    # and nothing was stored
    assert _last_seq(local_stack, incident) == before


def test_a_reading_sent_as_a_number_is_stored_as_sent(local_stack, incident):
    # Given an editor in a room
    with local_stack.connect(incident["editor"].token, incident["room_id"]) as ws:
        # When they send 1200 and 2.1 as JSON numbers
        client_msg_id = str(uuid.uuid4())
        content = {"readings": {"production_rate": 1200, "coolant_flow": 2.1}}
        ws.send(
            json.dumps(
                {
                    "type": "message",
                    "client_msg_id": client_msg_id,
                    "message_type": "incident_data",
                    "content": content,
                }
            )
        )
        ack = frames_until(ws, of_type("ack", client_msg_id=client_msg_id))[-1]
    # Then the stored message carries exactly those numbers
    page = local_stack.request(
        "GET", f"/api/rooms/{incident['room_id']}/messages", incident["owner"].token
    )
    stored = next(m for m in page.body["messages"] if m["message_id"] == ack["message_id"])
    assert stored["content"] == content


def test_a_mentioned_viewer_may_react_but_not_write(local_stack, incident):
    # Given a message from the editor that mentions the viewer
    with local_stack.connect(incident["editor"].token, incident["room_id"]) as editor_ws:
        client_msg_id = str(uuid.uuid4())
        editor_ws.send(
            json.dumps(
                {
                    "type": "message",
                    "client_msg_id": client_msg_id,
                    "content": "@viewer please confirm LOT-77 is quarantined",
                    "mentions": [incident["viewer"].user_id],
                }
            )
        )
        ack = frames_until(editor_ws, of_type("ack", client_msg_id=client_msg_id))[-1]
        with local_stack.connect(incident["viewer"].token, incident["room_id"]) as ws:
            # When the viewer reacts to it
            ws.send(
                json.dumps({"type": "add_reaction", "message_id": ack["message_id"], "emoji": "👍"})
            )
            # Then the reaction is taken and the editor sees it
            frames_until(ws, of_type("reaction_updated"))
            seen = frames_until(editor_ws, of_type("reaction_updated"))[-1]
            assert incident["viewer"].user_id in seen["reactions"][0]["user_ids"], seen
            # and a message from the viewer is still FORBIDDEN
            ws.send(
                json.dumps({"type": "message", "client_msg_id": str(uuid.uuid4()), "content": "ok"})
            )
            error = frames_until(ws, of_type("error"))[-1]
            assert error["code"] == "FORBIDDEN", error


def test_the_zh_tw_report_has_chinese_headings_and_every_reading_with_its_note(
    local_stack, incident
):
    owner, room = incident["owner"], incident["room_id"]
    # Given a reading with machine, line, units and a note, in a room with a viewer
    with local_stack.connect(owner.token, room) as ws:
        client_msg_id = str(uuid.uuid4())
        ws.send(
            json.dumps(
                {
                    "type": "message",
                    "client_msg_id": client_msg_id,
                    "message_type": "incident_data",
                    "content": {
                        "machine_id": "CNC-12",
                        "line": "L3",
                        "readings": {"temperature": 87, "coolant_flow": 2.1},
                        "units": {"temperature": "°C", "coolant_flow": "L/min"},
                        "note": "主軸溫度持續上升",
                    },
                }
            )
        )
        frames_until(ws, of_type("ack", client_msg_id=client_msg_id))
    # When the viewer asks for the report in zh-TW
    zh = local_stack.request(
        "GET", f"/api/rooms/{room}/report?lang=zh-TW", incident["viewer"].token
    )
    # Then headings, labels, roles and system lines are Chinese
    assert zh.status == 200, zh.text
    text = zh.text
    assert text.startswith("# 事故報告：Press 4 hydraulic leak")
    for needle in (
        "| 狀態 | 處理中 |",
        "## 參與者",
        "## 時間軸（GMT+8）",
        "## 機台讀數",
        "— 擁有者",
    ):
        assert needle in text, needle
    assert "加入為檢視者" in text and "as VIEWER" not in text and "Status" not in text
    # and the reading carries its machine, line, units and note, in the table and timeline
    assert "| 時間（GMT+8） | 機台 | 產線 | 溫度 | coolant flow | 備註 | 記錄者 |" in text
    assert "| CNC-12 | L3 | 87 °C | 2.1 L/min | 主軸溫度持續上升 |" in text
    assert "📈 CNC-12 · L3 讀數: 溫度 87 °C, coolant flow 2.1 L/min — 主軸溫度持續上升" in text
    # When asked in English by the browser's language, Then it is English
    en = local_stack.request(
        "GET",
        f"/api/rooms/{room}/report",
        incident["viewer"].token,
        headers={"Accept-Language": "en-US"},
    )
    assert en.text.startswith("# Incident report:") and "| Note | By |" in en.text
    # and a browser that prefers Chinese gets Chinese without ?lang=
    browser_zh = local_stack.request(
        "GET",
        f"/api/rooms/{room}/report",
        incident["viewer"].token,
        headers={"Accept-Language": "zh-TW,zh;q=0.9,en;q=0.8"},
    )
    assert browser_zh.text.startswith("# 事故報告：")
