"""Issue 16: what a factory engineer hits in a real incident, in the browser.

Each finding is reproduced on a 390×844 phone in zh-TW and on a 1280×800 desktop in
English (or both ways round), against the local stack and real Chromium.
"""

from __future__ import annotations

import re
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.browser.conftest import DESKTOP, PHONE, wait_until
from tests.e2e.browser.test_workspace import png

pytestmark = pytest.mark.browser

# (viewport, locale, the words the page uses in that language)
ZH = {
    "send": "送出",
    "message": "訊息",
    "readings_form": "傳送事故讀數",
    "send_readings": "送出讀數",
    "value": "數值",
    "add_reading": "＋ 新增讀數",
    "tools": "房間工具",
    "report": "報告",
    "readings": "讀數",
    "members": "成員",
    "back": "回到房間列表",
    "search": "搜尋訊息",
    "attachment": "附件",
}
EN = {
    "send": "Send",
    "message": "Message",
    "readings_form": "Send incident readings",
    "send_readings": "Send readings",
    "value": "Value",
    "add_reading": "+ Add reading",
    "tools": "Room tools",
    "report": "Report",
    "readings": "Readings",
    "members": "Members",
    "back": "Back to rooms",
    "search": "Search messages",
    "attachment": "Attachment",
}
WAYS = [
    pytest.param(PHONE, "zh-TW", ZH, id="phone-zh-TW"),
    pytest.param(DESKTOP, "en-US", EN, id="desktop-en"),
]


def open_tool(page: Page, words: dict[str, str], name: str) -> None:
    """A room tool by its name; on a phone the tools are behind the "Room tools" toggle."""
    tool = page.get_by_role("toolbar", name=words["tools"]).get_by_role("button", name=name)
    if not tool.is_visible():
        page.get_by_role("button", name=words["tools"]).click()
    tool.click()


def last_reading(local_stack, person, room) -> dict[str, Any]:
    page = local_stack.request("GET", f"/api/rooms/{room.room_id}/messages", person.token).body
    readings = [m for m in page["messages"] if m["message_type"] == "incident_data"]
    newest = max(readings, key=lambda m: m["sequence_number"], default=None)
    return newest["content"] if newest else {}


# ---------------------------------------------------------------- 1. numbers


@pytest.mark.parametrize(("viewport", "locale", "words"), WAYS)
def test_2_1_is_refused_with_the_suggestion_and_1_200_is_read_as_1200(
    viewport, locale, words, open_session, people, make_room, local_stack
):
    # Given an engineer in a room
    alice, bob = people("Alice"), people("Bob")
    room = make_room(alice, bob)
    a = open_session(alice, viewport=viewport, locale=locale)
    a.open_room(room)
    # When she types the coolant flow as 2,1 in the readings form
    a.page.get_by_role("button", name=words["readings_form"]).click()
    form = a.page.get_by_role("dialog", name=words["readings_form"])
    form.get_by_label(words["value"]).fill("2,1")
    form.get_by_role("button", name=words["send_readings"]).click()
    # Then it is refused, in her language, suggesting 2.1, and nothing is sent
    alert = form.get_by_role("alert")
    expect(alert).to_contain_text("2.1")
    expect(alert).to_contain_text("溫度" if locale == "zh-TW" else "temperature")
    expect(alert).to_contain_text("1,200")
    assert last_reading(local_stack, alice, room) == {}
    # When she types 1,200 instead
    form.get_by_label(words["value"]).fill("1,200")
    form.get_by_role("button", name=words["send_readings"]).click()
    expect(form).to_be_hidden()
    # Then 1200 is stored, a number, under the reading's name
    content = wait_until(lambda: last_reading(local_stack, alice, room), what="the reading")
    assert content["readings"] == {"temperature": 1200}


# ---------------------------------------------------------------- 2. search over readings


@pytest.mark.parametrize(("viewport", "locale", "words"), WAYS)
def test_溫度_finds_the_reading_by_its_note_shown_as_text_and_the_jump_shows_it(
    viewport, locale, words, open_session, people, make_room, send_as
):
    # Given a reading with a Chinese note, then enough talk to push it off screen
    alice, bob = people("Alice"), people("Bob")
    room = make_room(alice, bob)
    tag = uuid.uuid4().hex[:6]
    send_as(
        bob,
        room,
        {
            "machine_id": f"CNC-{tag}",
            "line": "L3",
            "readings": {"temperature": 87},
            "units": {"temperature": "°C"},
            "note": "主軸溫度持續上升",
        },
        message_type="incident_data",
    )
    send_as(bob, room, [f"later talk {n:02d}" for n in range(30)])
    a = open_session(alice, viewport=viewport, locale=locale)
    a.open_room(room)
    # When she searches 溫度
    search = a.page.get_by_role("searchbox", name=words["search"])
    if not search.is_visible():
        a.page.goto(f"{a.base_url}/#/search?q=溫度")
    else:
        search.fill("溫度")
        search.press("Enter")
    # Then the reading is found, shown as a line of text and not as JSON
    hit = a.page.locator(".search-hit", has_text=f"CNC-{tag}")
    expect(hit).to_contain_text(f"CNC-{tag} · L3 · temperature 溫度 87 °C — 主軸溫度持續上升")
    assert "{" not in hit.inner_text() and "\\u" not in hit.inner_text()
    # When she opens it
    hit.click()
    # Then the reading is in view, highlighted, above the message box (not behind it)
    found = a.page.locator("article.msg.msg-highlight")
    expect(found).to_contain_text(f"CNC-{tag}")
    expect(found).to_be_in_viewport()
    composer_top = a.page.locator(".composer").bounding_box()["y"]
    box = found.bounding_box()
    assert box["y"] + min(box["height"], 40) <= composer_top


# ---------------------------------------------------------------- 3. the report


@pytest.mark.parametrize(("viewport", "locale", "words"), WAYS)
def test_the_report_is_in_the_readers_language_with_the_note_and_the_photo(
    viewport, locale, words, open_session, people, make_room, send_as
):
    # Given a room with a reading (note, line, units) and a photo
    alice, bob = people("Alice"), people("Bob")
    room = make_room(alice, bob)
    send_as(
        bob,
        room,
        {
            "machine_id": "CNC-12",
            "line": "L3",
            "readings": {"temperature": 87},
            "units": {"temperature": "°C"},
            "note": "主軸溫度持續上升",
        },
        message_type="incident_data",
    )
    a = open_session(alice, viewport=viewport, locale=locale)
    a.open_room(room)
    a.page.locator("input[type=file]").set_input_files(
        files=[{"name": "spindle.png", "mimeType": "image/png", "buffer": png(40, 30)}]
    )
    a.page.get_by_role("textbox", name=words["message"]).fill("seal photo")
    a.page.get_by_role("button", name=words["send"], exact=True).click()
    expect(a.message("seal photo").get_by_role("img", name="spindle.png")).to_be_visible()
    # When she opens the report
    open_tool(a.page, words, words["report"])
    preview = a.page.locator("article.report")
    # Then headings and labels are in her language, and the reading keeps its note and line
    if locale == "zh-TW":
        expect(preview.get_by_role("heading", level=1)).to_contain_text("事故報告：")
        expect(preview).to_contain_text("機台讀數")
        expect(preview).to_contain_text("擁有者")
        expect(preview).not_to_contain_text("OWNER")
    else:
        expect(preview.get_by_role("heading", level=1)).to_contain_text("Incident report:")
        expect(preview).to_contain_text("Machine readings")
    expect(preview).to_contain_text("主軸溫度持續上升")
    expect(preview).to_contain_text("L3")
    # and the photo is an image in the preview, loaded
    image = preview.get_by_role("img", name="spindle.png")
    expect(image).to_be_visible()
    assert (
        image.evaluate(
            "img => img.complete && img.naturalWidth ? img.naturalWidth"
            " : new Promise(r => img.onload = () => r(img.naturalWidth))"
        )
        == 40
    )
    # When she downloads the .md, the photo is a link to the app's route for the file
    with a.page.expect_download() as info:
        a.page.get_by_role(
            "button", name="下載 .md" if locale == "zh-TW" else "Download .md"
        ).click()
    saved = Path(info.value.path()).read_text(encoding="utf-8")
    assert "主軸溫度持續上升" in saved and "/api/rooms/" not in saved
    link = re.search(r"\[spindle\.png\]\((http[^)]+#/rooms/[0-9a-f-]+/files/[0-9a-f-]+)\)", saved)
    assert link, saved
    # and that link works: opened by a signed-in member, it serves the photo itself
    with a.page.expect_response(lambda r: "spindle.png" in r.url and r.status == 200) as served:
        a.page.goto(link.group(1))
    assert served.value.body()[:8] == b"\x89PNG\r\n\x1a\n"


# ---------------------------------------------------------------- 4. a mentioned viewer


@pytest.mark.parametrize(("viewport", "locale", "words"), WAYS)
def test_a_mentioned_viewer_reacts_and_the_sender_was_warned(
    viewport, locale, words, open_session, people, make_room, local_stack
):
    # Given an owner and a QA engineer who is a viewer
    owner, qa = people("Lead"), people("Qa")
    room = make_room(owner, qa, role="VIEWER")
    o = open_session(owner, viewport=viewport, locale=locale)
    o.open_room(room)
    # When the owner mentions her
    box = o.page.get_by_role("textbox", name=words["message"])
    box.fill(f"@{qa.display_name} please confirm LOT-77 is quarantined")
    # Then before sending he is told she cannot reply, and offered to make her an editor
    warning = o.page.locator(".viewer-warning")
    expect(warning).to_contain_text(qa.display_name)
    expect(warning).to_contain_text("檢視者" if locale == "zh-TW" else "is a viewer")
    make_editor = warning.get_by_role("button")
    expect(make_editor).to_contain_text(qa.display_name)
    o.page.get_by_role("button", name=words["send"], exact=True).click()
    # When the viewer opens the room, she has no message box and no skip link to one
    q = open_session(qa, viewport=viewport, locale=locale)
    q.open_room(room)
    expect(q.page.get_by_role("textbox", name=words["message"])).to_have_count(0)
    expect(q.page.locator(".skip-link")).not_to_contain_text(
        "訊息輸入框" if locale == "zh-TW" else "message box"
    )
    # and she reacts 👍 to the question
    question = q.message("please confirm LOT-77")
    question.click()
    question.hover()
    question.get_by_role("button", name="加入回應" if locale == "zh-TW" else "Add reaction").click()
    q.page.get_by_role("button", name="回應 👍" if locale == "zh-TW" else "React 👍").click()
    # Then the owner sees her acknowledgement
    expect(o.message("please confirm LOT-77").locator(".reaction")).to_contain_text("1")
    # And one tap makes her an editor
    box.fill(f"@{qa.display_name} thanks")
    o.page.locator(".viewer-warning").get_by_role("button").click()

    def role_of_qa() -> str:
        members = local_stack.request(
            "GET", f"/api/rooms/{room.room_id}/members", owner.token
        ).body["members"]
        return next(m["role"] for m in members if m["user_id"] == qa.user_id)

    wait_until(lambda: role_of_qa() == "EDITOR", what="the viewer made an editor")
    expect(o.page.locator(".viewer-warning")).to_have_count(0)


# ---------------------------------------------------------------- 5. photos on a phone


@pytest.mark.parametrize(("viewport", "locale", "words"), WAYS)
def test_a_photo_with_a_caption_goes_with_one_tap_and_survives_leaving_the_room(
    viewport, locale, words, open_session, people, make_room
):
    # Given the engineer in the room and a colleague watching
    alice, bob = people("Alice"), people("Bob")
    room = make_room(alice, bob)
    a = open_session(alice, viewport=viewport, locale=locale)
    b = open_session(bob)
    a.open_room(room)
    b.open_room(room)
    # When she picks a photo, then goes back to the room list and returns
    a.page.locator("input[type=file]").set_input_files(
        files=[{"name": "coolant.png", "mimeType": "image/png", "buffer": png(60, 40)}]
    )
    tray = a.page.get_by_role("group", name=words["attachment"])
    expect(tray).to_contain_text("coolant.png")
    a.page.get_by_role("link", name=words["back"]).first.click()
    expect(a.page.locator(".room-page")).to_have_count(0)
    a.page.go_back()
    # Then the picked photo is still waiting
    expect(a.page.get_by_role("group", name=words["attachment"])).to_contain_text("coolant.png")
    # When she types a caption and taps the one send button
    a.page.get_by_role("textbox", name=words["message"]).fill("冷卻液管路")
    a.page.get_by_role("button", name=words["send"], exact=True).click()
    # Then the photo and the caption arrive together, and the tray is empty
    shown = b.message("冷卻液管路")
    expect(shown.get_by_role("img", name="coolant.png")).to_be_visible()
    expect(a.page.get_by_role("group", name=words["attachment"])).to_have_count(0)
    # and no lone check mark sits on a line of its own under the photo
    mine = a.message("冷卻液管路")
    expect(mine.locator(".msg-body > .msg-status-sent")).to_have_count(0)


# ---------------------------------------------------------------- 7. presence lines


@pytest.mark.parametrize(("viewport", "locale", "words"), WAYS)
def test_a_10_s_signal_loss_writes_no_left_line(
    viewport, locale, words, open_session, people, make_room, send_as
):
    # Given Alice watching and Bob on a phone, both in the room
    alice, bob = people("Alice"), people("Bob")
    room = make_room(alice, bob)
    a = open_session(alice, viewport=viewport, locale=locale)
    b = open_session(bob, viewport=PHONE, locale=locale)
    a.open_room(room)
    b.open_room(room)
    expect(a.page.locator(".online-list")).to_contain_text(bob.display_name)
    if viewport == PHONE:
        # (on a phone the dots carry their count in words)
        expect(a.page.locator(".online-count")).to_be_visible()
        expect(a.page.locator(".online-count")).to_have_text("2 人在線")
    # When Bob's signal is lost for 10 s, then comes back
    b.context.set_offline(True)
    b.page.evaluate("window.__warroom.room.dropSocket()")
    time.sleep(10)
    b.context.set_offline(False)
    b.page.evaluate("window.__warroom.room.reconnectNow()")
    b.wait_live()
    # and the test stack's departure grace (12 s) passes
    time.sleep(4)
    # Then Alice was never told he left, nor that he joined again
    send_as(alice, room, "still here?")
    expect(a.message("still here?")).to_be_visible()
    expect(a.page.locator(".msg-join[data-join='left']")).to_have_count(0)
    # and he is online in her header
    expect(a.page.locator(".online-list")).to_contain_text(bob.display_name)


def test_a_presence_line_says_offline_and_the_next_message_names_its_author(
    open_session, people, make_room, send_as
):
    # Given Alice watching, Bob in the room then gone for good
    alice, bob = people("Alice"), people("Bob")
    room = make_room(alice, bob)
    send_as(bob, room, "first from Bob")
    a = open_session(alice, locale="zh-TW")
    a.open_room(room)
    b = open_session(bob)
    b.open_room(room)
    b.context.close()
    # Then once the grace has passed the line reads as offline, not as quitting
    line = a.page.locator(".msg-join[data-join='left']")
    expect(line).to_have_text(f"{bob.display_name} 已離線", timeout=30_000)
    # When Bob (from elsewhere) writes again, his message after the line shows his name
    send_as(bob, room, "second from Bob")
    expect(a.message("second from Bob").locator(".msg-sender")).to_have_text(bob.display_name)


# ---------------------------------------------------------------- 8. the readings form


@pytest.mark.parametrize(("viewport", "locale", "words"), WAYS)
def test_the_readings_form_prefills_and_repeats(
    viewport, locale, words, open_session, people, make_room, local_stack
):
    alice, bob = people("Alice"), people("Bob")
    room = make_room(alice, bob)
    a = open_session(alice, viewport=viewport, locale=locale)
    a.open_room(room)
    # Given her first reading: machine, line, two named readings (one by its label)
    a.page.get_by_role("button", name=words["readings_form"]).click()
    form = a.page.get_by_role("dialog", name=words["readings_form"])
    name = form.locator(".reading-row input").first
    # (the default name is in her language)
    expect(name).to_have_value("溫度" if locale == "zh-TW" else "temperature")
    form.locator(".form-row input").nth(0).fill("CNC-12")
    form.locator(".form-row input").nth(1).fill("L3")
    form.get_by_label(words["value"]).first.fill("87")
    form.get_by_role("button", name=words["add_reading"]).click()
    form.locator(".reading-row").nth(1).locator("input").nth(0).fill(
        "壓力" if locale == "zh-TW" else "pressure"
    )
    form.locator(".reading-row").nth(1).locator("input").nth(1).fill("3.1")
    form.locator(".reading-row").nth(1).locator("input").nth(2).fill("bar")
    form.get_by_role("button", name=words["send_readings"]).click()
    expect(form).to_be_hidden()
    wait_until(lambda: last_reading(local_stack, alice, room), what="the first reading")
    # When she opens the form again
    a.page.get_by_role("button", name=words["readings_form"]).click()
    form = a.page.get_by_role("dialog", name=words["readings_form"])
    # Then machine and line are filled in from her last reading
    expect(form.locator(".form-row input").nth(0)).to_have_value("CNC-12")
    expect(form.locator(".form-row input").nth(1)).to_have_value("L3")
    # When she repeats the last reading, the names and units come back, values to type
    form.locator(".repeat-reading").click()
    rows = form.locator(".reading-row")
    expect(rows).to_have_count(2)
    expect(rows.nth(1).locator("input").nth(0)).to_have_value(
        "壓力" if locale == "zh-TW" else "pressure"
    )
    expect(rows.nth(1).locator("input").nth(2)).to_have_value("bar")
    rows.nth(0).locator("input").nth(1).fill("88.5")
    rows.nth(1).locator("input").nth(1).fill("3.3")
    form.get_by_role("button", name=words["send_readings"]).click()
    expect(form).to_be_hidden()
    # Then the second reading is stored under the same names, whatever language typed them
    second = wait_until(
        lambda: (
            (c := last_reading(local_stack, alice, room))["readings"].get("temperature") == 88.5
            and c
        ),
        what="the second reading",
    )
    assert second["readings"] == {"temperature": 88.5, "pressure": 3.3}
    assert second["machine_id"] == "CNC-12" and second["line"] == "L3"


# ---------------------------------------------------------------- 9. charts


@pytest.mark.parametrize(("viewport", "locale", "words"), WAYS)
def test_a_one_point_chart_has_a_sane_axis(
    viewport, locale, words, open_session, people, make_room, send_as
):
    # Given a room with a single reading
    alice, bob = people("Alice"), people("Bob")
    room = make_room(alice, bob)
    send_as(bob, room, {"readings": {"humidity": 41}}, message_type="incident_data")
    a = open_session(alice, viewport=viewport, locale=locale)
    a.open_room(room)
    # When the readings panel opens
    open_tool(a.page, words, words["readings"])
    chart = a.page.locator('[data-reading="humidity"]')
    expect(chart).to_have_attribute("data-points", "1")
    # Then the time axis spans ten minutes around the reading, not one instant
    span = chart.get_attribute("data-axis")
    start, end = span.split("–")
    to_min = lambda hm: int(hm[:2]) * 60 + int(hm[3:])  # noqa: E731
    assert (to_min(end) - to_min(start)) % (24 * 60) == 10, span
    expect(chart.locator("canvas")).to_have_count(1)


# ---------------------------------------------------------------- 10. keyboard


@pytest.mark.parametrize(("viewport", "locale", "words"), WAYS)
def test_tab_reaches_the_messages_in_a_room_with_a_photo(
    viewport, locale, words, open_session, people, make_room, send_as
):
    # Given a room with a photo, then more messages
    alice, bob = people("Alice"), people("Bob")
    room = make_room(alice, bob)
    a = open_session(alice, viewport=viewport, locale=locale)
    a.open_room(room)
    a.page.locator("input[type=file]").set_input_files(
        files=[{"name": "old.png", "mimeType": "image/png", "buffer": png(40, 30)}]
    )
    a.page.get_by_role("textbox", name=words["message"]).fill("old photo")
    a.page.get_by_role("button", name=words["send"], exact=True).click()
    expect(a.message("old photo").get_by_role("img", name="old.png")).to_be_visible()
    send_as(bob, room, [f"after the photo {n}" for n in range(3)])
    expect(a.message("after the photo 2")).to_be_visible()
    # When she tabs forward from the room's tools
    if a.page.get_by_role("button", name=words["tools"]).is_visible():
        a.page.get_by_role("button", name=words["tools"]).focus()
    else:
        a.page.get_by_role("toolbar", name=words["tools"]).get_by_role(
            "button", name=words["members"]
        ).focus()
    reached = None
    for _ in range(12):
        a.page.keyboard.press("Tab")
        focused = a.page.evaluate(
            "() => { const e = document.activeElement;"
            " return e ? (e.matches('article.msg') ? 'message:' + e.textContent"
            " : e.closest('.msg-image') ? 'photo' : e.tagName) : 'none'; }"
        )
        assert focused != "photo", "Tab went into an old photo's buttons"
        if focused.startswith("message:"):
            reached = focused
            break
    # Then Tab reached a message (the newest), never the old photo's buttons
    assert reached is not None and "after the photo 2" in reached
    # And focus returns to her message after an edit saved with Enter
    send_as(alice, room, "temp 19")
    mine = a.message("temp 19")
    mine.focus()
    a.page.keyboard.press("e")
    editor = a.page.get_by_role("textbox", name="編輯訊息" if locale == "zh-TW" else "Edit message")
    editor.fill("temp 91")
    editor.press("Enter")
    expect(a.message("temp 91")).to_be_focused()


# ---------------------------------------------------------------- 11. smaller points


def test_a_second_open_incident_with_the_same_title_is_warned_and_told_apart(
    open_session, people, make_room, send_as, local_stack
):
    # Given an open incident "Line 3 CNC spindle over…" that Alice is in
    alice = people("Alice")
    title = f"Line 3 CNC spindle overheating {uuid.uuid4().hex[:4]}"
    first = make_room(alice, title=title)
    a = open_session(alice)
    a.open_room_list()
    # When she starts a new incident with the same title
    a.page.get_by_role("button", name="New room").click()
    form = a.page.get_by_role("dialog", name="New war room")
    form.get_by_label("Title").fill(title.upper())
    # Then she is warned, and offered the open one
    warning = form.get_by_role("status")
    expect(warning).to_contain_text("already has this title")
    expect(warning.get_by_role("link")).to_have_attribute("href", f"#/rooms/{first.room_id}")
    # When she creates it anyway
    form.get_by_label("Location").fill("Plant A / Line 3")
    form.get_by_role("button", name="Create room").click()
    expect(a.page.get_by_role("heading", level=1, name=title.upper())).to_be_visible()
    # Then the sidebar tells the two apart by where and when each was opened
    twins = a.page.locator(".sidebar-room-title", has_text=title).or_(
        a.page.locator(".sidebar-room-title", has_text=title.upper())
    )
    expect(twins).to_have_count(2)
    expect(twins.locator(".twin-note")).to_have_count(2)
    expect(twins.nth(0).locator(".twin-note")).not_to_have_text(
        twins.nth(1).locator(".twin-note").inner_text()
    )


def test_no_lone_check_mark_under_a_deleted_message(open_session, people, make_room):
    alice, bob = people("Alice"), people("Bob")
    room = make_room(alice, bob)
    a = open_session(alice)
    a.open_room(room)
    # Given her own sent message
    a.page.get_by_role("textbox", name="Message").fill("wrong lot number")
    a.page.get_by_role("button", name="Send", exact=True).click()
    mine = a.message("wrong lot number")
    expect(mine).to_have_attribute("data-status", "sent")
    expect(mine.locator(".msg-status-sent")).to_have_count(1)
    # When she deletes it
    mine.hover()
    mine.get_by_role("button", name="Delete message").click()
    a.page.get_by_role("dialog").get_by_role("button", name="Delete").click()
    deleted = a.page.locator("article.msg", has=a.page.locator(".msg-deleted"))
    expect(deleted).to_have_count(1)
    # Then no check mark is left on a line of its own under "message deleted"
    expect(deleted.locator(".msg-status-sent")).to_have_count(0)
