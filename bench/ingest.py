"""Machine-readings ingest (issue 18) against a raw COPY and a raw multi-row INSERT of the
same rows, side by side in one run.

Each batch is 500 points (50 machines × 10 tags, one second of a line). `ingest` is the
whole function path after the HTTP layer: the Standard Webhooks signature checked, the
body parsed and every point validated, the webhook-id claimed, the source's token
bucket, the COPY, the alarm rules evaluated and the answer recorded, in one
transaction. `raw COPY` and `raw INSERT` write the same rows on a dedicated
connection, one transaction per batch: this machine's database limit for those rows.
The four take turns batch by batch, so load from elsewhere falls on all of them alike.
The alarm evaluation's own cost is the difference between `ingest` with 5 rules on the
batch's tags and with none (it runs in the insert's transaction; a queue would add a
send per batch instead, which is not measured here: there is no SQS locally).

Run: `make bench` (or `.venv/bin/python -m bench.ingest`).
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
from standardwebhooks.webhooks import Webhook

from bench.common import percentile, scratch_database, summary_ms
from warroom.db import PooledDatabase
from warroom.settings import DatabaseSettings

MACHINES = 50
TAGS = 10
KINDS = ("raw COPY", "raw INSERT", "ingest, 0 rules", "ingest, 5 rules")
COLUMNS = "line_id, tag, machine_id, ts, value, unit, quality, historical, source_id"


def _points(start: datetime, batch: int) -> list[dict[str, Any]]:
    ts = (start + timedelta(seconds=batch)).isoformat().replace("+00:00", "Z")
    return [
        {"machine_id": f"M-{m:02d}", "tag": f"tag_{t}", "value": 20.0 + (m * t + batch) % 50,
         "unit": "°C", "ts": ts}
        for m in range(MACHINES)
        for t in range(TAGS)
    ]  # fmt: skip


def _setup(db: PooledDatabase, rules: int) -> tuple[Any, Any, str]:
    from warroom.ingest_models import AlarmRuleDraft, SourceDraft
    from warroom.logic import incident, ingest, users
    from warroom.models import LineDraft, Severity

    owner = f"owner-{uuid.uuid4().hex[:6]}@bench.example"
    users.sync_user(owner, "Bench Owner", db=db)
    line = incident.create_line(user_id=owner, draft=LineDraft(name="bench line"), db=db)
    source = ingest.create_source(
        line_id=line.line_id, user_id=owner, draft=SourceDraft(name="bench"), db=db
    )
    for t in range(rules):
        ingest.create_rule(
            line_id=line.line_id,
            user_id=owner,
            draft=AlarmRuleDraft(
                tag=f"tag_{t}", above=1000, for_seconds=10, severity=Severity.LOW, title="bench"
            ),
            db=db,
        )
    return line.line_id, source.source_id, source.secret


Step = Callable[[], None]


def ingest_steps(db: PooledDatabase, batches: int, rules: int) -> list[Step]:
    """One call per signed batch, through the ingest's whole path."""
    from warroom.logic import ingest

    _, source_id, secret = _setup(db, rules)
    signer = Webhook(secret)
    start = datetime.now(UTC) - timedelta(hours=1)

    def step(body: bytes, headers: dict[str, str]) -> Step:
        def run() -> None:
            answer = ingest.ingest(source_id=str(source_id), body=body, headers=headers, db=db)
            assert answer.answer["accepted"] == MACHINES * TAGS, answer.answer

        return run

    steps = []
    for b in range(batches):
        body = json.dumps({"points": _points(start, b)}).encode()
        webhook_id = f"msg_{uuid.uuid4().hex}"
        now = datetime.now(UTC)
        headers = {
            "webhook-id": webhook_id,
            "webhook-timestamp": str(int(now.timestamp())),
            "webhook-signature": signer.sign(webhook_id, now, body),
        }
        steps.append(step(body, headers))
    return steps


def _rows(line_id: Any, start: datetime, batch: int) -> list[tuple[Any, ...]]:
    return [
        (line_id, p["tag"], p["machine_id"], datetime.fromisoformat(p["ts"]), p["value"],
         p["unit"], "good", False, None)
        for p in _points(start, batch)
    ]  # fmt: skip


def raw_steps(
    conn: psycopg.Connection[Any], db: PooledDatabase, batches: int, how: str
) -> list[Step]:
    """One call per batch of the same rows, as a bare COPY or multi-row INSERT."""
    line_id, _, _ = _setup(db, 0)
    start = datetime.now(UTC) - timedelta(hours=1)

    def step(rows: list[tuple[Any, ...]]) -> Step:
        def run() -> None:
            with conn.transaction():
                if how == "copy":
                    with (
                        conn.cursor() as cur,
                        cur.copy(f"COPY readings ({COLUMNS}) FROM STDIN") as copy,
                    ):
                        for row in rows:
                            copy.write_row(row)
                else:
                    values = ", ".join(["(%s, %s, %s, %s, %s, %s, %s, %s, %s)"] * len(rows))
                    flat = [v for row in rows for v in row]
                    conn.execute(f"INSERT INTO readings ({COLUMNS}) VALUES {values}", flat)

        return run

    return [step(_rows(line_id, start, b)) for b in range(batches)]


def _timed(steps: list[Step]) -> tuple[float, list[float]]:
    latencies = []
    started = time.perf_counter()
    for run in steps:
        t0 = time.perf_counter()
        run()
        latencies.append(time.perf_counter() - t0)
    return time.perf_counter() - started, latencies


def run_ingest(db: PooledDatabase, batches: int, rules: int) -> tuple[float, list[float]]:
    return _timed(ingest_steps(db, batches, rules))


def run_raw(url: str, db: PooledDatabase, batches: int, how: str) -> tuple[float, list[float]]:
    with psycopg.connect(url, prepare_threshold=None) as conn:
        return _timed(raw_steps(conn, db, batches, how))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--batches", type=int, default=100, help="batches of 500 points each")
    args = parser.parse_args()
    # The bench's own source may post as fast as it can; secrets under a throwaway key.
    os.environ["INGEST_RATE_BURST"] = "1000000"
    os.environ["INGEST_RATE_PER_SECOND"] = "1000000"
    from warroom.sealing import KeyFileSealer, set_sealer
    from warroom.settings import ingest_settings

    ingest_settings.cache_clear()
    print(f"== ingest of {MACHINES * TAGS}-point batches vs raw COPY / multi-row INSERT ==")
    with tempfile.TemporaryDirectory() as keys, scratch_database("warroom_bench_ingest") as url:
        set_sealer(KeyFileSealer(Path(keys) / "bench.key"))
        db = PooledDatabase(DatabaseSettings(pool_size=2, max_overflow=0), conninfo=url)
        try:
            # warm-up so no side pays for cold caches
            run_raw(url, db, 5, "copy")
            run_ingest(db, 5, 0)
            # The four variants take turns batch by batch (the order rotating), so a busy
            # neighbour on this shared machine slows each of them alike.
            with psycopg.connect(url, prepare_threshold=None) as conn:
                steps = {
                    "raw COPY": raw_steps(conn, db, args.batches, "copy"),
                    "raw INSERT": raw_steps(conn, db, args.batches, "insert"),
                    "ingest, 0 rules": ingest_steps(db, args.batches, 0),
                    "ingest, 5 rules": ingest_steps(db, args.batches, 5),
                }
                latencies: dict[str, list[float]] = {k: [] for k in KINDS}
                for b in range(args.batches):
                    for k in range(len(KINDS)):
                        kind = KINDS[(b + k) % len(KINDS)]
                        t0 = time.perf_counter()
                        steps[kind][b]()
                        latencies[kind].append(time.perf_counter() - t0)
        finally:
            db.close()
            set_sealer(None)
    medians = {k: percentile(v, 50) for k, v in latencies.items()}
    for label, values in latencies.items():
        rate = len(values) / sum(values)
        print(
            f"{label:16s} {rate:7.1f} batches/s  {rate * MACHINES * TAGS:9.0f} points/s  "
            f"{summary_ms(values)}"
        )
    for raw in ("raw COPY", "raw INSERT"):
        by_median = medians[raw] / medians["ingest, 5 rules"]
        by_total = sum(latencies[raw]) / sum(latencies["ingest, 5 rules"])
        verdict = "met" if by_median >= 0.5 else "MISSED"
        print(
            f"ratio ingest (5 rules)/{raw}: {by_median:.2f} by median batch time, "
            f"{by_total:.2f} by total time (target ≥ 0.50: {verdict})"
        )
    per_batch = (medians["ingest, 5 rules"] - medians["ingest, 0 rules"]) * 1000
    print(
        f"alarm evaluation of 5 rules in the insert's transaction: {per_batch:+.2f} ms a batch "
        "(median batch time, 5 rules minus none)"
    )


if __name__ == "__main__":
    main()
