"""Per-user rate limits (issue 10, item 2): a token bucket for sends and one for other
writes, shared by all of a user's connections and the HTTP send, kept in PostgreSQL.

The stack here keeps the default bursts (30) but refills slowly, so what a test counts
does not depend on how fast this machine serves a burst: results, not timings."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.conftest import LocalStack, Person, _start_stack, _stop, frames_until

pytestmark = pytest.mark.e2e

BURST = 30


@pytest.fixture(scope="module")
def limited_stack(database_url, tmp_path_factory) -> Iterator[LocalStack]:
    with pytest.MonkeyPatch.context() as env:
        env.setenv("RATE_LIMIT_SEND_BURST", str(BURST))
        env.setenv("RATE_LIMIT_SEND_PER_SECOND", "0.001")
        env.setenv("RATE_LIMIT_WRITE_BURST", str(BURST))
        env.setenv("RATE_LIMIT_WRITE_PER_SECOND", "0.001")
        stack = _start_stack(tmp_path_factory.mktemp("limited"), database_url, "--no-demo")
    yield stack
    _stop(stack)


def _person(stack: LocalStack, name: str) -> Person:
    user_id = f"{name}-{uuid.uuid4().hex[:8]}@factory.example"
    return Person(user_id, stack.login(user_id, name.title()), name.title())


@pytest.fixture
def room(limited_stack) -> dict[str, Any]:
    owner, editor, other = (_person(limited_stack, n) for n in ("owner", "editor", "other"))
    created = limited_stack.request("POST", "/api/rooms", owner.token, {"title": "Line 2 jam"})
    assert created.status == 201, created.text
    room_id = created.body["room_id"]
    for member in (editor, other):
        added = limited_stack.request(
            "POST", f"/api/rooms/{room_id}/members", owner.token, {"user_id": member.user_id}
        )
        assert added.status == 201, added.text
    return {"room_id": room_id, "owner": owner, "editor": editor, "other": other}


def _frame(text: str, client_msg_id: str | None = None) -> dict[str, Any]:
    return {
        "type": "message",
        "client_msg_id": client_msg_id or str(uuid.uuid4()),
        "content": text,
    }


def _answers(ws, frames: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Send all frames at once, then collect the ack or error of each, by client_msg_id."""
    for frame in frames:
        ws.send(json.dumps(frame))
    wanted = {f["client_msg_id"] for f in frames}
    got: dict[str, dict[str, Any]] = {}

    def done(f: dict[str, Any]) -> bool:
        if f.get("type") in ("ack", "error") and f.get("client_msg_id") in wanted:
            got[f["client_msg_id"]] = f
        return len(got) == len(wanted)

    frames_until(ws, done, timeout=60)
    return got


def _last_seq(stack: LocalStack, room: dict[str, Any]) -> int:
    return stack.request("GET", f"/api/rooms/{room['room_id']}", room["owner"].token).body[
        "last_seq"
    ]


def test_a_burst_of_40_sends_gets_30_acks_and_10_rate_limited(limited_stack, room):
    start = _last_seq(limited_stack, room)
    with (
        limited_stack.connect(room["editor"].token, room["room_id"]) as flood,
        limited_stack.connect(room["other"].token, room["room_id"]) as calm,
    ):
        # When one member sends 40 frames at once
        answers = _answers(flood, [_frame(f"spam {i}") for i in range(40)])
        # and another member then sends as usual
        others = _answers(calm, [_frame(f"real update {i}") for i in range(3)])
    # Then the first gets 30 acks and 10 RATE_LIMITED, each with a retry-after
    acks = [a for a in answers.values() if a["type"] == "ack"]
    limited = [a for a in answers.values() if a.get("code") == "RATE_LIMITED"]
    assert (len(acks), len(limited)) == (BURST, 40 - BURST), answers
    assert all(isinstance(a["retry_after"], int | float) and a["retry_after"] > 0 for a in limited)
    # the other member is not affected
    assert all(a["type"] == "ack" for a in others.values()), others
    # and exactly the acknowledged messages were stored
    assert _last_seq(limited_stack, room) == start + BURST + 3


def test_the_bucket_is_shared_by_all_connections_and_the_http_send(limited_stack, room):
    editor, room_id = room["editor"], room["room_id"]
    results: list[dict[str, dict[str, Any]]] = []
    with (
        limited_stack.connect(editor.token, room_id) as first,
        limited_stack.connect(editor.token, room_id) as second,
    ):
        # When the editor sends 20 frames on each of two sockets at once
        threads = [
            threading.Thread(
                target=lambda ws=ws: results.append(
                    _answers(ws, [_frame(f"from {id(ws)} #{i}") for i in range(20)])
                )
            )
            for ws in (first, second)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    # Then 30 of the 40 are acknowledged in all
    merged = {k: v for r in results for k, v in r.items()}
    assert sum(1 for a in merged.values() if a["type"] == "ack") == BURST
    # and the HTTP send finds the same bucket empty: 429 with Retry-After
    over_http = limited_stack.request(
        "POST", f"/api/rooms/{room_id}/messages", editor.token, _frame("over http")
    )
    assert over_http.status == 429, over_http.text
    assert over_http.body["error"]["code"] == "RATE_LIMITED"
    assert over_http.body["error"]["retry_after"] > 0
    assert int(over_http.headers["Retry-After"]) >= 1


def test_a_resend_of_a_stored_message_is_never_limited(limited_stack, room):
    with limited_stack.connect(room["editor"].token, room["room_id"]) as ws:
        # Given an acknowledged message, then a bucket emptied by a burst
        first = _frame("the first one")
        assert _answers(ws, [first])[first["client_msg_id"]]["type"] == "ack"
        _answers(ws, [_frame(f"burst {i}") for i in range(BURST)])
        # When the first is resent with its client_msg_id
        again = _answers(ws, [first])[first["client_msg_id"]]
        # Then it gets its original ack, not RATE_LIMITED
        assert again["type"] == "ack", again
        # while a new send is limited
        new = _frame("a new one")
        assert _answers(ws, [new])[new["client_msg_id"]]["code"] == "RATE_LIMITED"


def test_other_writes_have_their_own_bucket(limited_stack, room):
    with limited_stack.connect(room["editor"].token, room["room_id"]) as ws:
        # Given a message, and the send bucket emptied
        target = _frame("react to me")
        message_id = _answers(ws, [target])[target["client_msg_id"]]["message_id"]
        _answers(ws, [_frame(f"burst {i}") for i in range(BURST)])
        # When the editor sends 40 reaction changes at once
        emoji = ["👍", "👎"]
        for i in range(40):
            kind = "add_reaction" if i % 2 == 0 else "remove_reaction"
            ws.send(
                json.dumps({"type": kind, "message_id": message_id, "emoji": emoji[i % 4 // 2]})
            )
        outcomes: list[dict[str, Any]] = []

        def counted(f: dict[str, Any]) -> bool:
            if f.get("type") == "reaction_updated" or f.get("code") == "RATE_LIMITED":
                outcomes.append(f)
            return len(outcomes) == 40

        frames_until(ws, counted, timeout=60)
    # Then writes are not blocked by the empty send bucket, and are limited by their own
    applied = [f for f in outcomes if f["type"] == "reaction_updated"]
    limited = [f for f in outcomes if f.get("code") == "RATE_LIMITED"]
    assert (len(applied), len(limited)) == (BURST, 40 - BURST)
    assert all(f["retry_after"] > 0 for f in limited)
