"""Housekeeping run on a schedule (EventBridge in the cloud, a timer in the local stack).
(Announcing pending joins and departures is delivery's: `warroom.delivery`.)"""

from __future__ import annotations

from dataclasses import dataclass

from warroom.dal import connections as connections_dal
from warroom.dal import ingest as ingest_dal
from warroom.db import Database, get_database


@dataclass(frozen=True)
class SweepReport:
    expired_connections: int
    # issue 18: ingest idempotency records past any possible replay
    forgotten_deliveries: int = 0


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
    return SweepReport(
        expired_connections=total, forgotten_deliveries=forget_old_deliveries(database)
    )


def forget_old_deliveries(db: Database | None = None, *, max_batches: int = 20) -> int:
    """Drop ingest idempotency records (issue 18) no replay can need any more: a replay
    carries the first request's signed timestamp, which is refused (401) once it is over
    5 minutes old, so a record kept for an hour outlives every replay that could verify."""
    database = db or get_database()
    total = 0
    for _ in range(max_batches):
        removed = database.run(
            lambda conn: ingest_dal.delete_old_deliveries(conn, older_than_s=3600)
        )
        total += removed
        if removed == 0:
            break
    return total
