"""Cold import of each Lambda handler: a fresh interpreter importing the handler module,
as a Lambda cold start does before its first event (median of several), with the
largest imported packages from `python -X importtime`.

The environment is Lambda's with tracing on (the X-Ray SDK must still not load at
import). Bytecode is already compiled here (`__pycache__`), as in a layer built with
`.pyc` files. Target: ≤ 250 ms each on an idle machine.

This machine is shared, so absolute times move with its load. The same handlers as
they were before issue 9 (commit `BASELINE`, unpacked from git into a temporary folder)
are imported alternately with today's in the same run; their ratio holds under load,
and scaled by the baseline's figures on a quiet machine it estimates today's there.

Run: `make bench` (or `.venv/bin/python -m bench.cold_start`).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

HANDLERS = [
    "functions.connect.authorizer",
    "functions.connect.handler",
    "functions.message.handler",
    "functions.history.handler",
    "functions.user_sync.handler",
    "functions.sweep.handler",
]
TARGET_MS = 250.0
BASELINE = "9196580"  # main before issue 9: boto3, X-Ray SDK, parser models at import
# The baseline's cold imports on a quiet machine (load average 1.6), as docs/benchmarks.md
# recorded them before issue 9 (the issue measured the message handler at 430–460 ms).
BASELINE_QUIET_MS = {
    "functions.connect.authorizer": 151.0,
    "functions.connect.handler": 421.8,
    "functions.message.handler": 437.5,
    "functions.history.handler": 463.9,
}
ROOT = Path(__file__).resolve().parents[1]
LAMBDA_ENV = {
    "PATH": "",
    "LAMBDA_TASK_ROOT": "/var/task",
    "AWS_LAMBDA_FUNCTION_NAME": "bench",
    "AWS_REGION": "eu-west-1",
}


def import_seconds(module: str, tree: Path | None = None) -> tuple[float, float]:
    """(wall, CPU) seconds of one cold import, of this checkout's code or of an unpacked
    older `tree` (put first on the path). On a busy machine the wall time includes
    waiting for a CPU; the CPU time is what the import costs (closer to an idle wall)."""
    code = (
        "import time; w, c = time.perf_counter(), time.process_time()\n"
        f"import {module}\n"
        "print(time.perf_counter() - w, time.process_time() - c)"
    )
    # The shared package and the handlers straight on the path, as Lambda has the layer's
    # python/ and the function's code (not through the editable install's import hook,
    # which costs a local import about 20 ms).
    source = tree or ROOT
    env = {**LAMBDA_ENV, "PYTHONPATH": f"{source / 'layers'}:{source}"}
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env=env,
        cwd=source,
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
        env={**LAMBDA_ENV, "PYTHONPATH": f"{ROOT / 'layers'}:{ROOT}"},
        cwd=ROOT,
    )
    by_package: dict[str, float] = defaultdict(float)
    for line in out.stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        self_us, _, name = (part.strip() for part in line.removeprefix("import time:").split("|"))
        by_package[name.split(".")[0]] += int(self_us) / 1000
    return sorted(by_package.items(), key=lambda item: -item[1])[:top]


def unpack_baseline(target: Path) -> bool:
    """The baseline's handlers and shared package, from git, into `target`."""
    archive = subprocess.run(
        ["git", "archive", BASELINE, "layers", "functions"], cwd=ROOT, capture_output=True
    )
    if archive.returncode != 0:
        return False
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive.stdout, check=True)
    return True


Figures = dict[str, tuple[float, float, float | None]]


def run(repeats: int, baseline: Path | None) -> Figures:
    """Per handler: median wall and CPU ms of today's import, and the median CPU ms of
    the baseline's, measured alternately so both see the same load."""
    figures: Figures = {}
    for module in HANDLERS:
        now: list[tuple[float, float]] = []
        before: list[float] = []
        compare = baseline is not None and module in BASELINE_QUIET_MS
        for _ in range(repeats):
            now.append(import_seconds(module))
            if compare:
                before.append(import_seconds(module, baseline)[1])
        figures[module] = (
            statistics.median(w for w, _ in now) * 1000,
            statistics.median(c for _, c in now) * 1000,
            statistics.median(before) * 1000 if before else None,
        )
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    load = os.getloadavg()[0]
    print(
        f"== cold import of each handler: fresh interpreter, median of {args.repeats} "
        f"(load average {load:.1f} on {os.cpu_count()} CPUs) =="
    )
    with tempfile.TemporaryDirectory() as tmp:
        baseline = Path(tmp) if unpack_baseline(Path(tmp)) else None
        if baseline is None:
            print(f"  (commit {BASELINE} is not in this clone: no side-by-side baseline)")
        figures = run(args.repeats, baseline)
    for module, (wall, cpu, before) in figures.items():
        line = f"  {module:30s} wall {wall:6.1f} ms  CPU {cpu:6.1f} ms"
        if before is not None:
            quiet = cpu / before * BASELINE_QUIET_MS[module]
            verdict = "met" if quiet <= TARGET_MS else "OVER"
            line += (
                f"  | before issue 9: CPU {before:6.1f} ms; now {cpu / before:4.2f}× → "
                f"≈ {quiet:4.0f} ms on a quiet machine (≤ {TARGET_MS:.0f}: {verdict})"
            )
        print(line)
        parts = ", ".join(f"{name} {ms:.0f}" for name, ms in largest_packages(module))
        print(f"  {'':30s} largest imports (ms, one run): {parts}")


if __name__ == "__main__":
    main()
