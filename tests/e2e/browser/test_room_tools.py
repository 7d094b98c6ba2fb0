"""The room's tools: report, notification settings and alerts, and the ActionBar on a phone."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.e2e.browser.conftest import DESKTOP, FOCUS_NOT_BEHIND_DIALOG, PHONE

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[3]

# Stand-ins for what a headless browser cannot show: a hidden tab (visibility and
# focus) and notifications (recorded as well as created, so the test can read and
# click them). The app's own code paths run unchanged.
HIDDEN_TAB_AND_RECORDED_NOTIFICATIONS = """
(() => {
  window.__hidden = false;
  Object.defineProperty(Document.prototype, 'visibilityState', {
    configurable: true, get() { return window.__hidden ? 'hidden' : 'visible'; } });
  Object.defineProperty(Document.prototype, 'hidden', {
    configurable: true, get() { return !!window.__hidden; } });
  const realHasFocus = Document.prototype.hasFocus;
  Document.prototype.hasFocus = function () { return window.__hidden ? false : realHasFocus.call(this); };
  window.__notifications = [];
  const Real = window.Notification;
  if (!Real) return;
  class Recorded extends Real {
    constructor(title, options) {
      super(title, options);
      window.__notifications.push({ title, body: options && options.body, tag: options && options.tag, ref: this });
    }
  }
  window.Notification = Recorded;
})();
"""


def test_report_preview_renders_copies_and_downloads(open_session, people, make_room, local_stack):
    # Given a room with a few messages, one of them carrying markup
    alice, bob = people("Alice"), people("Bob")
    room = make_room(alice, bob)
    a = open_session(alice, permissions=["clipboard-read", "clipboard-write"])
    a.open_room(room)
    box = a.page.get_by_role("textbox", name="Message")
    for text in ("Coolant pump replaced", "<img src=x onerror=alert(1)> in the log"):
        box.fill(text)
        box.press("Enter")
        expect(a.message(text.split(">")[-1].strip())).to_have_attribute("data-status", "sent")

    # When Alice opens the report from the ActionBar
    a.page.get_by_role("toolbar", name="Room tools").get_by_role("button", name="Report").click()
    dialog = a.page.get_by_role("dialog", name="Incident report")
    preview = dialog.get_by_role("article", name="Report preview")

    # Then the Markdown is rendered, sanitized
    expect(preview.get_by_role("heading", level=1)).to_contain_text(room.title)
    expect(preview).to_contain_text("Coolant pump replaced")
    expect(preview.locator("table").first).to_be_visible()
    assert preview.locator("[onerror], script").count() == 0
    markdown = local_stack.request("GET", f"/api/rooms/{room.room_id}/report", alice.token).text

    # When she copies it, the clipboard holds the Markdown source
    dialog.get_by_role("button", name="Copy Markdown").click()
    expect(dialog.get_by_role("status").filter(has_text="copied")).to_be_visible()
    assert a.page.evaluate("navigator.clipboard.readText()") == markdown

    # When she downloads it, she gets a .md file with the same text
    with a.page.expect_download() as download_info:
        dialog.get_by_role("button", name="Download .md").click()
    download = download_info.value
    assert download.suggested_filename.endswith(".md")
    assert Path(download.path()).read_text(encoding="utf-8") == markdown

    # And Escape closes the dialog and gives focus back to the Report button
    a.page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(a.page.get_by_role("button", name="Report")).to_be_focused()
    assert a.dialogs == []


def test_notification_settings_persist_across_reloads(open_session, people, make_room):
    # Given Alice in a room
    alice = people("Alice")
    room = make_room(alice)
    a = open_session(alice)
    a.open_room(room)

    # When she turns sound off and "mentions only" on
    a.page.get_by_role("button", name="Notifications").click()
    dialog = a.page.get_by_role("dialog", name="Notification settings")
    expect(dialog.get_by_role("switch", name="Sound")).to_be_checked()
    dialog.get_by_role("switch", name="Sound").uncheck()
    dialog.get_by_role("switch", name="Mentions only").check()
    # (Tab never reaches the page behind the dialog)
    for _ in range(8):
        a.page.keyboard.press("Tab")
        assert a.page.evaluate(FOCUS_NOT_BEHIND_DIALOG), "focus escaped the modal dialog"
    dialog.get_by_role("button", name="Done").click()

    # And reloads the page
    a.page.reload()
    a.wait_live()

    # Then the settings are as she left them
    a.page.get_by_role("button", name="Notifications").click()
    dialog = a.page.get_by_role("dialog", name="Notification settings")
    expect(dialog.get_by_role("switch", name="Sound")).not_to_be_checked()
    expect(dialog.get_by_role("switch", name="Mentions only")).to_be_checked()
    expect(dialog.get_by_role("switch", name="Desktop notifications")).to_be_checked()
    expect(dialog.get_by_role("switch", name="Vibration")).to_be_checked()


def test_first_visit_asks_for_notification_permission_on_a_click(open_session, people, make_room):
    # Given a first visit, with the browser's permission not yet decided
    alice = people("Alice")
    room = make_room(alice)
    a = open_session(alice, permissions=["notifications"])
    a.page.add_init_script(
        "Object.defineProperty(Notification, 'permission', { get: () => localStorage.getItem('warroom.notifyAsked') ? 'granted' : 'default' });"
        "Notification.requestPermission = async () => 'granted';"
    )
    a.open_room(room)

    # When Alice accepts the prompt
    prompt = a.page.get_by_role("region", name="Enable notifications")
    prompt.get_by_role("button", name="Enable notifications").click()

    # Then it is gone, and stays gone after a reload
    expect(prompt).to_be_hidden()
    a.page.reload()
    a.wait_live()
    expect(a.page.get_by_role("region", name="Enable notifications")).to_have_count(0)


def test_a_message_for_a_hidden_tab_raises_a_notification(open_session, people, make_room, send_as):
    # Given Bob in the room with notifications allowed, and his tab hidden
    alice, bob = people("Alice"), people("Bob")
    room = make_room(alice, bob)
    b = open_session(
        bob,
        permissions=["notifications"],
        init_scripts=[HIDDEN_TAB_AND_RECORDED_NOTIFICATIONS],
        bypass_csp=True,
    )
    b.open_room(room)
    b.page.evaluate("window.__hidden = true; document.dispatchEvent(new Event('visibilitychange'))")

    # When Alice mentions him, and then writes a plain message
    mention = send_as(alice, room, f"@{bob.display_name} need you at line 3", [bob.user_id])
    b.page.wait_for_function("window.__notifications.length >= 1")
    send_as(alice, room, "plain update")
    b.page.wait_for_function("window.__notifications.length >= 2")

    # Then each raised a notification, and the mention looks different
    notes = b.page.evaluate(
        "window.__notifications.map(n => ({ title: n.title, body: n.body, tag: n.tag }))"
    )
    assert "mentioned you" in notes[0]["title"] and room.title in notes[0]["title"]
    assert notes[0]["body"] == f"@{bob.display_name} need you at line 3"
    assert notes[0]["tag"].startswith("mention-")
    assert "mentioned" not in notes[1]["title"] and notes[1]["body"] == "plain update"

    # When he clicks the mention's notification, the room opens at that message
    b.page.evaluate("window.__hidden = false; window.__notifications[0].ref.onclick()")
    expect(b.page).to_have_url(f"{b.base_url}/#/rooms/{room.room_id}?msg={mention['message_id']}")
    expect(b.page.locator("article.msg-highlight")).to_contain_text("need you at line 3")


def test_mentions_only_silences_plain_messages(open_session, people, make_room, send_as):
    # Given Bob has chosen "mentions only", with his tab hidden
    alice, bob = people("Alice"), people("Bob")
    room = make_room(alice, bob)
    prefs = "localStorage.setItem('warroom.notifyPrefs', JSON.stringify({desktop:true,sound:false,vibrate:false,mentionsOnly:true}));"
    b = open_session(
        bob,
        permissions=["notifications"],
        init_scripts=[HIDDEN_TAB_AND_RECORDED_NOTIFICATIONS, prefs],
        bypass_csp=True,
    )
    b.open_room(room)
    b.page.evaluate("window.__hidden = true")

    # When a plain message and then a mention arrive
    send_as(alice, room, "plain update")
    send_as(alice, room, f"@{bob.display_name} look", [bob.user_id])
    expect(b.message("look")).to_be_visible()
    b.page.wait_for_function("window.__notifications.length >= 1")

    # Then only the mention notified
    titles = b.page.evaluate("window.__notifications.map(n => n.body)")
    assert titles == [f"@{bob.display_name} look"]


def test_action_bar_collapses_on_a_phone_and_expands(open_session, people, make_room):
    # Given Alice on a 390 px wide phone that prefers reduced motion
    alice, bob = people("Alice"), people("Bob")
    room = make_room(alice, bob)
    a = open_session(alice, viewport=PHONE)
    a.page.emulate_media(reduced_motion="reduce")
    a.open_room(room)
    toggle = a.page.get_by_role("button", name="Room tools")
    members = a.page.get_by_role("button", name="Members")

    # Then the tools are folded away
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(members).to_be_hidden()
    # And nothing is wider than the screen
    assert a.page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    # And the fold does not animate for someone who asked for reduced motion
    assert a.page.evaluate(
        "getComputedStyle(document.querySelector('.action-collapse')).transitionDuration"
    ).startswith("0s")

    # When she expands the bar and opens Members
    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    expect(members).to_be_visible()
    members.click()
    dialog = a.page.get_by_role("dialog", name="Members (2)")
    expect(dialog).to_contain_text(bob.display_name)

    # Then Escape closes it and focus returns to the tool
    a.page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(members).to_be_focused()

    # And the bar folds again
    toggle.click()
    expect(members).to_be_hidden()

    # While on a desktop the same tools are a plain toolbar, with no toggle
    a.page.set_viewport_size(DESKTOP)
    expect(a.page.get_by_role("button", name="Room tools")).to_have_count(0)
    expect(
        a.page.get_by_role("toolbar", name="Room tools").get_by_role("button", name="Members")
    ).to_be_visible()


def test_screenshots_of_the_room(open_session, people, make_room, send_as, tmp_path):
    """Room view on a desktop and on a phone; written to docs/screenshots when
    WARROOM_SCREENSHOTS=1 (kept out of normal runs so the files do not churn)."""
    out = (
        ROOT / "docs" / "screenshots" if os.environ.get("WARROOM_SCREENSHOTS") == "1" else tmp_path
    )
    out.mkdir(parents=True, exist_ok=True)
    alice, bob, carol = (
        people("Alice", "Alice Chen"),
        people("Bob", "Bob Lin"),
        people("Carol", "Carol Wu"),
    )
    room = make_room(alice, bob, carol, title="Line 3 CNC spindle overheating")
    send_as(alice, room, "Line 3 stopped at 09:12. CNC-07 spindle alarm, temperature high.")
    send_as(
        bob,
        room,
        {
            "machine_id": "CNC-07",
            "line": "L3",
            "readings": {"temperature": 85.2, "pressure": 3.1, "spindle_rpm": 0},
            "units": {"temperature": "°C", "pressure": "bar", "spindle_rpm": "rpm"},
            "note": "spindle housing, coolant pressure low",
        },
        message_type="incident_data",
    )
    send_as(bob, room, ["Coolant pressure is low.", "Checking the pump now."])
    send_as(alice, room, "@Carol Wu please hold lots LOT-77 for inspection.", [carol.user_id])
    send_as(carol, room, "Holding LOT-77. Will sample 20 pcs from each.")
    watcher = open_session(alice)
    watcher.open_room(room)  # so someone else shows as online
    for name, viewport in (("room-desktop", DESKTOP), ("room-phone", PHONE)):
        session = open_session(bob, viewport=viewport)
        session.open_room(room)
        box = session.page.get_by_role("textbox", name="Message")
        text = (
            "Pump swapped, temperature falling."
            if name == "room-desktop"
            else "Back to 62 °C, restarting the line."
        )
        box.fill(text)
        box.press("Enter")
        expect(session.message(text)).to_have_attribute("data-status", "sent")
        expect(session.page.get_by_role("list", name="Online now: 2")).to_be_visible()
        if name == "room-desktop":
            first = session.message("Line 3 stopped")
            first.hover()
            first.get_by_role("button", name="Add reaction").click()
            first.get_by_role("button", name="React 👀").click()
            expect(first.get_by_role("button", name="👀 1, including you")).to_be_visible()
            session.message(text).hover()
        box.focus()
        session.page.screenshot(path=str(out / f"{name}.png"))
        assert (out / f"{name}.png").stat().st_size > 10_000


def test_create_a_room_change_its_status_and_filter_the_list(open_session, people):
    # Given Alice on her room list
    alice = people("Alice")
    a = open_session(alice)
    a.open_room_list()

    # When she creates a room from the form
    a.page.get_by_role("button", name="New room").click()
    form = a.page.get_by_role("dialog", name="New war room")
    form.get_by_label("Title").fill("Oven 2 temperature drift")
    form.get_by_label("Severity").select_option("critical")
    form.get_by_label("Location").fill("Plant A / Bake line")
    form.get_by_label("Lots (comma separated)").fill("LOT-1, LOT-2")
    form.get_by_role("button", name="Create room").click()

    # Then she is in the new room, its owner
    expect(a.page.get_by_role("heading", level=1, name="Oven 2 temperature drift")).to_be_visible()
    a.wait_live()
    expect(a.page.locator(".room-meta")).to_contain_text("Critical")

    # When she marks it resolved
    a.page.get_by_role("button", name="Room status").click()
    dialog = a.page.get_by_role("dialog", name="Room status")
    dialog.get_by_label("Status").select_option("resolved")
    dialog.get_by_role("button", name="Save").click()
    expect(a.page.locator(".room-meta .chip-status")).to_have_text("Resolved")

    # Then the list's status filter and search box find it only where they should
    a.page.get_by_role("link", name="Back to rooms").click()
    card = a.page.locator(".room-card", has_text="Oven 2 temperature drift")
    expect(a.page.get_by_label("Status")).to_have_value("active")
    expect(card).to_have_count(0)
    a.page.get_by_label("Status").select_option("resolved")
    expect(card).to_be_visible()
    expect(card).to_contain_text("LOT-1, LOT-2")
    a.page.get_by_label("Find a room").fill("LOT-2")
    expect(card).to_be_visible()
    a.page.get_by_label("Find a room").fill("press")
    expect(card).to_have_count(0)
