"""The local stack against the reference monolith, through `../shared/bench/compare.sh`
(one WebSocket client, closed-loop senders, both systems measured in the same run).

Starts the local stack exactly as `make dev` does (its default transport and pool, on a
fresh scratch database and a free port), runs each scenario, and prints compare.sh's
figures and the ratios against the targets of issue 9. When compare.sh is not there
(it lives beside the repository, not in it) this prints a note and measures nothing.

Run: `make bench` (or `.venv/bin/python -m bench.local_stack`).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from bench.common import scratch_database
from local.harness import ROOT, start_stack

# Beside the repository (../shared), or beside the folder of worktrees (../../shared).
COMPARE = next(
    (
        candidate
        for candidate in (
            ROOT.parent / "shared" / "bench" / "compare.sh",
            ROOT.parent.parent / "shared" / "bench" / "compare.sh",
        )
        if candidate.is_file()
    ),
    ROOT.parent / "shared" / "bench" / "compare.sh",
)


@dataclass(frozen=True)
class Scenario:
    members: int
    senders: int
    per_sender: int
    max_delivery_p99_ratio: float | None
    min_rate_ratio: float | None
    rooms: int = 1

    @property
    def args(self) -> list[str]:
        return [
            *(["--rooms", str(self.rooms)] if self.rooms > 1 else []),
            "--members",
            str(self.members),
            "--senders",
            str(self.senders),
            "--per-sender",
            str(self.per_sender),
        ]


SCENARIOS = [
    Scenario(50, 10, 20, max_delivery_p99_ratio=2.0, min_rate_ratio=0.5),
    Scenario(200, 1, 10, max_delivery_p99_ratio=3.0, min_rate_ratio=None),
    # 1,000 sockets: 20 rooms of 50, two senders in each (issue 15). The bar is every
    # delivery, gap-free in every room; the ratios are printed against the monolith.
    Scenario(50, 2, 10, max_delivery_p99_ratio=None, min_rate_ratio=None, rooms=20),
]


def compare(url: str, scenario: Scenario) -> tuple[dict, dict] | None:
    done = subprocess.run(
        ["bash", str(COMPARE), url, *scenario.args],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    lines = {
        line.split(":", 1)[0]: line.split(":", 1)[1]
        for line in done.stdout.splitlines()
        if line.startswith(("this:", "peer:"))
    }
    if done.returncode != 0 or "this" not in lines or "peer" not in lines:
        print(
            f"  compare.sh failed ({done.returncode}):\n{done.stdout[-2000:]}{done.stderr[-2000:]}"
        )
        return None
    return json.loads(lines["this"]), json.loads(lines["peer"])


def report(scenario: Scenario, this: dict, peer: dict) -> None:
    rate = this["msgs_per_s"] / peer["msgs_per_s"]
    p99 = (this["delivery_p99_ms"] or float("inf")) / (peer["delivery_p99_ms"] or float("nan"))
    complete = this["deliveries"] == this["expected_deliveries"]
    rooms = f"{scenario.rooms} rooms of " if scenario.rooms > 1 else ""
    print(
        f"  {rooms}{scenario.members} members, {scenario.senders} senders × {scenario.per_sender}:"
    )
    for name, figures in (("local stack", this), ("monolith", peer)):
        print(
            f"    {name:11s} {figures['msgs_per_s']:7.1f} msg/s  ack p50 {figures['ack_p50_ms']:8.1f} ms"
            f"  delivery p50 {figures['delivery_p50_ms']:8.1f} ms  p99 {figures['delivery_p99_ms']:8.1f} ms"
            f"  deliveries {figures['deliveries']}/{figures['expected_deliveries']}"
            f"  gap-free {figures['gap_free']}"
        )
    limit = scenario.max_delivery_p99_ratio
    checks = [
        f"delivery p99 {p99:.2f}×"
        + (f" (≤ {limit:g}: " + ("met" if p99 <= limit else "MISSED") + ")" if limit else ""),
        "every delivery" if complete else "DELIVERIES MISSING",
        "gap-free" if this["gap_free"] else "GAPS",
    ]
    if scenario.min_rate_ratio is None:
        checks.insert(0, f"msg/s {rate:.2f}×")
    else:
        checks.insert(
            0,
            f"msg/s {rate:.2f}× (≥ {scenario.min_rate_ratio:g}: "
            + ("met" if rate >= scenario.min_rate_ratio else "MISSED")
            + ")",
        )
    print("    ratios local/monolith: " + ", ".join(checks))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--transport", default=None, help="WS_TRANSPORT for the stack")
    parser.add_argument(
        "--multi-room-only", action="store_true", help="only the 1,000-socket run (20 rooms)"
    )
    args = parser.parse_args()
    scenarios = [s for s in SCENARIOS if s.rooms > 1] if args.multi_room_only else SCENARIOS
    print("== local stack (make dev) vs the reference monolith, through compare.sh ==")
    if not COMPARE.is_file():
        print(f"  {COMPARE} is not there: skipped (it ships beside the repository)")
        return
    extra = ["--no-demo", *(["--transport", args.transport] if args.transport else [])]
    with scratch_database("warroom_bench_stack") as url, tempfile.TemporaryDirectory() as tmp:
        # make dev's pool (DB_POOL_SIZE 20, DB_MAX_OVERFLOW 30)
        stack = start_stack(Path(tmp), url, *extra, pool=(20, 30))
        try:
            for scenario in scenarios:
                result = compare(stack.base_url, scenario)
                if result is not None:
                    report(scenario, *result)
        finally:
            stack.stop()


if __name__ == "__main__":
    main()
