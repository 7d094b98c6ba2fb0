"""A demo production line's gateway: signed readings posted every second, the oven's
zone 1 crossing its alarm rule at the start of every cycle, so a newcomer sees a chart
move and an incident open by itself.

    python -m local.simulate_line --url http://127.0.0.1:8000 --source-id ID --secret whsec_...

`make dev SIMULATE=1` (the stack's `--simulate-line` flag, off by default and in tests)
creates the demo line, a source and the rule, and runs this in the stack's process.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import random
import threading
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from standardwebhooks.webhooks import Webhook

logger = logging.getLogger("local.simulate_line")

DEMO_LINE_NAME = "Demo oven line"
DEMO_OWNER = ("alice@factory.example", "Alice Chen")
SOURCE_NAME = "line simulator"
ALARM_TAG = "zone1_temp"
ALARM_ABOVE = 200.0
ALARM_FOR_SECONDS = 5
# Each cycle starts with this many seconds over the rule's threshold.
CROSSING_SECONDS = 12


@dataclass(frozen=True)
class DemoLine:
    line_id: str
    source_id: str
    secret: str


def prepare_demo_line(db: object | None = None) -> DemoLine:
    """The demo line (made once), a fresh source (earlier simulator sources revoked, so
    only this process's secret works) and the oven's alarm rule."""
    from warroom.ingest_models import AlarmRuleDraft, SourceDraft
    from warroom.logic import incident, ingest, users
    from warroom.models import LineDraft, Severity

    owner, name = DEMO_OWNER
    users.sync_user(owner, name)
    line = next(
        (x for x in incident.list_lines() if x.name == DEMO_LINE_NAME and x.owner_id == owner),
        None,
    ) or incident.create_line(
        user_id=owner,
        draft=LineDraft(name=DEMO_LINE_NAME, location="Plant A / Line 5", label_zh="示範烤爐線"),
    )
    for old in ingest.list_sources(line_id=line.line_id, user_id=owner):
        if old.name == SOURCE_NAME and old.revoked_at is None:
            ingest.revoke_source(line_id=line.line_id, source_id=old.source_id, user_id=owner)
    source = ingest.create_source(
        line_id=line.line_id, user_id=owner, draft=SourceDraft(name=SOURCE_NAME)
    )
    if not any(r.tag == ALARM_TAG for r in ingest.list_rules(line_id=line.line_id, user_id=owner)):
        ingest.create_rule(
            line_id=line.line_id,
            user_id=owner,
            draft=AlarmRuleDraft(
                tag=ALARM_TAG,
                above=ALARM_ABOVE,
                for_seconds=ALARM_FOR_SECONDS,
                severity=Severity.HIGH,
                title="Oven zone 1 over temperature",
            ),
        )
    return DemoLine(str(line.line_id), str(source.source_id), source.secret)


def readings_at(tick: int, cycle: int, rng: random.Random) -> list[dict[str, object]]:
    """One second of the line: the oven's two zones, a conveyor and a press. Zone 1 runs
    at about 185 °C and is over 200 °C for the first CROSSING_SECONDS of every cycle; the
    press's pressure sensor now and then reports uncertain quality."""
    now = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    crossing = tick % cycle < CROSSING_SECONDS
    zone1 = (208.0 if crossing else 185.0) + 3 * math.sin(tick / 7) + rng.uniform(-0.8, 0.8)
    pressure_quality = "uncertain" if rng.random() < 0.1 else "good"
    return [
        {"machine_id": "OVEN-1", "tag": ALARM_TAG, "value": round(zone1, 2), "unit": "°C",
         "ts": now},
        {"machine_id": "OVEN-1", "tag": "zone2_temp",
         "value": round(172 + 2 * math.cos(tick / 9) + rng.uniform(-0.5, 0.5), 2), "unit": "°C",
         "ts": now},
        {"machine_id": "CONV-3", "tag": "belt_speed",
         "value": round(42 + rng.uniform(-1, 1), 1), "unit": "mm/s", "ts": now},
        {"machine_id": "PRESS-2", "tag": "pressure",
         "value": round(6.2 + rng.uniform(-0.2, 0.2), 2), "unit": "bar",
         "quality": pressure_quality, "ts": now},
    ]  # fmt: skip


def post_signed(url: str, source_id: str, secret: str, points: list[dict[str, object]]) -> int:
    body = json.dumps({"points": points}).encode()
    webhook_id = f"msg_{uuid.uuid4().hex}"
    at = datetime.now(UTC)
    request = urllib.request.Request(
        f"{url.rstrip('/')}/api/ingest/{source_id}/readings",
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "webhook-id": webhook_id,
            "webhook-timestamp": str(int(at.timestamp())),
            "webhook-signature": Webhook(secret).sign(webhook_id, at, body),
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as err:
        return int(err.code)


def run(
    url: str,
    source_id: str,
    secret: str,
    *,
    period: float = 1.0,
    cycle: int = 120,
    stop: threading.Event | None = None,
) -> None:
    stop = stop or threading.Event()
    rng = random.Random(18)
    tick = 0
    while not stop.is_set():
        try:
            status = post_signed(url, source_id, secret, readings_at(tick, cycle, rng))
            if status != 200:
                logger.warning("the ingest answered %s", status)
        except OSError as exc:
            logger.warning("could not post readings: %s", exc)
        tick += 1
        stop.wait(period)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--source-id", required=True)
    parser.add_argument("--secret", required=True)
    parser.add_argument("--period", type=float, default=1.0, help="seconds between batches")
    parser.add_argument("--cycle", type=int, default=120, help="seconds between crossings")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO)
    try:
        run(args.url, args.source_id, args.secret, period=args.period, cycle=args.cycle)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
