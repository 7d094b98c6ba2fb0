"""A throwaway database on the real server (the embedded one, or DATABASE_URL's), migrated
to head and dropped afterwards: what the test session and the benchmarks run on."""

from __future__ import annotations

import os
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
def scratch_database(prefix: str = "warroom_scratch") -> Iterator[str]:
    server = server_url()
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    params = conninfo.conninfo_to_dict(server)
    params["dbname"] = name
    url = conninfo.make_conninfo("", **params)
    try:
        upgrade(url)
        yield url
    finally:
        with psycopg.connect(server, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
