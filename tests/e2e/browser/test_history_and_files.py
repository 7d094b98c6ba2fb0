"""Older history on scrolling up, and attachments: upload with progress, inline images, downloads."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

# A 4×4 red PNG.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAQAAAAECAIAAAAmkwkpAAAAEElEQVR4nGP4z8AARwzEcQCukw/x0F8jngAAAABJRU5ErkJggg=="
)


def test_older_messages_load_when_scrolling_up(open_session, people, make_room, send_as):
    # Given a room with more history than the first page holds
    alice, bob = people("Alice"), people("Bob")
    room = make_room(alice, bob)
    send_as(bob, room, [f"reading {n:03d}" for n in range(1, 71)])
    a = open_session(alice)
    a.open_room(room)

    # Then the newest messages show, the oldest are not loaded yet
    expect(a.message("reading 070")).to_be_visible()
    expect(a.message("reading 001")).to_have_count(0)

    # When Alice scrolls to the top
    a.page.locator(".message-scroller").evaluate("el => el.scrollTo(0, 0)")

    # Then the older page is fetched and the first message appears, once
    expect(a.message("reading 001")).to_have_count(1)
    expect(a.message("reading 020")).to_have_count(1)
    expect(a.page.get_by_role("button", name="Load older messages")).to_have_count(0)


def test_image_and_file_upload_with_progress_shown_to_the_other(
    open_session, people, make_room, tmp_path
):
    # Given Alice and Bob in a room
    alice, bob = people("Alice"), people("Bob")
    room = make_room(alice, bob)
    a, b = open_session(alice), open_session(bob)
    a.open_room(room)
    b.open_room(room)

    # When Alice picks an image, she sees its size and the limits before uploading
    a.page.locator("input[type=file]").set_input_files(
        files=[{"name": "spindle.png", "mimeType": "image/png", "buffer": PNG}]
    )
    tray = a.page.get_by_role("group", name="Attachment")
    expect(tray).to_contain_text("spindle.png")
    expect(tray).to_contain_text("limit: Up to 25 MB")
    a.page.get_by_role("textbox", name="Message").fill("housing photo")
    a.page.get_by_role("button", name="Send", exact=True).click()

    # Then Bob sees the image inline, loaded, with its caption
    shown = b.message("housing photo")
    image = shown.get_by_role("img", name="spindle.png")
    expect(image).to_be_visible()
    assert (
        image.evaluate(
            "img => img.complete ? img.naturalWidth : new Promise(r => img.onload = () => r(img.naturalWidth))"
        )
        == 4
    )

    # When Alice attaches a text file, Bob can download it
    a.page.locator("input[type=file]").set_input_files(
        files=[{"name": "log.txt", "mimeType": "text/plain", "buffer": b"09:12 spindle alarm\n"}]
    )
    a.page.get_by_role("button", name="Send", exact=True).click()
    link = b.page.get_by_role("button", name="Download log.txt")
    expect(link).to_be_visible()
    with b.page.expect_download() as info:
        link.click()
    assert Path(info.value.path()).read_bytes() == b"09:12 spindle alarm\n"

    # And a file over the limit is refused before any upload
    a.page.locator("input[type=file]").set_input_files(
        files=[{"name": "bad.exe", "mimeType": "application/x-msdownload", "buffer": b"MZ"}]
    )
    expect(a.page.get_by_role("group", name="Attachment").get_by_role("alert")).to_contain_text(
        "not allowed"
    )


def test_incident_readings_form_sends_a_readings_table(open_session, people, make_room):
    # Given Alice and Bob in a room
    alice, bob = people("Alice"), people("Bob")
    room = make_room(alice, bob)
    a, b = open_session(alice), open_session(bob)
    a.open_room(room)
    b.open_room(room)

    # When Alice fills the readings form (a bad name first, then fixed)
    a.page.get_by_role("button", name="Send incident readings").click()
    form = a.page.get_by_role("dialog", name="Send incident readings")
    form.get_by_label("Machine").fill("CNC-07")
    form.get_by_label("Line").fill("L2")
    form.get_by_label("Value").fill("85.2")
    form.get_by_role("button", name="+ Add reading").click()
    form.get_by_label("Name").nth(1).fill("Pressure!")
    form.get_by_label("Value").nth(1).fill("3.1")
    form.get_by_label("Unit").nth(1).fill("bar")
    form.get_by_role("button", name="Send readings").click()
    expect(form.get_by_role("alert")).to_contain_text("not a valid reading name")
    form.get_by_label("Name").nth(1).fill("pressure")
    form.get_by_role("button", name="Send readings").click()
    expect(form).to_be_hidden()

    # Then Bob sees a compact table of the readings with their units
    table = b.page.locator(".readings table", has_text="CNC-07 · L2")
    expect(table.get_by_role("row", name="temperature 85.2 °C")).to_be_visible()
    expect(table.get_by_role("row", name="pressure 3.1 bar")).to_be_visible()
