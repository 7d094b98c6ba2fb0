"""Housekeeping run on a schedule (EventBridge in the cloud, a timer in the local stack)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from warroom.dal import connections as connections_dal
from warroom.db import Database, get_database


@dataclass(frozen=True)
class SweepReport:
    expired_connections: int


def sweep(db: Database | None = None, *, max_batches: int = 20) -> SweepReport:
    """Delete connection rows past their expiry (a `$disconnect` that never came), in
    bounded batches so one run stays short whatever piled up."""
    database = db or get_database()
    total = 0
    for _ in range(max_batches):
        removed = database.run(lambda conn: connections_dal.sweep_expired(conn))
        total += removed
        if removed == 0:
            break
    return SweepReport(expired_connections=total)


def announce_pending_presence(
    *, seconds: float, interval: float, sleep: Callable[[float], None]
) -> int:
    """Announce joins and departures left pending in quiet rooms, every `interval`
    seconds for `seconds` (at least once). Returns the number of posts made."""
    from warroom.delivery import room_delivery

    posts = 0
    deadline = time.monotonic() + max(0.0, seconds)
    while True:
        posts += room_delivery().flush_due_presence().delivered
        if time.monotonic() + interval > deadline:
            return posts
        sleep(interval)
