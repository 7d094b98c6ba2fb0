"""Two people in two browser contexts talking in one room, through the real stack."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from playwright.sync_api import WebSocketRoute, expect

pytestmark = pytest.mark.browser

TAIPEI = timezone(timedelta(hours=8))
XSS = "<img src=x onerror=alert(1)>"


def test_two_people_exchange_messages_live(open_session, people, make_room, local_stack):
    # Given Alice and Bob in a room, Alice signing in through the dev login form
    alice, bob = people("Alice"), people("Bob")
    room = make_room(alice, bob)
    a = open_session(alice, sign_in=False)
    a.page.goto(local_stack.base_url + "/")
    a.page.get_by_label("User id (e-mail)").fill(alice.user_id)
    a.page.get_by_label("Display name").fill(alice.display_name)
    a.page.get_by_role("button", name="Sign in").click()
    a.page.get_by_role("main").get_by_role("link", name=re.compile(re.escape(room.title))).click()
    a.wait_live()
    b = open_session(bob)
    b.open_room(room)

    # When Alice types, Bob sees that she is typing, and it clears after 3 s of silence
    box = a.page.get_by_role("textbox", name="Message")
    box.press_sequentially("Spindle")
    expect(b.page.get_by_text(f"{alice.display_name} is typing…")).to_be_visible()
    expect(b.page.get_by_text(f"{alice.display_name} is typing…")).to_be_hidden(timeout=6000)

    # And when she sends with Enter
    box.press_sequentially(" at 85 °C")
    box.press("Enter")

    # Then Bob sees it live, with her name, and her own copy is marked sent
    expect(b.message("Spindle at 85 °C")).to_contain_text(alice.display_name)
    expect(a.message("Spindle at 85 °C")).to_have_attribute("data-status", "sent")
    expect(box).to_have_value("")

    # And the time shows in GMT+8 although the browser runs on New York time
    time = b.message("Spindle at 85 °C").locator("time").first
    sent_at = datetime.fromisoformat(time.get_attribute("datetime").replace("Z", "+00:00"))
    expect(time).to_have_text(sent_at.astimezone(TAIPEI).strftime("%H:%M"))

    # When Bob answers on two lines with Shift+Enter
    reply = b.page.get_by_role("textbox", name="Message")
    reply.press_sequentially("Coolant pressure low.")
    reply.press("Shift+Enter")
    reply.press_sequentially("Checking the pump.")
    reply.press("Enter")

    # Then Alice sees both lines in one message, from Bob
    answer = a.message("Coolant pressure low.")
    expect(answer).to_contain_text("Checking the pump.")
    expect(answer).to_contain_text(bob.display_name)
    assert "Coolant pressure low.\nChecking the pump." in answer.locator(".msg-text").inner_text()


def test_mention_chosen_by_keyboard_badges_the_other_room_list(open_session, people, make_room):
    # Given Bob watching his room list, and Alice in the room with Bob and Carol
    alice, bob, carol = people("Alice"), people("Bob"), people("Carol")
    room = make_room(alice, bob, carol)
    b = open_session(bob)
    b.open_room_list()
    card = b.page.locator(f'[data-room-id="{room.room_id}"]')
    expect(card).to_be_visible()
    expect(card.locator(".badge-mention")).to_have_count(0)
    unread_before = (
        int(card.locator(".badge-unread").text_content() or 0)
        if card.locator(".badge-unread").count()
        else 0
    )
    a = open_session(alice)
    a.open_room(room)

    # When Alice types "@", moves with the arrows, narrows to "bo" and picks with Tab
    box = a.page.get_by_role("textbox", name="Message")
    box.press_sequentially("@")
    options = a.page.get_by_role("listbox", name="Mention a member").get_by_role("option")
    expect(options).to_have_count(3)  # the others first, herself last
    box.press("ArrowDown")
    expect(options.nth(1)).to_have_attribute("aria-selected", "true")
    box.press("ArrowUp")
    expect(options.nth(0)).to_have_attribute("aria-selected", "true")
    box.press_sequentially("bo")
    expect(options).to_have_count(1)
    expect(options.first).to_contain_text(bob.display_name)
    box.press("Tab")
    expect(box).to_have_value(f"@{bob.display_name} ")
    expect(a.page.get_by_role("listbox", name="Mention a member")).to_be_hidden()

    # And Escape closes the list without choosing
    box.press_sequentially("and @car")  # "ca" alone could match a hex suffix of a name
    expect(options).to_have_count(1)
    box.press("Escape")
    expect(a.page.get_by_role("listbox")).to_be_hidden()
    box.fill(f"@{bob.display_name} please check the coolant pump")
    box.press("Enter")

    # Then the mention is highlighted in Alice's view
    sent = a.message("please check the coolant pump")
    expect(sent.locator(".mention")).to_have_text(f"@{bob.display_name}")

    # And Bob's room list shows a mention badge, live
    expect(card.locator(".badge-mention")).to_have_text("@1")
    expect(card.locator(".badge-unread")).to_have_text(str(unread_before + 1))

    # When Bob opens the room, the mention of him stands out, and the badge clears
    card.get_by_role("link").click()
    expect(b.message("please check the coolant pump").locator(".mention-me")).to_have_text(
        f"@{bob.display_name}"
    )
    b.page.get_by_role("link", name="Back to rooms").click()
    expect(card.locator(".badge-mention")).to_have_count(0)


def test_edit_delete_and_reaction_are_seen_by_the_other(open_session, people, make_room):
    # Given Alice and Bob in a room and two messages from Alice
    alice, bob = people("Alice"), people("Bob")
    room = make_room(alice, bob)
    a, b = open_session(alice), open_session(bob)
    a.open_room(room)
    b.open_room(room)
    box = a.page.get_by_role("textbox", name="Message")
    for text in ("Pressure 3.1 bar", "typo mesage"):
        box.fill(text)
        box.press("Enter")
    expect(b.message("typo mesage")).to_be_visible()

    # When Alice edits her first message from its hover actions
    first = a.message("Pressure 3.1 bar")
    first.hover()
    first.get_by_role("button", name="Edit message").click()
    editor = a.page.get_by_role("textbox", name="Edit message")
    editor.fill("Pressure 2.4 bar")
    editor.press("Enter")

    # Then Bob sees the new text marked "(edited)"
    expect(b.message("Pressure 2.4 bar")).to_contain_text("(edited)")
    expect(b.message("Pressure 3.1 bar")).to_have_count(0)

    # When Alice reacts with 👍 and Bob adds his own
    edited = a.message("Pressure 2.4 bar")
    edited.hover()
    edited.get_by_role("button", name="Add reaction").click()
    edited.get_by_role("button", name="React 👍").click()
    bob_view = b.message("Pressure 2.4 bar")
    expect(bob_view.get_by_role("button", name="👍 1")).to_be_visible()
    bob_view.get_by_role("button", name="👍 1").click()

    # Then both see two, and Alice's chip says it includes her
    expect(edited.get_by_role("button", name="👍 2, including you")).to_have_attribute(
        "aria-pressed", "true"
    )
    expect(bob_view.get_by_role("button", name="👍 2, including you")).to_be_visible()

    # When Bob takes his reaction back, the count drops for both
    bob_view.get_by_role("button", name="👍 2, including you").click()
    expect(edited.get_by_role("button", name="👍 1, including you")).to_be_visible()
    expect(bob_view.get_by_role("button", name="👍 1")).to_have_attribute("aria-pressed", "false")

    # When Alice deletes the typo (confirming in the dialog)
    typo = a.message("typo mesage")
    typo.hover()
    typo.get_by_role("button", name="Delete message").click()
    dialog = a.page.get_by_role("dialog", name="Delete message?")
    dialog.get_by_role("button", name="Delete").click()

    # Then Bob sees a placeholder instead of the text
    expect(b.page.get_by_text("message deleted")).to_be_visible()
    expect(b.message("typo mesage")).to_have_count(0)

    # And Bob, not the owner, cannot edit or delete Alice's message
    bob_view.hover()
    expect(bob_view.get_by_role("button", name="Edit message")).to_have_count(0)
    expect(bob_view.get_by_role("button", name="Delete message")).to_have_count(0)


def test_killed_socket_reconnects_and_shows_what_was_sent_meanwhile_once(
    open_session, people, make_room, local_stack
):
    # Given Alice's page reaches the server through a route we can cut
    alice, bob = people("Alice"), people("Bob")
    room = make_room(alice, bob)
    a, b = open_session(alice), open_session(bob)
    link: dict[str, Any] = {"offline": False, "open": []}

    def route(ws: WebSocketRoute) -> None:
        if link["offline"]:
            ws.close()
            return
        server = ws.connect_to_server()
        link["open"].append((ws, server))

    a.page.route_web_socket(re.compile(r"/ws\b"), route)
    a.open_room(room)
    b.open_room(room)
    box = a.page.get_by_role("textbox", name="Message")
    box.fill("before the cut")
    box.press("Enter")
    expect(b.message("before the cut")).to_be_visible()

    # When the network drops mid-conversation
    link["offline"] = True
    for ws, server in link["open"]:
        ws.close()
        server.close()
    link["open"].clear()
    expect(a.page.locator(".conn-banner")).to_contain_text("connection lost")

    # And Alice writes two messages while offline, and Bob writes one
    for text in ("offline note one", "offline note two"):
        box.fill(text)
        box.press("Enter")
        expect(a.message(text)).to_have_attribute("data-status", "pending")
    expect(a.page.locator(".conn-banner")).to_contain_text("2 messages waiting to send")
    reply = b.page.get_by_role("textbox", name="Message")
    reply.fill("bob while you were away")
    reply.press("Enter")
    expect(b.message("bob while you were away")).to_have_attribute("data-status", "sent")

    # When the network comes back
    link["offline"] = False
    a.page.evaluate("window.__warroom.room.reconnectNow()")
    a.wait_live()

    # Then Alice sees Bob's message, once, and her notes are sent, once each
    expect(a.message("bob while you were away")).to_have_count(1)
    for text in ("offline note one", "offline note two"):
        expect(a.message(text)).to_have_attribute("data-status", "sent")
        expect(b.message(text)).to_have_count(1)
    # (a last message proves everything before it has arrived)
    reply.fill("final check")
    reply.press("Enter")
    expect(a.message("final check")).to_have_count(1)
    for text in (
        "offline note one",
        "offline note two",
        "bob while you were away",
        "before the cut",
    ):
        expect(a.message(text)).to_have_count(1)
        expect(b.message(text)).to_have_count(1)

    # And the server stored each exactly once, in the order written
    history = local_stack.request(
        "GET", f"/api/rooms/{room.room_id}/messages?limit=50", alice.token
    ).body["messages"]
    texts = [m["content"] for m in reversed(history) if m["message_type"] == "text"]
    assert texts.count("offline note one") == 1 and texts.count("offline note two") == 1
    assert texts.index("offline note one") < texts.index("offline note two")


def test_markup_in_a_message_is_text_and_runs_nothing(open_session, people, make_room):
    # Given Alice and Bob in a room
    alice, bob = people("Alice"), people("Bob")
    room = make_room(alice, bob)
    a, b = open_session(alice), open_session(bob)
    a.open_room(room)
    b.open_room(room)

    # When Alice sends HTML with a script in an event handler
    box = a.page.get_by_role("textbox", name="Message")
    box.fill(f"{XSS} coolant")
    box.press("Enter")

    # Then Bob sees the characters as written, and no image element exists
    shown = b.message("onerror")
    expect(shown.locator(".msg-text")).to_have_text(f"{XSS} coolant")
    expect(b.page.locator(".messages img")).to_have_count(0)

    # And search shows it as text with the term marked, and opens the room there
    b.page.get_by_role("searchbox", name="Search messages").fill("coolant")
    b.page.get_by_role("searchbox", name="Search messages").press("Enter")
    hit = b.page.locator(".search-hit", has_text="onerror")
    expect(hit.locator("mark")).to_have_text("coolant")
    expect(hit.locator(".search-text")).to_contain_text(XSS)
    expect(b.page.locator(".search-results img")).to_have_count(0)
    hit.click()
    expect(b.page.locator("article.msg-highlight")).to_contain_text(XSS)

    # (a later message round trip gives any handler time to have fired)
    box.fill("after")
    box.press("Enter")
    expect(b.message("after")).to_be_visible()
    assert a.dialogs == [] and b.dialogs == []
    assert b.page.evaluate("document.querySelectorAll('[onerror]').length") == 0
