"""The running local stack, started once per test session in a subprocess, exactly as
`make dev` starts it (on a free port, on this session's fresh test database)."""

from __future__ import annotations

import json
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from websockets.sync.client import ClientConnection, connect

from local.harness import start_stack

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class HttpResult:
    status: int
    body: Any
    headers: dict[str, str]
    text: str


@dataclass
class LocalStack:
    base_url: str
    process: subprocess.Popen[str]
    moto_url: str
    log: list[str] = field(default_factory=list)

    @property
    def ws_url(self) -> str:
        return self.base_url.replace("http", "ws", 1) + "/ws"

    def request(
        self,
        method: str,
        path: str,
        token: str | None = None,
        body: Any = None,
        raw: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> HttpResult:
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        req = urllib.request.Request(self.base_url + path, data=data, method=method)
        if data is not None and raw is None:
            req.add_header("Content-Type", "application/json")
        if token:
            req.add_header("Authorization", f"Bearer {token}")
        for k, v in (headers or {}).items():
            req.add_header(k, v)
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                status, payload, hdrs = resp.status, resp.read(), dict(resp.headers)
        except urllib.error.HTTPError as err:
            status, payload, hdrs = err.code, err.read(), dict(err.headers)
        text = payload.decode("utf-8", "replace")
        try:
            parsed = json.loads(text) if text else None
        except json.JSONDecodeError:
            parsed = None
        return HttpResult(status, parsed, hdrs, text)

    def login(self, user_id: str, display_name: str | None = None) -> str:
        result = self.request(
            "POST",
            "/api/dev/login",
            body={
                "user_id": user_id,
                "display_name": display_name or user_id.split("@")[0].title(),
            },
        )
        assert result.status == 200, result.text
        return str(result.body["token"])

    def connect(self, token: str, room_id: Any | None = None, **kwargs: Any) -> ClientConnection:
        query = f"?token={token}" + (f"&room_id={room_id}" if room_id else "")
        return connect(self.ws_url + query, open_timeout=15, max_size=2**21, **kwargs)


def _start_stack(tmp: Path, database_url: str, *extra: str) -> LocalStack:
    running = start_stack(tmp, database_url, *extra)
    return LocalStack(running.base_url, running.process, running.moto_url, running.log)


def _stop(stack: LocalStack) -> None:
    stack.process.terminate()
    try:
        stack.process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        stack.process.kill()


@pytest.fixture(scope="session")
def local_stack(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LocalStack]:
    stack = _start_stack(tmp_path_factory.mktemp("stack"), database_url)
    yield stack
    _stop(stack)


@pytest.fixture(scope="session")
def impatient_stack(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LocalStack]:
    """The same stack with short heartbeat, idle and connection timeouts, to watch them act."""
    stack = _start_stack(
        tmp_path_factory.mktemp("impatient"),
        database_url,
        "--ping-interval",
        "0.5",
        "--pong-timeout",
        "0.5",
        "--idle-timeout",
        "3",
        "--max-connection-seconds",
        "6",
        "--sweep-interval",
        "3600",
        "--no-demo",
    )
    yield stack
    _stop(stack)


@dataclass
class Person:
    user_id: str
    token: str
    display_name: str


@pytest.fixture
def person(local_stack: LocalStack) -> Callable[..., Person]:
    def factory(name: str = "user") -> Person:
        user_id = f"{name}-{uuid.uuid4().hex[:8]}@factory.example"
        display = name.title()
        return Person(user_id, local_stack.login(user_id, display), display)

    return factory


@pytest.fixture
def incident(local_stack: LocalStack, person: Callable[..., Person]) -> dict[str, Any]:
    """A fresh room with an owner, an editor and a viewer."""
    owner, editor, viewer = person("owner"), person("editor"), person("viewer")
    created = local_stack.request(
        "POST",
        "/api/rooms",
        owner.token,
        {
            "title": "Press 4 hydraulic leak",
            "severity": "high",
            "location": "Plant B / Line 1",
            "lots": ["LOT-77"],
        },
    )
    assert created.status == 201, created.text
    room_id = created.body["room_id"]
    for member, role in ((editor, "EDITOR"), (viewer, "VIEWER")):
        added = local_stack.request(
            "POST",
            f"/api/rooms/{room_id}/members",
            owner.token,
            {"user_id": member.user_id, "role": role},
        )
        assert added.status == 201, added.text
    return {"room_id": room_id, "owner": owner, "editor": editor, "viewer": viewer}


def frames_until(
    ws: ClientConnection, predicate: Callable[[dict[str, Any]], bool], timeout: float = 10.0
) -> list[dict[str, Any]]:
    """Read frames until one matches; return all read, the match last."""
    seen: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise AssertionError(f"no matching frame within {timeout}s; saw {seen}")
        frame = json.loads(ws.recv(timeout=remaining))
        seen.append(frame)
        if predicate(frame):
            return seen


def of_type(kind: str, **fields: Any) -> Callable[[dict[str, Any]], bool]:
    return lambda f: f.get("type") == kind and all(f.get(k) == v for k, v in fields.items())
