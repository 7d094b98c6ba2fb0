"""Start and stop the local stack as a child process (used by the end-to-end tests and
the benchmarks), exactly as `make dev` runs it but on a free port."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class RunningStack:
    base_url: str
    moto_url: str
    process: subprocess.Popen[str]
    log: list[str] = field(default_factory=list)

    @property
    def ws_url(self) -> str:
        return self.base_url.replace("http", "ws", 1) + "/ws"

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()


def start_stack(
    data_dir: Path, database_url: str, *extra: str, pool: tuple[int, int] = (4, 26)
) -> RunningStack:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "DB_POOL_SIZE": str(pool[0]),
        "DB_MAX_OVERFLOW": str(pool[1]),
        "PYTHONUNBUFFERED": "1",
    }
    command = [
        sys.executable,
        "-m",
        "local.stack",
        "--port",
        "0",
        "--data-dir",
        str(data_dir),
        "--web-dir",
        str(ROOT / "web" / "dist"),
        *extra,
    ]
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    assert process.stdout is not None
    log: list[str] = []
    base_url = moto_url = None
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            if process.poll() is not None:
                break
            continue
        log.append(line)
        if line.startswith("WARROOM_MOTO "):
            moto_url = line.split()[1]
        if line.startswith("WARROOM_READY "):
            base_url = line.split()[1]
            break
    if base_url is None or moto_url is None:
        process.kill()
        raise RuntimeError("the local stack did not start:\n" + "".join(log))

    def drain() -> None:  # keep reading so the child never blocks on a full pipe
        for line in process.stdout or []:
            log.append(line)

    threading.Thread(target=drain, daemon=True).start()
    return RunningStack(base_url, moto_url, process, log)
