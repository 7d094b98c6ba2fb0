"""Helpers shared by the benchmarks: a throwaway database and latency statistics."""

from __future__ import annotations

import os
import statistics
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from psycopg import conninfo

from warroom.db.migrate import upgrade


def server_url() -> str:
    url = os.environ.get("DATABASE_URL")
    if url:
        return url
    from warroom.db.embedded import embedded_database_url

    return embedded_database_url(os.environ.get("WARROOM_PGDATA", ".local/pgdata"))


@contextmanager
def scratch_database(prefix: str = "warroom_bench") -> Iterator[str]:
    server = server_url()
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    params = conninfo.conninfo_to_dict(server)
    params["dbname"] = name
    url = conninfo.make_conninfo(**params)
    try:
        upgrade(url)
        yield url
    finally:
        with psycopg.connect(server, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def percentile(values: list[float], pct: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]


def summary_ms(values: list[float]) -> str:
    return (
        f"p50 {percentile(values, 50) * 1000:7.2f} ms  p99 {percentile(values, 99) * 1000:7.2f} ms"
        f"  mean {statistics.fmean(values) * 1000:7.2f} ms"
    )
