"""Machine-readings ingest (issue 18) against a raw COPY and a raw multi-row INSERT of the
same rows, side by side in one run.

Each batch is 500 points (50 machines × 10 tags, one second of a line). `ingest` is the
whole function path after the HTTP layer: the Standard Webhooks signature checked, the
body parsed and every point validated, the webhook-id claimed, the source's token
bucket, the COPY, the alarm rules evaluated and the answer recorded, in one
transaction. `raw COPY` and `raw INSERT` write the same rows on a dedicated
connection, one transaction per batch: this machine's database limit for those rows.
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


def run_ingest(db: PooledDatabase, batches: int, rules: int) -> tuple[float, list[float]]:
    from warroom.logic import ingest

    _, source_id, secret = _setup(db, rules)
    signer = Webhook(secret)
    start = datetime.now(UTC) - timedelta(hours=1)
    bodies = []
    for b in range(batches):
        body = json.dumps({"points": _points(start, b)}).encode()
        webhook_id = f"msg_{uuid.uuid4().hex}"
        now = datetime.now(UTC)
        headers = {
            "webhook-id": webhook_id,
            "webhook-timestamp": str(int(now.timestamp())),
            "webhook-signature": signer.sign(webhook_id, now, body),
        }
        bodies.append((body, headers))
    latencies = []
    started = time.perf_counter()
    for body, headers in bodies:
        t0 = time.perf_counter()
        answer = ingest.ingest(source_id=str(source_id), body=body, headers=headers, db=db)
        latencies.append(time.perf_counter() - t0)
        assert answer.answer["accepted"] == MACHINES * TAGS, answer.answer
    return time.perf_counter() - started, latencies


def _rows(line_id: Any, start: datetime, batch: int) -> list[tuple[Any, ...]]:
    return [
        (line_id, p["tag"], p["machine_id"], datetime.fromisoformat(p["ts"]), p["value"],
         p["unit"], "good", False, None)
        for p in _points(start, batch)
    ]  # fmt: skip


def run_raw(url: str, db: PooledDatabase, batches: int, how: str) -> tuple[float, list[float]]:
    line_id, _, _ = _setup(db, 0)
    start = datetime.now(UTC) - timedelta(hours=1)
    prepared = [_rows(line_id, start, b) for b in range(batches)]
    latencies = []
    with psycopg.connect(url, prepare_threshold=None) as conn:
        started = time.perf_counter()
        for rows in prepared:
            t0 = time.perf_counter()
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
            latencies.append(time.perf_counter() - t0)
        return time.perf_counter() - started, latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--batches", type=int, default=40, help="batches of 500 points each")
    parser.add_argument("--rounds", type=int, default=3)
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
            # Rounds interleave the four so a busy neighbour on this shared machine
            # slows all of them alike; each keeps its best round.
            runs: dict[str, list[tuple[float, list[float]]]] = {k: [] for k in KINDS}
            for _ in range(args.rounds):
                runs["raw COPY"].append(run_raw(url, db, args.batches, "copy"))
                runs["raw INSERT"].append(run_raw(url, db, args.batches, "insert"))
                runs["ingest, 0 rules"].append(run_ingest(db, args.batches, 0))
                runs["ingest, 5 rules"].append(run_ingest(db, args.batches, 5))
        finally:
            db.close()
            set_sealer(None)
    rates: dict[str, float] = {}
    medians: dict[str, float] = {}
    for label, rounds in runs.items():
        seconds, latencies = min(rounds, key=lambda r: r[0])
        rates[label] = args.batches / seconds
        medians[label] = percentile(latencies, 50)
        print(
            f"{label:16s} {rates[label]:7.1f} batches/s  {rates[label] * MACHINES * TAGS:9.0f} "
            f"points/s  {summary_ms(latencies)}"
        )
    ingest_rate = rates["ingest, 5 rules"]
    for raw in ("raw COPY", "raw INSERT"):
        ratio = ingest_rate / rates[raw]
        by_median = medians[raw] / medians["ingest, 5 rules"]
        verdict = "met" if ratio >= 0.5 else "MISSED"
        print(
            f"ratio ingest (5 rules)/{raw}: {ratio:.2f} batches/s, {by_median:.2f} by median "
            f"batch time (target ≥ 0.50: {verdict})"
        )
    per_batch = (medians["ingest, 5 rules"] - medians["ingest, 0 rules"]) * 1000
    print(
        f"alarm evaluation of 5 rules in the insert's transaction: {per_batch:+.2f} ms a batch "
        "(median batch time, 5 rules minus none)"
    )


if __name__ == "__main__":
    main()
