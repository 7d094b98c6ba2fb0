"""The installable app and Web Push in the browser (issue 19): the install criteria, the
offline shell, and a push delivered through Chromium's DevTools protocol
(`ServiceWorker.deliverPushMessage`) shown by our service worker, whose click opens the
room. (Headless Chromium cannot subscribe to a real push service here; the server side
is tested with a loopback push service in tests/e2e/test_push.py.)"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

READ_NOTIFICATIONS = """
() => self.registration.getNotifications().then((found) =>
  found.map((n) => ({ title: n.title, body: n.body, tag: n.tag,
                      actions: n.actions.map((a) => a.title), data: n.data })))
"""


def _controlled(session) -> Any:
    """Open the app and wait until its service worker is active; the worker."""
    page = session.page
    page.goto(f"{session.base_url}/#/")
    expect(page.get_by_role("heading", name="War rooms")).to_be_visible()
    state = page.evaluate("navigator.serviceWorker.ready.then((r) => r.active.state)")
    assert state in ("activating", "activated")
    deadline = time.monotonic() + 10
    while not session.context.service_workers:
        assert time.monotonic() < deadline, "no service worker"
        time.sleep(0.1)
    return session.context.service_workers[0]


def _registration_id(cdp, page) -> str:
    found: list[dict[str, Any]] = []
    cdp.on("ServiceWorker.workerRegistrationUpdated", lambda e: found.extend(e["registrations"]))
    cdp.send("ServiceWorker.enable")
    deadline = time.monotonic() + 10
    while not [r for r in found if not r.get("isDeleted")]:
        assert time.monotonic() < deadline, "no registration reported"
        page.wait_for_timeout(100)  # lets Playwright deliver the CDP events
    return str(next(r for r in found if not r.get("isDeleted"))["registrationId"])


def _notifications(worker, want: int = 1) -> list[dict[str, Any]]:
    deadline = time.monotonic() + 10
    while True:
        found = worker.evaluate(READ_NOTIFICATIONS)
        if len(found) >= want:
            return found
        assert time.monotonic() < deadline, f"no notification; saw {found}"
        time.sleep(0.1)


def test_the_app_meets_the_install_criteria(
    playwright_instance, built_client, local_stack, tmp_path
):
    # Given the app opened in an ordinary (not incognito) browser profile: Chromium never
    # offers to install from an incognito window, which is what test contexts are
    from tests.e2e.browser.conftest import CHROMIUM, CHROMIUM_ARGS

    context = playwright_instance.chromium.launch_persistent_context(
        str(tmp_path / "profile"), executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
    )
    try:
        page = context.pages[0] if context.pages else context.new_page()
        page.goto(f"{local_stack.base_url}/#/")
        page.evaluate("navigator.serviceWorker.ready.then(() => true)")
        page.reload()  # now under the worker's control
        # When Chromium checks whether the app can be installed
        cdp = context.new_cdp_session(page)
        errors = cdp.send("Page.getInstallabilityErrors")["installabilityErrors"]
        manifest = cdp.send("Page.getAppManifest")
        # Then nothing stands in the way: a manifest with names, icons and standalone
        # display, and a service worker controlling the page
        assert errors == [], errors
        parsed = json.loads(manifest["data"])
        assert parsed["display"] == "standalone"
        assert parsed["name"] == "Incident War Room"
        assert {i["sizes"] for i in parsed["icons"]} >= {"192x192", "512x512"}
        assert page.evaluate("navigator.serviceWorker.controller !== null")
    finally:
        context.close()


def test_the_manifest_names_the_app_in_traditional_chinese_for_a_zh_tw_reader(
    people, open_session, local_stack
):
    # Given a reader whose language is Traditional Chinese
    bob = people("Bob")
    session = open_session(bob, init_scripts=["localStorage.setItem('warroom.locale', 'zh-TW');"])
    session.page.goto(f"{session.base_url}/#/")
    expect(session.page.locator("html")).to_have_attribute("lang", "zh-TW")
    # When the browser reads the manifest the page links
    href = session.page.locator("link[rel=manifest]").get_attribute("href")
    manifest = local_stack.request("GET", "/" + str(href))
    # Then its names are in Traditional Chinese
    assert manifest.status == 200
    assert manifest.body["name"] == "事故作戰室" and manifest.body["display"] == "standalone"


SAVED_ROOM = """
(roomId) => new Promise((resolve) => {
  const open = indexedDB.open('warroom-offline');
  // Reading must not create the database (the app creates it, with its store)
  open.onupgradeneeded = () => open.transaction.abort();
  open.onsuccess = () => {
    const db = open.result;
    if (!db.objectStoreNames.contains('rooms')) return resolve(null);
    const get = db.transaction('rooms').objectStore('rooms').get(roomId);
    get.onsuccess = () => resolve(get.result ? get.result.messages.length : null);
    get.onerror = () => resolve(null);
  };
  open.onerror = () => resolve(null);
})
"""


def test_the_app_opens_offline_with_the_cached_room_read_only(
    people, open_session, make_room, send_as
):
    # Given Alice's room with two messages, opened once on her device
    alice = people("Alice")
    room = make_room(alice)
    send_as(alice, room, ["Line 3 stopped", "pump pressure low"])
    session = open_session(alice)
    page = session.open_room(room)
    expect(session.message("pump pressure low")).to_be_visible()
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    deadline = time.monotonic() + 10
    while (page.evaluate(SAVED_ROOM, room.room_id) or 0) < 2:
        assert time.monotonic() < deadline, "the room was not saved on the device"
        page.wait_for_timeout(100)
    assert page.evaluate("navigator.serviceWorker.controller !== null")

    # When the device goes offline and the app is opened again on the room
    session.context.set_offline(True)
    try:
        page.reload()
        # Then the shell comes from the cache and the room shows what was saved, under a
        # banner that says it is offline and read-only
        expect(page.locator("[data-offline=true]")).to_contain_text("You are offline")
        expect(page.get_by_role("heading", level=1, name=room.title)).to_be_visible()
        expect(page.get_by_text("pump pressure low")).to_be_visible()
        expect(page.get_by_text("Line 3 stopped")).to_be_visible()
        # And nothing offers to send
        expect(page.get_by_role("textbox")).to_have_count(0)
        expect(page.get_by_role("button", name="Send")).to_have_count(0)
    finally:
        session.context.set_offline(False)


def test_signing_out_clears_the_saved_rooms(people, open_session, make_room, send_as):
    # Given Alice's room saved on a shared device
    alice = people("Alice")
    room = make_room(alice)
    send_as(alice, room, ["shift note"])
    session = open_session(alice)
    page = session.open_room(room)
    deadline = time.monotonic() + 10
    while not page.evaluate(SAVED_ROOM, room.room_id):
        assert time.monotonic() < deadline, "the room was not saved on the device"
        page.wait_for_timeout(100)
    # When she signs out
    page.locator("button.me-button").click()
    page.get_by_role("menuitem", name="Sign out").click()
    # Then the next person on the device finds nothing of hers
    deadline = time.monotonic() + 10
    while page.evaluate(SAVED_ROOM, room.room_id) is not None:
        assert time.monotonic() < deadline, "the saved room outlived the sign-out"
        page.wait_for_timeout(100)


def test_a_delivered_push_shows_a_notification_whose_click_opens_the_room(
    people, open_session, make_room
):
    # Given Alice's room, and Alice's browser with notifications allowed and no tab of
    # the app in view
    alice = people("Alice")
    room = make_room(alice)
    session = open_session(alice, permissions=["notifications"])
    worker = _controlled(session)
    cdp = session.context.new_cdp_session(session.page)
    registration = _registration_id(cdp, session.page)
    session.page.goto("about:blank")

    # When the push service delivers a page for her room
    payload = {
        "kind": "page",
        "room_id": room.room_id,
        "title": room.title,
        "sender": "Line 3 PLC",
        "text": "Reflow oven over temperature",
        "url": f"/#/rooms/{room.room_id}",
    }
    cdp.send(
        "ServiceWorker.deliverPushMessage",
        {
            "origin": session.base_url + "/",
            "registrationId": registration,
            "data": json.dumps(payload),
        },
    )

    # Then a notification shows the room, the sender and the text, with "Take it"
    (shown,) = _notifications(worker)
    assert shown["title"] == room.title
    assert shown["body"] == "Line 3 PLC: Reflow oven over temperature"
    assert shown["actions"] == ["Take it"]
    assert shown["tag"] == f"room-{room.room_id}"

    # When she clicks it, with the app open on her room list (headless Chromium has no
    # notification to click, and only a real click may open a window: the worker's click
    # path runs on the notification itself, and takes the open tab)
    session.page.goto(f"{session.base_url}/#/")
    expect(session.page.get_by_role("heading", name="War rooms")).to_be_visible()
    # (the worker may have been stopped while no tab was open, and started again by the
    # navigation: talk to the one running now, which has the tab among its clients)
    worker = session.context.service_workers[-1]
    assert worker.evaluate(
        "() => self.clients.matchAll({ type: 'window', includeUncontrolled: true })"
        ".then((tabs) => tabs.length)"
    )
    worker.evaluate(
        "() => self.registration.getNotifications().then((found) => openRoom(found[0], ''))"
    )
    # Then the tab opens the room, and the notification is gone
    expect(session.page.get_by_role("heading", level=1, name=room.title)).to_be_visible()
    assert f"#/rooms/{room.room_id}" in session.page.url
    assert worker.evaluate(READ_NOTIFICATIONS) == []


def test_nothing_is_shown_while_a_tab_of_the_app_is_visible(people, open_session, make_room):
    # Given Alice looking at the app
    alice = people("Alice")
    room = make_room(alice)
    session = open_session(alice, permissions=["notifications"])
    worker = _controlled(session)
    cdp = session.context.new_cdp_session(session.page)
    registration = _registration_id(cdp, session.page)
    assert session.page.evaluate("document.visibilityState") == "visible"

    # When a push arrives, and then a second one once she has left the app
    def deliver(text: str) -> None:
        body = {"kind": "mention", "room_id": room.room_id, "title": room.title}
        cdp.send(
            "ServiceWorker.deliverPushMessage",
            {
                "origin": session.base_url + "/",
                "registrationId": registration,
                "data": json.dumps({**body, "sender": "Bob", "text": text}),
            },
        )

    deliver("first, while she looks")
    session.page.goto("about:blank")
    deliver("second, while she is away")

    # Then only the second was shown (the in-app toast covers the first)
    (shown,) = _notifications(worker)
    assert shown["body"] == "Bob: second, while she is away"
    assert shown["actions"] == []


def test_take_it_from_a_notification_takes_the_incident_once_signed_in(
    people, open_session, make_room, local_stack
):
    # Given a declared incident whose page Alice's notification offered to take
    alice = people("Alice")
    room = make_room(alice)
    session = open_session(alice)
    # When "Take it" opens the app on the room (the worker's window URL for the action)
    session.page.goto(f"{session.base_url}/#/rooms/{room.room_id}?take=1")
    # Then the room opens and, once she is signed in, the incident is acknowledged by her
    expect(session.page.get_by_role("heading", level=1, name=room.title)).to_be_visible()
    deadline = time.monotonic() + 10
    while True:
        found = local_stack.request("GET", f"/api/rooms/{room.room_id}", alice.token)
        if found.body["state"] == "acknowledged":
            break
        assert time.monotonic() < deadline, f"not taken: {found.body['state']}"
        session.page.wait_for_timeout(100)
    entries = local_stack.request("GET", f"/api/rooms/{room.room_id}/timeline", alice.token)
    assert entries.body["entries"][-1]["by"] == alice.user_id
    assert "taken" in entries.body["entries"][-1]["note"]
    assert "take=1" not in session.page.url


def test_push_to_this_device_asks_for_our_key_and_says_so_when_the_browser_cannot(
    people, open_session, make_room, local_stack
):
    # Given Alice in a room, in a browser that has no push service to reach (headless
    # Chromium offline from Google's): the server side is tested in tests/e2e/test_push.py
    alice = people("Alice")
    room = make_room(alice)
    a = open_session(alice, permissions=["notifications"])
    a.open_room(room)
    a.page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    a.page.get_by_role("button", name="Notifications").click()
    dialog = a.page.get_by_role("dialog", name="Notification settings")
    switch = dialog.get_by_role("switch", name="Push to this device")
    expect(switch).not_to_be_checked()

    # When she turns on "Push to this device"
    with a.page.expect_response("**/api/push/vapid-public-key") as key:
        switch.click()

    # Then the browser was handed our VAPID key, the failure to subscribe is said in
    # words, the switch stays off, and nothing is registered for her
    assert key.value.status == 200
    expect(dialog).to_contain_text("Could not turn push on for this device")
    expect(switch).not_to_be_checked()
    found = local_stack.request("GET", "/api/push/subscriptions", alice.token)
    assert found.body["endpoints"] == []
