"""Message service throughput against the same SQL issued raw, side by side in one run.

For each sender count, every sender sends into ONE room (the worst case: all contend
for the room's counter row). `service` goes through `warroom.logic.messages.send_message`
(validation, pool, models); `raw` issues the very same two statements (the send context
read and the numbered insert) on dedicated psycopg connections in a tight loop — this
machine's database limit for that SQL. Afterwards the room is checked for gaps and
duplicates in its sequence numbers.

Run: `make bench` (or `.venv/bin/python -m bench.message_service`).
"""

from __future__ import annotations

import argparse
import os
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg.rows import dict_row

from bench.common import scratch_database, summary_ms
from warroom.dal import messages as dal
from warroom.db import PooledDatabase
from warroom.logic import messages, rooms, users
from warroom.models import MessageDraft, RoomDraft
from warroom.settings import DatabaseSettings

MAX_CONNECTIONS = 80  # the embedded server allows 100; leave room for others


@dataclass
class Result:
    label: str
    senders: int
    sent: int
    seconds: float
    latencies: list[float]
    gaps: int
    duplicates: int

    @property
    def rate(self) -> float:
        return self.sent / self.seconds


def _setup_room(db: PooledDatabase, senders: int) -> tuple[Any, list[str]]:
    owner = f"owner-{uuid.uuid4().hex[:6]}@bench.example"
    users.sync_user(owner, "Bench Owner", db=db)
    room = rooms.create_room(user_id=owner, draft=RoomDraft(title="bench"), db=db)
    ids = [f"s{i}-{uuid.uuid4().hex[:6]}@bench.example" for i in range(senders)]

    def add(conn: Any) -> None:
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO room_members (room_id, user_id, role) VALUES (%s, %s, 'EDITOR')",
                [(room.room_id, s) for s in ids],
            )

    db.run(add)
    return room, ids


def _check(url: str, room_id: Any) -> tuple[int, int]:
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "SELECT count(*), count(DISTINCT sequence_number), coalesce(max(sequence_number), 0) "
            "FROM messages WHERE room_id = %s",
            (room_id,),
        ).fetchone()
    assert row is not None
    total, distinct, top = row
    return top - distinct, total - distinct


def _drive(
    senders: list[str], per_sender: int, send: Callable[[int, str, int], None]
) -> tuple[float, list[float]]:
    latencies: list[list[float]] = [[] for _ in senders]
    barrier = threading.Barrier(len(senders))

    def worker(index: int) -> None:
        barrier.wait()
        for n in range(per_sender):
            t0 = time.perf_counter()
            send(index, senders[index], n)
            latencies[index].append(time.perf_counter() - t0)

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=len(senders)) as pool:
        list(pool.map(worker, range(len(senders))))
    return time.perf_counter() - started, [x for per in latencies for x in per]


def run_service(url: str, n_senders: int, per_sender: int) -> Result:
    db = PooledDatabase(
        DatabaseSettings(
            pool_size=min(n_senders, 20), max_overflow=max(0, min(n_senders, MAX_CONNECTIONS) - 20)
        ),
        conninfo=url,
    )
    room, senders = _setup_room(db, n_senders)

    def send(_: int, sender: str, n: int) -> None:
        draft = MessageDraft(client_msg_id=uuid.uuid4(), content=f"reading {n} from {sender}")
        messages.send_message(room_id=room.room_id, sender_id=sender, draft=draft, db=db)

    seconds, lat = _drive(senders, per_sender, send)
    db.close()
    gaps, dups = _check(url, room.room_id)
    return Result("service", n_senders, len(lat), seconds, lat, gaps, dups)


def run_raw(url: str, n_senders: int, per_sender: int) -> Result:
    setup_db = PooledDatabase(DatabaseSettings(pool_size=2, max_overflow=0), conninfo=url)
    room, senders = _setup_room(setup_db, n_senders)
    setup_db.close()
    n_conns = min(n_senders, MAX_CONNECTIONS)
    conns = [
        psycopg.connect(url, autocommit=True, prepare_threshold=None, row_factory=dict_row)
        for _ in range(n_conns)
    ]
    locks = [threading.Lock() for _ in conns]

    def send(index: int, sender: str, n: int) -> None:
        slot = index % n_conns
        with locks[slot]:
            conn = conns[slot]
            client_msg_id = uuid.uuid4()
            # The service's own statement (checks, numbers, insert, recipients), bare.
            conn.execute(
                dal.SEND_MESSAGE,
                {
                    "room_id": room.room_id,
                    "sender": sender,
                    "client_msg_id": client_msg_id,
                    "message_type": "text",
                    "content": f"reading {n} from {sender}",
                    "content_json": None,
                    "mentions": [],
                    "file_id": None,
                    "system": False,
                    # The rate-limit bucket is part of the statement; never empty here.
                    "burst": 1_000_000,
                    "rate": 1_000_000.0,
                },
            ).fetchone()

    seconds, lat = _drive(senders, per_sender, send)
    for conn in conns:
        conn.close()
    gaps, dups = _check(url, room.room_id)
    return Result("raw SQL", n_senders, len(lat), seconds, lat, gaps, dups)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--senders", type=int, nargs="+", default=[50, 200])
    parser.add_argument("--messages", type=int, default=2000, help="messages per scenario")
    args = parser.parse_args()
    print("== message service vs raw SQL: N concurrent senders into one room ==")
    with scratch_database("warroom_bench") as url:
        for n in args.senders:
            per_sender = max(1, args.messages // n)
            try:
                # warm-up so neither side pays for cold caches
                run_raw(url, min(n, 10), 5)
                raw = run_raw(url, n, per_sender)
                service = run_service(url, n, per_sender)
            except psycopg.errors.QueryCanceled:
                # Senders queue on one room's row lock; on a machine this busy a wait
                # outlasted the database's statement timeout. The figures would not be
                # the database's, so say so instead of printing them.
                load = os.getloadavg()[0]
                print(
                    f"{n} senders: a statement waited past the statement timeout (load "
                    f"average {load:.1f} on {os.cpu_count()} CPUs); no figures for this run\n"
                )
                continue
            for r in (raw, service):
                print(
                    f"{r.label:8s} senders {r.senders:4d}  sent {r.sent:5d}  {r.rate:8.1f} msg/s  "
                    f"{summary_ms(r.latencies)}  gaps {r.gaps}  duplicates {r.duplicates}"
                )
            ratio = service.rate / raw.rate
            target = ""
            if n == 50:
                target = " (target ≥ 0.70: " + ("met" if ratio >= 0.7 else "MISSED") + ")"
            print(f"ratio service/raw at {n} senders: {ratio:.2f}{target}\n")


if __name__ == "__main__":
    main()
