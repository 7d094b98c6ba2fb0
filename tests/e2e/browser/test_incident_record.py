"""The incident record in the browser (issue 17): the state bar in the room header, the
Timeline panel (pin from a message's actions, edit the event time), the Follow-ups
panel and the Metrics page, on a desktop and on a phone, in English and zh-TW."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import pytest
from playwright.sync_api import expect

from tests.e2e.browser.conftest import DESKTOP, PHONE

pytestmark = pytest.mark.browser

VIEWPORTS = [pytest.param(DESKTOP, id="desktop"), pytest.param(PHONE, id="phone")]


def _tool(page, viewport, name: str, *, exact: bool = True) -> None:
    if viewport == PHONE:
        toggle = page.get_by_role("button", name="Room tools")
        if toggle.get_attribute("aria-expanded") != "true":
            toggle.click()
    page.get_by_role("toolbar", name="Room tools").get_by_role(
        "button", name=name, exact=exact
    ).click()


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_the_state_bar_shows_the_state_and_moves_it(
    open_session, people, make_room, local_stack, viewport
):
    # Given an incident with an owner and a viewer
    alice, victor = people("Alice"), people("Victor")
    room = make_room(alice)
    local_stack.request(
        "POST",
        f"/api/rooms/{room.room_id}/members",
        alice.token,
        {"user_id": victor.user_id, "role": "VIEWER"},
    )
    a = open_session(alice, viewport=viewport)
    a.open_room(room)
    v = open_session(victor, viewport=viewport)
    v.open_room(room)
    bar = a.page.get_by_role("group", name="Incident state")
    # Then the header says it is declared, commanded by Alice, and offers the next move
    expect(bar).to_have_attribute("data-state", "declared")
    expect(bar).to_contain_text("Declared")
    expect(bar).to_contain_text(f"Commander: {alice.display_name}")
    # and the viewer sees the state but no moves
    viewer_bar = v.page.get_by_role("group", name="Incident state")
    expect(viewer_bar).to_contain_text("Declared")
    expect(viewer_bar.get_by_role("button")).to_have_count(0)
    # When Alice acknowledges
    bar.get_by_role("button", name="Acknowledge").click()
    # Then her header and the viewer's (live) both show it, with the next move offered
    expect(bar).to_have_attribute("data-state", "acknowledged")
    expect(bar.get_by_role("button", name="Mark contained")).to_be_visible()
    expect(viewer_bar).to_have_attribute("data-state", "acknowledged")
    expect(viewer_bar).to_contain_text("Acknowledged")


def test_the_state_bar_speaks_traditional_chinese(open_session, people, make_room):
    # Given a person whose browser asks for zh-TW
    alice = people("Alice")
    room = make_room(alice)
    a = open_session(alice, locale="zh-TW")
    a.open_room(room)
    # Then the state bar is in Traditional Chinese
    bar = a.page.get_by_role("group", name="事故狀態")
    expect(bar).to_contain_text("已通報")
    expect(bar.get_by_role("button", name="確認")).to_be_visible()


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_a_message_is_pinned_and_its_event_time_edited(open_session, people, make_room, viewport):
    # Given a room with a message about the leak
    alice = people("Alice")
    room = make_room(alice)
    a = open_session(alice, viewport=viewport)
    a.open_room(room)
    box = a.page.get_by_role("textbox", name="Message")
    box.fill("Oil on the floor under press 4")
    box.press("Enter")
    message = a.message("Oil on the floor under press 4")
    expect(message).to_have_attribute("data-status", "sent")
    # When Alice pins it from its actions
    message.hover()
    message.click()
    message.get_by_role("button", name="Pin to the timeline").click()
    expect(a.page.get_by_role("alert").filter(has_text="Pinned to the timeline")).to_be_visible()
    # Then the Timeline panel lists it after the declaration
    _tool(a.page, viewport, "Timeline")
    dialog = a.page.get_by_role("dialog", name="Timeline")
    entries = dialog.locator(".timeline-entry")
    expect(entries).to_have_count(2)
    expect(entries.nth(0)).to_have_attribute("data-kind", "milestone")
    expect(entries.nth(1)).to_contain_text("Oil on the floor under press 4")
    # When she backfills when it really happened: an hour before the declaration
    entries.nth(1).get_by_role("button", name="Edit time").click()
    field = dialog.get_by_label("When it happened (GMT+8)")
    earlier = a.page.evaluate(
        "(v) => { const d = new Date(new Date(v + ':00+08:00').getTime() - 3600e3 + 8 * 3600e3);"
        " return d.toISOString().slice(0, 16); }",
        field.input_value(),
    )
    field.fill(earlier)
    dialog.get_by_role("button", name="Save").click()
    # Then the pin moves before the declaration, shown at that time, with its recording time kept
    expect(entries.nth(0)).to_have_attribute("data-kind", "pin")
    expect(entries.nth(0).locator("time")).to_contain_text(earlier.replace("T", " "))
    expect(entries.nth(0)).to_contain_text("recorded")


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_follow_ups_are_added_flagged_when_overdue_and_closed(
    open_session, people, make_room, viewport
):
    # Given an incident with Alice and Bob
    alice, bob = people("Alice"), people("Bob")
    room = make_room(alice, bob)
    a = open_session(alice, viewport=viewport)
    a.open_room(room)
    # When Alice adds a follow-up for Bob that was due yesterday
    _tool(a.page, viewport, "Follow-ups")
    dialog = a.page.get_by_role("dialog", name="Follow-ups")
    expect(dialog).to_contain_text("No follow-ups yet.")
    dialog.get_by_label("Action").fill("Replace the hydraulic seal kit")
    dialog.get_by_label("Owner").select_option(label=bob.display_name)
    dialog.get_by_label("Due").fill((date.today() - timedelta(days=1)).isoformat())
    dialog.get_by_role("button", name="Add follow-up").click()
    # Then it is listed for Bob, flagged overdue
    item = dialog.locator(".follow-up", has_text="Replace the hydraulic seal kit")
    expect(item).to_contain_text(bob.display_name)
    expect(item.locator(".overdue-badge")).to_have_text("Overdue")
    # When it is given back to Alice and due next week, it is no longer overdue
    item.get_by_label("Owner of Replace the hydraulic seal kit").select_option(
        label=alice.display_name
    )
    expect(item.locator(".follow-up-meta")).to_contain_text(alice.display_name)
    item.get_by_label("Due date of Replace the hydraulic seal kit").fill(
        (date.today() + timedelta(days=7)).isoformat()
    )
    expect(item.locator(".overdue-badge")).to_have_count(0)
    # When it is marked done, it is done
    item.get_by_label("Status of Replace the hydraulic seal kit").select_option("done")
    expect(item).to_have_attribute("data-status", "done")
    expect(item.locator(".overdue-badge")).to_have_count(0)


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_the_metrics_page_charts_a_lines_weeks(open_session, people, local_stack, viewport):
    # Given a line with an incident acknowledged and resolved
    alice = people("Alice")
    line = local_stack.request(
        "POST", "/api/lines", alice.token, {"name": f"Line {uuid.uuid4().hex[:4]}"}
    ).body
    room = local_stack.request(
        "POST", "/api/rooms", alice.token, {"title": "Stamping jam", "line_id": line["line_id"]}
    ).body
    for state in ("acknowledged", "contained", "resolved"):
        moved = local_stack.request(
            "POST", f"/api/rooms/{room['room_id']}/state", alice.token, {"state": state}
        )
        assert moved.status == 200, moved.text
    a = open_session(alice, viewport=viewport)
    a.open_room_list()
    # When Alice opens Metrics from the room list and picks the line
    a.page.get_by_role("link", name="Metrics").click()
    expect(a.page.get_by_role("heading", name="Response metrics")).to_be_visible()
    a.page.get_by_label("Line").select_option(label=line["name"])
    # Then one week is charted (uPlot draws it) and tabled with one incident
    chart = a.page.get_by_role("img", name="MTTA and MTTR by week")
    expect(chart).to_have_attribute("data-weeks", "1")
    expect(chart.locator("canvas")).to_have_count(1)
    rows = a.page.locator(".metrics-table tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first.locator("td").nth(1)).to_have_text(line["name"])
    expect(rows.first.locator("td").nth(2)).to_have_text("1")


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_the_8d_preview_switches_language_and_downloads_the_pdf(
    open_session, people, make_room, viewport
):
    # Given an incident
    alice = people("Alice")
    room = make_room(alice)
    a = open_session(alice, viewport=viewport)
    a.open_room(room)
    # When Alice opens the 8D report
    _tool(a.page, viewport, "8D")
    dialog = a.page.get_by_role("dialog", name="8D report")
    preview = dialog.get_by_role("article", name="8D report preview")
    # Then it is in English, with its disciplines
    expect(preview.get_by_role("heading", name="D1 Team")).to_be_visible()
    # When she switches it to Traditional Chinese, the headings are Chinese
    dialog.get_by_label("Report language").select_option("zh-TW")
    expect(preview.get_by_role("heading", name="D1 團隊")).to_be_visible()
    # And the PDF downloads
    with a.page.expect_download() as download_info:
        dialog.get_by_role("button", name="Download PDF").click()
    download = download_info.value
    assert download.suggested_filename.endswith("-zh-TW.pdf")
    with open(download.path(), "rb") as pdf:
        assert pdf.read(5) == b"%PDF-"


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_command_is_handed_over_from_the_member_list(open_session, people, make_room, viewport):
    # Given Alice commanding an incident with Bob as an editor
    alice, bob = people("Alice"), people("Bob")
    room = make_room(alice, bob)
    a = open_session(alice, viewport=viewport)
    a.open_room(room)
    _tool(a.page, viewport, "Members", exact=False)  # "Members 2"
    dialog = a.page.get_by_role("dialog", name="Members")
    alice_row = dialog.locator("li", has_text=alice.display_name)
    expect(alice_row.locator(".commander-badge")).to_have_text("Commander")
    # When she hands command to Bob
    dialog.get_by_role("button", name=f"Hand command to {bob.display_name}").click()
    # Then the member list tags Bob, and the header names him (the phone shows it in Members)
    bob_row = dialog.locator("li", has_text=bob.display_name)
    expect(bob_row.locator(".commander-badge")).to_have_text("Commander")
    expect(alice_row.locator(".commander-badge")).to_have_count(0)
    if viewport == DESKTOP:
        a.page.keyboard.press("Escape")
        bar = a.page.get_by_role("group", name="Incident state")
        expect(bar).to_contain_text(f"Commander: {bob.display_name}")


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_an_incident_is_declared_on_a_line_with_its_stop_reason_in_chinese(
    open_session, people, local_stack, viewport
):
    # Given a line with its own stop reasons
    alice = people("Alice")
    tag = uuid.uuid4().hex[:4]  # every test's lines are listed: the label must be its own
    line = local_stack.request(
        "POST",
        "/api/lines",
        alice.token,
        {
            "name": f"L-{tag}",
            "label_zh": f"沖壓線 {tag}",
            "label_en": "Stamping",
            "stop_reasons": [{"code": "die", "zh-TW": "模具損壞", "en": "Die damage"}],
        },
    ).body
    a = open_session(alice, viewport=viewport, locale="zh-TW")
    a.page.goto(f"{a.base_url}/#/")
    a.wait_live()
    # When Alice, reading Chinese, declares an incident on that line
    a.page.get_by_role("button", name="新增房間").click()
    dialog = a.page.get_by_role("dialog", name="新增戰情室")
    expect(dialog.get_by_label("產線")).to_be_visible()  # the lines have loaded
    dialog.get_by_label("標題").fill("沖壓模具裂開")
    dialog.get_by_label("產線").select_option(label=f"沖壓線 {tag}")
    dialog.get_by_label("機台").fill("PRESS-9")
    dialog.get_by_label("停機原因").select_option(label="模具損壞")
    dialog.locator("button[type=submit]").click()
    # Then the room opens declared, on the line, with the machine and stop reason
    expect(a.page.get_by_role("group", name="事故狀態")).to_contain_text("已通報")
    rooms = local_stack.request("GET", f"/api/rooms?line_id={line['line_id']}", alice.token).body[
        "rooms"
    ]
    assert [(r["title"], r["machine"], r["stop_reason"]) for r in rooms] == [
        ("沖壓模具裂開", "PRESS-9", "die")
    ]


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_production_impact_sets_the_downtime_shown_with_the_response_times(
    open_session, people, make_room, local_stack, viewport
):
    # Given an acknowledged incident
    alice = people("Alice")
    room = make_room(alice)
    local_stack.request(
        "POST", f"/api/rooms/{room.room_id}/state", alice.token, {"state": "acknowledged"}
    )
    a = open_session(alice, viewport=viewport)
    a.open_room(room)
    # When Alice opens the production impact
    _tool(a.page, viewport, "Impact")
    dialog = a.page.get_by_role("dialog", name="Production impact")
    # Then the time to acknowledge is measured and the later ones are not yet
    expect(dialog.locator('[data-metric="tta"]')).not_to_have_text("—")
    expect(dialog.locator('[data-metric="ttr"]')).to_have_text("—")
    # When she records a 90-minute stop
    dialog.get_by_label("Downtime start (GMT+8; empty = declared)").fill("2026-03-02T08:00")
    dialog.get_by_label("Downtime end (GMT+8; empty = resolved)").fill("2026-03-02T09:30")
    dialog.get_by_role("button", name="Save").click()
    # Then the downtime is 90 minutes, here and on the server
    expect(dialog.locator('[data-metric="downtime"]')).to_have_text("90")
    stored = local_stack.request("GET", f"/api/rooms/{room.room_id}", alice.token).body
    assert stored["downtime_start"].startswith("2026-03-02T00:00:00")
