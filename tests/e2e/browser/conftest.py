"""Real headless Chromium (Debian's /usr/bin/chromium, driven by Playwright) against the
running local stack, which serves the built client from web/dist.

Build the client first (`npm --prefix web run build`); a missing build fails loudly.
Every test makes its own people and room, so tests do not see each other's messages.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, expect, sync_playwright

from tests.e2e.conftest import LocalStack

ROOT = Path(__file__).resolve().parents[3]
CHROMIUM = os.environ.get("WARROOM_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
]
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}

# Auto-waiting assertions get a little longer than Playwright's 5 s default: the
# stack runs the real handlers, and CI machines have two cores.
expect.set_options(timeout=10_000)


@pytest.fixture(scope="session")
def built_client() -> Path:
    index = ROOT / "web" / "dist" / "index.html"
    if not index.exists():
        pytest.fail(
            "web/dist is missing: run `npm --prefix web ci && npm --prefix web run build` first"
        )
    return index


@pytest.fixture(scope="session")
def playwright_instance() -> Iterator[Playwright]:
    with sync_playwright() as pw:
        yield pw


@pytest.fixture(scope="session")
def browser(playwright_instance: Playwright, built_client: Path) -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"no Chromium at {CHROMIUM}: `make chromium` installs Debian's")
    browser = playwright_instance.chromium.launch(
        executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
    )
    yield browser
    browser.close()


@dataclass
class Person:
    user_id: str
    display_name: str
    token: str


@dataclass
class Room:
    room_id: str
    title: str


@pytest.fixture
def people(local_stack: LocalStack) -> Callable[..., Person]:
    """Fresh people with unique ids and readable names ("Alice 1a2b")."""

    def make(first_name: str, display_name: str | None = None) -> Person:
        tag = uuid.uuid4().hex[:4]
        user_id = f"{first_name.lower()}-{tag}@factory.example"
        display_name = display_name or f"{first_name} {tag}"
        return Person(user_id, display_name, local_stack.login(user_id, display_name))

    return make


@pytest.fixture
def make_room(local_stack: LocalStack) -> Callable[..., Room]:
    def make(
        owner: Person, *members: Person, title: str | None = None, role: str = "EDITOR"
    ) -> Room:
        title = title or f"Press {uuid.uuid4().hex[:4]} hydraulic leak"
        created = local_stack.request(
            "POST",
            "/api/rooms",
            owner.token,
            {
                "title": title,
                "severity": "high",
                "location": "Plant B / Line 1",
                "lots": ["LOT-77"],
            },
        )
        assert created.status in (200, 201), created.text
        room_id = created.body["room_id"]
        for member in members:
            added = local_stack.request(
                "POST",
                f"/api/rooms/{room_id}/members",
                owner.token,
                {"user_id": member.user_id, "role": role},
            )
            assert added.status in (200, 201), added.text
        return Room(room_id, title)

    return make


@pytest.fixture
def send_as(local_stack: LocalStack) -> Callable[..., dict[str, Any]]:
    """Send messages over a real WebSocket as someone not in a browser; returns the last ack.

    `content` may be a list to send several through one connection, each after the
    previous one's ack; `message_type` applies to all of them.
    """

    def send(
        person: Person,
        room: Room,
        content: str | dict[str, Any] | list[Any],
        mentions: list[str] | None = None,
        message_type: str = "text",
    ) -> dict[str, Any]:
        contents = content if isinstance(content, list) else [content]
        ack: dict[str, Any] = {}
        with local_stack.connect(person.token, room.room_id) as ws:
            for item in contents:
                client_msg_id = str(uuid.uuid4())
                ws.send(
                    json.dumps(
                        {
                            "type": "message",
                            "client_msg_id": client_msg_id,
                            "message_type": message_type,
                            "content": item,
                            "mentions": mentions or [],
                        }
                    )
                )
                while True:
                    frame = json.loads(ws.recv(timeout=10))
                    if frame.get("type") == "ack" and frame.get("client_msg_id") == client_msg_id:
                        ack = frame
                        break
                    if frame.get("type") == "error":
                        raise AssertionError(frame)
        return ack

    return send


@pytest.fixture
def act_as(local_stack: LocalStack) -> Callable[..., list[dict[str, Any]]]:
    """Send any frames over a real WebSocket as someone not in a browser, waiting for
    each to be answered (its ack, or the room's frame for an edit/delete/reaction)."""

    answers = {
        "message": "ack",
        "edit_message": "message_edited",
        "delete_message": "message_deleted",
        "add_reaction": "reaction_updated",
        "remove_reaction": "reaction_updated",
    }

    def act(person: Person, room: Room, *frames: dict[str, Any]) -> list[dict[str, Any]]:
        replies: list[dict[str, Any]] = []
        with local_stack.connect(person.token, room.room_id) as ws:
            for frame in frames:
                ws.send(json.dumps(frame))
                want = answers[frame["type"]]
                while True:
                    reply = json.loads(ws.recv(timeout=10))
                    if reply.get("type") == "error":
                        raise AssertionError(reply)
                    if reply.get("type") == want:
                        replies.append(reply)
                        break
        return replies

    return act


# Tab in a modal <dialog> never reaches the inert page behind it; past the last control
# the browser may hand focus to its own UI for one stop (the document then has no focused
# element, activeElement is <body>) before wrapping to the dialog's first control.
FOCUS_NOT_BEHIND_DIALOG = (
    "() => !document.activeElement || document.activeElement === document.body"
    " || !!document.activeElement.closest('dialog[open]')"
)


def wait_until(check: Callable[[], Any], timeout_s: float = 10.0, what: str = "condition") -> Any:
    """Poll a server-side fact until it holds (a wait, not a timing assertion)."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


class Session:
    """One person's browser context and page."""

    def __init__(self, context: BrowserContext, page: Page, person: Person, base_url: str) -> None:
        self.context, self.page, self.person, self.base_url = context, page, person, base_url
        self.dialogs: list[str] = []
        # Frames the client refused on arrival (parseServerFrame): the server sent
        # something its own schema does not allow.
        self.refused_frames: list[str] = []
        page.on("dialog", self._on_dialog)
        page.on("console", self._on_console)

    def _on_console(self, message: Any) -> None:
        if message.text.startswith("warroom: ignored frame"):
            self.refused_frames.append(message.text)

    def _on_dialog(self, dialog: Any) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def open_room(self, room: Room) -> Page:
        self.page.goto(f"{self.base_url}/#/rooms/{room.room_id}")
        expect(self.page.get_by_role("heading", level=1, name=room.title)).to_be_visible()
        self.wait_live()
        return self.page

    def open_room_list(self) -> Page:
        self.page.goto(f"{self.base_url}/#/")
        expect(self.page.get_by_role("heading", name="War rooms")).to_be_visible()
        self.wait_live()
        return self.page

    def wait_live(self) -> None:
        """The page's socket is open and resumed (the banner says nothing)."""
        expect(self.page.locator(".conn-banner")).to_have_attribute("data-live", "true")

    def message(self, text: str) -> Any:
        return self.page.locator("article.msg", has_text=text)


@pytest.fixture
def open_session(browser: Browser, local_stack: LocalStack) -> Iterator[Callable[..., Session]]:
    contexts: list[BrowserContext] = []
    sessions: list[Session] = []

    def open_(
        person: Person,
        *,
        viewport: dict[str, int] | None = None,
        permissions: list[str] | None = None,
        init_scripts: list[str] | None = None,
        sign_in: bool = True,
        bypass_csp: bool = False,
        locale: str = "en-US",
    ) -> Session:
        context = browser.new_context(
            locale=locale,
            # bypass_csp only for tests that poll with wait_for_function (it evals)
            bypass_csp=bypass_csp,
            viewport=viewport or DESKTOP,
            base_url=local_stack.base_url,
            accept_downloads=True,
            timezone_id="America/New_York",  # times must still show in GMT+8
        )
        contexts.append(context)
        if permissions:
            context.grant_permissions(permissions, origin=local_stack.base_url)
        if sign_in:
            # The same shortcut a reload takes: the dev identity (not a token) in
            # sessionStorage makes the app sign in through /api/dev/login.
            identity = json.dumps({"user_id": person.user_id, "display_name": person.display_name})
            context.add_init_script(
                f"if (!sessionStorage.getItem('warroom.devIdentity')) sessionStorage.setItem('warroom.devIdentity', {json.dumps(identity)});"
            )
        if not permissions or "notifications" not in permissions:
            # Answer the first-visit prompt in advance so it does not cover the page.
            context.add_init_script("localStorage.setItem('warroom.notifyAsked', 'dismissed');")
        for script in init_scripts or []:
            context.add_init_script(script)
        page = context.new_page()
        session = Session(context, page, person, local_stack.base_url)
        sessions.append(session)
        return session

    yield open_
    for context in contexts:
        context.close()
    # Every frame the server sent fitted the schema the client checks it against.
    assert [text for session in sessions for text in session.refused_frames] == []
