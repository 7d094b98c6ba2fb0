"""Cold import of each Lambda handler: a fresh interpreter importing the handler module,
as a Lambda cold start does before its first event (median of several), with the
largest imported packages from `python -X importtime`.

The environment is Lambda's with tracing on (the X-Ray SDK must still not load at
import). Bytecode is already compiled here (`__pycache__`), as in a layer built with
`.pyc` files. Target: ≤ 250 ms each on an idle machine.

Run: `make bench` (or `.venv/bin/python -m bench.cold_start`).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
from collections import defaultdict

HANDLERS = [
    "functions.connect.authorizer",
    "functions.connect.handler",
    "functions.message.handler",
    "functions.history.handler",
]
TARGET_MS = 250.0
LAMBDA_ENV = {
    "PATH": "",
    "LAMBDA_TASK_ROOT": "/var/task",
    "AWS_LAMBDA_FUNCTION_NAME": "bench",
    "AWS_REGION": "eu-west-1",
}


def import_seconds(module: str) -> tuple[float, float]:
    """(wall, CPU) seconds of one cold import. On a busy machine the wall time includes
    waiting for a CPU; the CPU time is what the import costs (close to an idle wall)."""
    code = (
        "import time; w, c = time.perf_counter(), time.process_time()\n"
        f"import {module}\n"
        "print(time.perf_counter() - w, time.process_time() - c)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=LAMBDA_ENV
    )
    wall, cpu = out.stdout.strip().splitlines()[-1].split()
    return float(wall), float(cpu)


def largest_packages(module: str, top: int = 4) -> list[tuple[str, float]]:
    """Top-level packages by the time their imports took (self time summed)."""
    out = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", f"import {module}"],
        capture_output=True,
        text=True,
        check=True,
        env=LAMBDA_ENV,
    )
    by_package: dict[str, float] = defaultdict(float)
    for line in out.stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        self_us, _, name = (part.strip() for part in line.removeprefix("import time:").split("|"))
        by_package[name.split(".")[0]] += int(self_us) / 1000
    return sorted(by_package.items(), key=lambda item: -item[1])[:top]


def run(repeats: int) -> dict[str, tuple[float, float]]:
    """Median wall and CPU milliseconds per handler."""
    medians: dict[str, tuple[float, float]] = {}
    for module in HANDLERS:
        runs = [import_seconds(module) for _ in range(repeats)]
        medians[module] = (
            statistics.median(w for w, _ in runs) * 1000,
            statistics.median(c for _, c in runs) * 1000,
        )
    return medians


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    load = os.getloadavg()[0]
    print(
        f"== cold import of each handler: fresh interpreter, median of {args.repeats} "
        f"(load average {load:.1f} on {os.cpu_count()} CPUs) =="
    )
    for module, (wall, cpu) in run(args.repeats).items():
        verdict = "met" if wall <= TARGET_MS else "CPU " + ("met" if cpu <= TARGET_MS else "over")
        parts = ", ".join(f"{name} {ms:.0f}" for name, ms in largest_packages(module))
        print(
            f"  {module:30s} wall {wall:6.1f} ms  CPU {cpu:6.1f} ms  (≤ {TARGET_MS:.0f}: "
            f"{verdict})  largest (ms): {parts}"
        )


if __name__ == "__main__":
    main()
