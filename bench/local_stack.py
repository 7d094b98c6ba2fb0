"""Through the local stack, with real WebSocket clients: sender → all-receivers latency
and sustained throughput with 50 members connected, and each handler's cold import time.

The local stack runs every handler in one process beside moto, so these figures measure
this machine and that emulation, not Lambda; they are for comparing changes.

Run: `make bench` (or `.venv/bin/python -m bench.local_stack`).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
import warnings
from pathlib import Path
from typing import Any

from websockets.sync.client import ClientConnection, connect

from bench.common import percentile, scratch_database
from local.harness import RunningStack, start_stack

warnings.filterwarnings("ignore", message="connect\\(\\) must be used as a context manager")

HANDLERS = [
    "functions.connect.handler",
    "functions.connect.authorizer",
    "functions.message.handler",
    "functions.history.handler",
]


def _request(
    stack: RunningStack, method: str, path: str, token: str | None = None, body: Any = None
) -> Any:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(stack.base_url + path, data=data, method=method)
    req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(req, timeout=30) as resp:
        return json.loads(resp.read() or b"null")


def _room_with_members(stack: RunningStack, members: int) -> tuple[str, list[str]]:
    owner = _request(
        stack,
        "POST",
        "/api/dev/login",
        body={"user_id": "bench-owner@bench.example", "display_name": "Owner"},
    )["token"]
    room = _request(stack, "POST", "/api/rooms", owner, {"title": "bench room"})["room_id"]
    tokens = [owner]
    for i in range(members - 1):
        user_id = f"m{i}-{uuid.uuid4().hex[:5]}@bench.example"
        tokens.append(
            _request(
                stack, "POST", "/api/dev/login", body={"user_id": user_id, "display_name": f"M{i}"}
            )["token"]
        )
        _request(
            stack,
            "POST",
            f"/api/rooms/{room}/members",
            owner,
            {"user_id": user_id, "role": "EDITOR"},
        )
    return room, tokens


class Receiver(threading.Thread):
    """Records when each message (by client_msg_id) arrives."""

    def __init__(self, ws: ClientConnection) -> None:
        super().__init__(daemon=True)
        self.ws = ws
        self.arrivals: dict[str, float] = {}
        self.acks: dict[str, float] = {}
        self.running = True

    def run(self) -> None:
        while self.running:
            try:
                frame = json.loads(self.ws.recv(timeout=0.5))
            except TimeoutError:
                continue
            except Exception:
                return
            now = time.perf_counter()
            if frame.get("type") == "message":
                self.arrivals[str(frame["message"].get("client_msg_id"))] = now
            elif frame.get("type") == "ack":
                self.acks[str(frame["client_msg_id"])] = now


def latency(stack: RunningStack, room: str, tokens: list[str], messages: int) -> None:
    sockets = [connect(stack.ws_url + f"?token={t}&room_id={room}", max_size=2**21) for t in tokens]
    receivers = [Receiver(ws) for ws in sockets]
    for r in receivers:
        r.start()
    sender = sockets[0]
    spread: list[float] = []
    first: list[float] = []
    for n in range(messages):
        client_msg_id = str(uuid.uuid4())
        started = time.perf_counter()
        sender.send(
            json.dumps(
                {"type": "message", "client_msg_id": client_msg_id, "content": f"latency probe {n}"}
            )
        )
        deadline = started + 10
        while time.perf_counter() < deadline and not all(
            client_msg_id in r.arrivals for r in receivers
        ):
            time.sleep(0.001)
        arrivals = [r.arrivals[client_msg_id] for r in receivers if client_msg_id in r.arrivals]
        if len(arrivals) == len(receivers):
            spread.append(max(arrivals) - started)
            first.append(min(arrivals) - started)
        time.sleep(0.02)
    lost = messages - len(spread)
    print(
        f"latency, 1 sender → {len(receivers)} receivers, {messages} messages: "
        f"last receiver p50 {percentile(spread, 50) * 1000:.1f} ms  p99 {percentile(spread, 99) * 1000:.1f} ms; "
        f"first receiver p50 {percentile(first, 50) * 1000:.1f} ms; incomplete deliveries {lost}"
    )
    throughput(receivers, sockets, seconds=10.0, senders=10)
    for r in receivers:
        r.running = False
    for ws in sockets:
        ws.close()


def throughput(
    receivers: list[Receiver], sockets: list[ClientConnection], *, seconds: float, senders: int
) -> None:
    """Closed loop: each sender sends its next message when the last one is acked."""
    sent: list[str] = []
    lock = threading.Lock()
    stop_at = time.perf_counter() + seconds

    def run(index: int) -> None:
        ws, receiver = sockets[index], receivers[index]
        while time.perf_counter() < stop_at:
            client_msg_id = str(uuid.uuid4())
            ws.send(
                json.dumps({"type": "message", "client_msg_id": client_msg_id, "content": "load"})
            )
            deadline = time.perf_counter() + 10
            while client_msg_id not in receiver.acks and time.perf_counter() < deadline:
                time.sleep(0.001)
            with lock:
                sent.append(client_msg_id)

    started = time.perf_counter()
    threads = [threading.Thread(target=run, args=(i,)) for i in range(senders)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    time.sleep(5)  # let the last fan-out land
    delivered = sum(1 for m in sent if all(m in r.arrivals for r in receivers))
    print(
        f"sustained, {senders} senders → {len(receivers)} receivers for {elapsed:.1f} s: "
        f"{len(sent) / elapsed:.1f} messages/s accepted, {delivered * len(receivers) / elapsed:.0f} deliveries/s, "
        f"{len(sent) - delivered} not delivered to everyone"
    )


def cold_imports(repeats: int = 5) -> None:
    print(f"cold import of each handler (fresh interpreter, median of {repeats}):")
    for module in HANDLERS:
        code = (
            f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
        )
        runs = []
        for _ in range(repeats):
            out = subprocess.run(
                [sys.executable, "-c", code],
                capture_output=True,
                text=True,
                check=True,
                env={"POWERTOOLS_TRACE_DISABLED": "true", "PATH": ""},
            )
            runs.append(float(out.stdout.strip().splitlines()[-1]))
        print(f"  {module:32s} {statistics.median(runs) * 1000:7.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--members", type=int, default=50)
    parser.add_argument("--messages", type=int, default=100)
    args = parser.parse_args()
    print(f"== local stack, {args.members} members connected ==")
    with scratch_database("warroom_bench_stack") as url, tempfile.TemporaryDirectory() as tmp:
        stack = start_stack(Path(tmp), url, "--no-demo", pool=(10, 40))
        try:
            room, tokens = _room_with_members(stack, args.members)
            latency(stack, room, tokens, args.messages)
            failed = sum("failed" in line for line in stack.log)
            print(f"posts the gateway refused or dropped (from its log): {failed}")
        finally:
            stack.stop()
    cold_imports()


if __name__ == "__main__":
    main()
