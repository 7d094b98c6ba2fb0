"""Issue 8 in the browser: resume by change number after being offline, the offline
banner within seconds, frames never over 32 KB (a long paste goes over HTTP), and
mentions of people outside the room.

The first, second and fourth need the server's change log, HTTP send and accepted
non-member mentions (issue 8's server side, branch `core`)."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from playwright.sync_api import WebSocketRoute, expect

from warroom.bounds import MAX_CLIENT_FRAME_BYTES

pytestmark = pytest.mark.browser


def test_back_online_a_reader_sees_the_edit_the_deletion_and_the_reaction_missed(
    open_session, people, make_room, send_as, act_as
):
    # Given Bob reading three of Alice's messages
    alice, bob = people("Alice"), people("Bob")
    room = make_room(alice, bob)
    acks = [
        send_as(alice, room, text)
        for text in ("reading: 19 °C", "restart the line now", "pump swapped")
    ]
    b = open_session(bob)
    b.open_room(room)
    expect(b.message("pump swapped")).to_be_visible()

    # When his network drops
    b.context.set_offline(True)

    # Then within 2 s the page says it is offline, and who is online is marked stale
    banner = b.page.locator(".conn-banner")
    expect(banner).to_contain_text("you are offline", timeout=2000)
    expect(banner).to_have_attribute("data-live", "false", timeout=2000)
    expect(b.page.locator(".online-list")).to_have_attribute("data-stale", "true")

    # While Alice corrects the reading, retracts the order and reacts to the third
    act_as(
        alice,
        room,
        {"type": "edit_message", "message_id": acks[0]["message_id"], "content": "reading: 91 °C"},
        {"type": "delete_message", "message_id": acks[1]["message_id"]},
        {"type": "add_reaction", "message_id": acks[2]["message_id"], "emoji": "👍"},
    )

    # When the network is back
    b.context.set_offline(False)
    b.wait_live()

    # Then Bob sees all three without reloading
    expect(b.message("reading: 91 °C")).to_contain_text("(edited)")
    expect(b.message("reading: 19 °C")).to_have_count(0)
    expect(b.message("restart the line now")).to_have_count(0)
    expect(b.page.locator("article.msg .msg-deleted")).to_have_count(1)
    expect(b.message("pump swapped").get_by_role("button", name="👍 1")).to_be_visible()
    expect(b.page.locator(".online-list")).to_have_attribute("data-stale", "false")


def test_a_60_kb_paste_is_delivered_over_http_and_what_follows_goes_through(
    open_session, people, make_room, local_stack
):
    # Given Alice and Bob in a room, with every frame Alice's page writes recorded
    alice, bob = people("Alice"), people("Bob")
    room = make_room(alice, bob)
    a, b = open_session(alice), open_session(bob)
    frames: list[int] = []
    a.page.on(
        "websocket",
        lambda ws: ws.on(
            "framesent",
            lambda payload: frames.append(
                len(payload.encode("utf-8") if isinstance(payload, str) else payload)
            ),
        ),
    )
    a.open_room(room)
    b.open_room(room)
    box = a.page.get_by_role("textbox", name="Message")

    # When she pastes about 60 KB of log text and sends it, then a short message
    paste = "paste-start " + "spindle log line 溫度 85 °C\n" * 2_000 + " paste-end"
    assert 60_000 < len(paste.encode("utf-8")) < 64 * 1024  # over a frame, under the limit
    box.fill(paste)
    box.press("Enter")
    box.fill("after the paste")
    box.press("Enter")

    # Then Bob sees both, in order, the long one in full
    expect(b.message("after the paste")).to_be_visible()
    long_one = b.message("paste-start")
    expect(long_one).to_contain_text("paste-end")
    assert len(long_one.locator(".msg-text").inner_text()) >= len(paste) - 10
    seqs = [
        int(b.message(t).get_attribute("data-seq") or 0) for t in ("paste-start", "after the paste")
    ]
    assert seqs[0] < seqs[1]
    # And Alice's connection never carried a frame over 32 KB, and stayed up
    assert frames and max(frames) <= MAX_CLIENT_FRAME_BYTES, max(frames)
    expect(a.message("after the paste")).to_have_attribute("data-status", "sent")
    expect(a.message("paste-start")).to_have_attribute("data-status", "sent")
    a.wait_live()

    # When she pastes more than the 64 KB a message may hold
    box.fill("x" * 70_000)
    box.press("Enter")

    # Then the message box refuses it with the reason, keeping her text
    expect(a.page.locator(".composer").get_by_role("alert")).to_contain_text("the limit is 64 KB")
    expect(box).not_to_have_value("")
    # And what she writes next still goes through
    box.fill("still here")
    box.press("Enter")
    expect(b.message("still here")).to_be_visible()
    history = local_stack.request(
        "GET", f"/api/rooms/{room.room_id}/messages?limit=10", alice.token
    ).body["messages"]
    texts = [m["content"] for m in history if m["message_type"] == "text"]
    assert texts.count("after the paste") == 1 and not any(t == "x" * 70_000 for t in texts)


def test_a_message_refused_for_good_is_marked_and_does_not_hold_up_the_next(
    open_session, people, make_room
):
    # Given Alice's page talks to the server through a route where the server
    # refuses one message for good (as it would a message to an archived room)
    alice, bob = people("Alice"), people("Bob")
    room = make_room(alice, bob)
    a, b = open_session(alice), open_session(bob)
    attempts: list[dict[str, Any]] = []

    def route(ws: WebSocketRoute) -> None:
        server = ws.connect_to_server()

        def from_page(message: str | bytes) -> None:
            frame = json.loads(message)
            if frame.get("type") == "message" and frame.get("content") == "refused one":
                attempts.append(frame)
                ws.send(
                    json.dumps(
                        {
                            "type": "error",
                            "code": "CONFLICT",
                            "message": "the room is archived",
                            "client_msg_id": frame["client_msg_id"],
                        }
                    )
                )
                return
            server.send(message)

        ws.on_message(from_page)

    a.page.route_web_socket(re.compile(r"/ws\b"), route)
    a.open_room(room)
    b.open_room(room)
    box = a.page.get_by_role("textbox", name="Message")

    # When she sends it, and another message right after
    box.fill("refused one")
    box.press("Enter")
    box.fill("the next one")
    box.press("Enter")

    # Then it is marked not sent, with the reason and a choice
    refused = a.message("refused one")
    expect(refused).to_have_attribute("data-status", "failed")
    expect(refused.get_by_role("alert")).to_contain_text("Not sent: the room is archived")
    expect(refused.get_by_role("button", name="Retry")).to_be_visible()
    # And the next one was not held up behind it
    expect(b.message("the next one")).to_be_visible()
    expect(a.message("the next one")).to_have_attribute("data-status", "sent")

    # And it is not sent again by itself, even after a reconnect
    a.page.evaluate("window.__warroom.room.dropSocket()")
    a.wait_live()
    expect(refused).to_have_attribute("data-status", "failed")
    assert len(attempts) == 1, attempts

    # When she chooses Retry it goes once more (same client_msg_id); Discard removes it
    refused.get_by_role("button", name="Retry").click()
    expect(refused).to_have_attribute("data-status", "failed")
    assert len(attempts) == 2 and attempts[0]["client_msg_id"] == attempts[1]["client_msg_id"]
    refused.get_by_role("button", name="Discard").click()
    expect(a.message("refused one")).to_have_count(0)
    expect(b.message("refused one")).to_have_count(0)


def test_a_mention_of_someone_outside_the_room_is_sent_and_the_owner_can_add_them(
    open_session, people, make_room, local_stack
):
    # Given Alice, owner of a room Carol is not in
    alice, bob, carol = people("Alice"), people("Bob"), people("Carol")
    room = make_room(alice, bob)
    a = open_session(alice)
    a.open_room(room)

    # When she mentions Carol by her address
    box = a.page.get_by_role("textbox", name="Message")
    box.fill(f"@{carol.user_id} can you check the oven logs?")
    box.press("Enter")

    # Then the message is sent, and she is told Carol was not notified
    expect(a.message("check the oven logs")).to_have_attribute("data-status", "sent")
    notice = a.page.locator(".notice.unresolved")
    expect(notice).to_contain_text(f"{carol.user_id} is not in this room, so was not notified")

    # When she adds Carol from the notice, Carol is a member
    notice.get_by_role("button", name="Add to room").click()
    expect(notice).to_contain_text("Added")
    members = local_stack.request("GET", f"/api/rooms/{room.room_id}/members", alice.token)
    assert carol.user_id in [m["user_id"] for m in members.body["members"]]


def test_a_rate_limited_send_waits_and_goes_again_losing_nothing(open_session, people, make_room):
    # Given a server that answers Alice's first attempt at one message RATE_LIMITED
    alice, bob = people("Alice"), people("Bob")
    room = make_room(alice, bob)
    a, b = open_session(alice), open_session(bob)
    attempts: list[dict[str, Any]] = []

    def route(ws: WebSocketRoute) -> None:
        server = ws.connect_to_server()

        def from_page(message: str | bytes) -> None:
            frame = json.loads(message)
            if frame.get("type") == "message" and frame.get("content") == "limited one":
                attempts.append(frame)
                if len(attempts) == 1:
                    ws.send(
                        json.dumps(
                            {
                                "type": "error",
                                "code": "RATE_LIMITED",
                                "message": "too many messages at once",
                                "client_msg_id": frame["client_msg_id"],
                                "retry_after": 0.5,
                            }
                        )
                    )
                    return
            server.send(message)

        ws.on_message(from_page)

    a.page.route_web_socket(re.compile(r"/ws\b"), route)
    a.open_room(room)
    b.open_room(room)
    box = a.page.get_by_role("textbox", name="Message")

    # When she sends it and another right behind it
    box.fill("limited one")
    box.press("Enter")
    box.fill("behind it")
    box.press("Enter")

    # Then both arrive, once each and in the order written
    expect(b.message("behind it")).to_be_visible()
    expect(b.message("limited one")).to_have_count(1)
    first, second = (
        int(b.message(t).get_attribute("data-seq") or 0) for t in ("limited one", "behind it")
    )
    assert first < second
    expect(a.message("limited one")).to_have_attribute("data-status", "sent")
    # And the second attempt was the same message (same client_msg_id)
    assert len(attempts) == 2 and attempts[0]["client_msg_id"] == attempts[1]["client_msg_id"]
