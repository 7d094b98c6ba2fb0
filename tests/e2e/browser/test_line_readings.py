"""The line simulator (issue 18) in a real browser: the stack started with
`--simulate-line`, as `make dev SIMULATE=1` starts it, opens an incident by itself, and
the chart in that room moves with the simulator's readings."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from local.harness import start_stack
from local.simulate_line import ALARM_TAG, DEMO_OWNER
from tests.e2e.browser.conftest import DESKTOP, wait_until
from tests.e2e.conftest import LocalStack

pytestmark = [pytest.mark.e2e, pytest.mark.browser]


@pytest.fixture(scope="module")
def simulated_stack(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[LocalStack, str]]:
    running = start_stack(
        tmp_path_factory.mktemp("simulated"),
        database_url,
        "--simulate-line",
        "--simulate-cycle",
        "3600",  # one crossing, at the start
        "--no-demo",
        # It shares the session's database with `local_stack`: no sweep of its own.
        "--sweep-interval",
        "3600",
    )
    stack = LocalStack(running.base_url, running.process, running.moto_url, running.log)
    (line_id,) = [
        m.group(1) for m in (re.match(r"WARROOM_SIMULATOR line=(\S+)", x) for x in running.log) if m
    ]
    yield stack, line_id
    running.stop()


def test_the_chart_in_the_alarm_room_moves_with_the_simulator(
    simulated_stack: tuple[LocalStack, str], browser: Browser, built_client: Path
) -> None:
    stack, line_id = simulated_stack
    owner_id, owner_name = DEMO_OWNER
    token = stack.login(owner_id, owner_name)
    # Given the simulator crossing the oven's rule, Then an incident opens by itself
    rooms = wait_until(
        lambda: stack.request("GET", f"/api/rooms?line_id={line_id}", token).body["rooms"],
        timeout_s=40,
        what="the alarm's incident room",
    )
    room = rooms[0]
    assert room["title"] == "Oven zone 1 over temperature"
    # When the line's owner opens the room's readings in a browser
    context = browser.new_context(viewport=DESKTOP, base_url=stack.base_url, locale="en-US")
    identity = json.dumps({"user_id": owner_id, "display_name": owner_name})
    context.add_init_script(
        f"sessionStorage.setItem('warroom.devIdentity', {json.dumps(identity)});"
        "localStorage.setItem('warroom.notifyAsked', 'dismissed');"
    )
    page = context.new_page()
    try:
        page.goto(f"{stack.base_url}/#/rooms/{room['room_id']}")
        expect(page.get_by_role("heading", level=1, name=room["title"])).to_be_visible()
        expect(page.locator(".conn-banner")).to_have_attribute("data-live", "true")
        page.get_by_role("button", name="Readings").first.click()
        # Then the oven's zone 1 is charted as a machine's readings
        chart = page.locator(f'figure.machine-chart[data-tag="{ALARM_TAG}"]')
        expect(chart).to_be_visible(timeout=15_000)
        expect(chart.locator(".origin-badge").first).to_have_text("Machine")
        # And the chart gains points as the simulator's readings arrive over the socket
        before = int(chart.get_attribute("data-points") or "0")
        expect(chart).not_to_have_attribute("data-points", str(before), timeout=15_000)
        after = int(chart.get_attribute("data-points") or "0")
        assert after > before
        # And the press's uncertain points are counted apart (drawn as rings)
        pressure = page.locator('figure.machine-chart[data-tag="pressure"]')
        expect(pressure).to_be_visible()
    finally:
        context.close()
