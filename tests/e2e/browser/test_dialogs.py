"""Issue 14, point 0: every dialog is the platform's modal `<dialog>` (opened with
`showModal()`), on a desktop and on a phone: focus starts on the content and stays inside,
Escape and a click on the backdrop close it, and focus goes back to what opened it.
"""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.browser.conftest import DESKTOP, FOCUS_NOT_BEHIND_DIALOG, PHONE

pytestmark = pytest.mark.browser

VIEWPORTS = [pytest.param(DESKTOP, id="desktop"), pytest.param(PHONE, id="phone")]

INSIDE_DIALOG = "() => !!document.activeElement && !!document.activeElement.closest('dialog[open]')"


def _open_members(session: Any) -> tuple[Any, Any]:
    """Opens the Members dialog from the room's tools (folded behind a toggle on a phone)."""
    toggle = session.page.get_by_role("button", name="Room tools")
    if toggle.count() and toggle.is_visible() and toggle.get_attribute("aria-expanded") != "true":
        toggle.click()
    opener = session.page.get_by_role("toolbar", name="Room tools").get_by_role(
        "button", name="Members"
    )
    opener.click()
    return opener, session.page.get_by_role("dialog", name="Members (2)")


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_a_dialog_is_a_modal_dialog_element_that_escape_closes(
    viewport: dict[str, int], open_session, people, make_room
):
    # Given Alice in a room with Bob
    alice, bob = people("Alice"), people("Bob")
    room = make_room(alice, bob)
    a = open_session(alice, viewport=viewport)
    a.open_room(room)

    # When she opens the Members dialog
    opener, dialog = _open_members(a)
    expect(dialog).to_contain_text(bob.display_name)

    # Then it is the platform's <dialog>, open as a modal in the top layer
    assert dialog.evaluate("el => el.tagName === 'DIALOG' && el.open && el.matches(':modal')")
    # And focus starts on its content, not on the close button
    assert a.page.evaluate(INSIDE_DIALOG)
    close = dialog.get_by_role("button", name="Close")
    assert not close.evaluate("el => el === document.activeElement")
    # And Tab, however often, never leaves it for the page behind: it wraps round the
    # dialog's controls (with at most one stop in the browser's own UI per round)
    inside = 0
    for _ in range(8):
        a.page.keyboard.press("Tab")
        assert a.page.evaluate(FOCUS_NOT_BEHIND_DIALOG), "focus escaped the modal dialog"
        inside += a.page.evaluate(INSIDE_DIALOG)
    assert inside >= 5, f"focus was in the dialog after only {inside} of 8 Tabs"

    # When she presses Escape
    a.page.keyboard.press("Escape")

    # Then it closes, and focus is back on the Members button
    expect(dialog).to_be_hidden()
    expect(opener).to_be_focused()
    assert a.page.locator("dialog[open]").count() == 0
    # And the page scrolls again
    assert a.page.evaluate("getComputedStyle(document.body).overflow") != "hidden"


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_a_click_on_the_backdrop_closes_a_dialog_and_a_click_inside_does_not(
    viewport: dict[str, int], open_session, people, make_room
):
    # Given Alice with the Members dialog open
    alice, bob = people("Alice"), people("Bob")
    room = make_room(alice, bob)
    a = open_session(alice, viewport=viewport)
    a.open_room(room)
    opener, dialog = _open_members(a)
    expect(dialog).to_be_visible()
    # (the page behind does not scroll while it is open)
    assert a.page.evaluate("getComputedStyle(document.body).overflow") == "hidden"

    # When she clicks inside the dialog, on its title
    dialog.get_by_role("heading", name="Members (2)").click()
    # Then it stays open
    expect(dialog).to_be_visible()

    # When she clicks the backdrop, in the page's top-left corner
    a.page.mouse.click(3, 3)

    # Then it closes, and focus is back on the Members button
    expect(dialog).to_be_hidden()
    expect(opener).to_be_focused()


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_escape_twice_reopens_and_closes_every_time(
    viewport: dict[str, int], open_session, people, make_room
):
    # Given Alice in a room
    alice, bob = people("Alice"), people("Bob")
    room = make_room(alice, bob)
    a = open_session(alice, viewport=viewport)
    a.open_room(room)

    # When she opens and closes the same dialog with Escape three times in a row
    for _ in range(3):
        opener, dialog = _open_members(a)
        expect(dialog).to_be_visible()
        a.page.keyboard.press("Escape")
        # Then each Escape closes it (a close request the browser may not let us cancel
        # still closes it through the parent), and focus comes back every time
        expect(dialog).to_be_hidden()
        expect(opener).to_be_focused()
