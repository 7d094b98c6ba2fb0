"""Shared fixtures: a fresh database on the real PostgreSQL for each test session.

With DATABASE_URL unset the embedded server (pgserver) is used; otherwise the server at
DATABASE_URL. Either way the session gets its own database, migrated with Alembic, and
drops it at the end, so tests never see `make dev` data.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import psycopg
import pytest

from local.scratch_db import scratch_database
from warroom.db import PooledDatabase, set_database
from warroom.logic import rooms, users
from warroom.models import Role, Room, RoomDraft
from warroom.settings import DatabaseSettings

# Powertools reads these when a handler module is imported, as Lambda sets them first.
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "WarRoomTest")
os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "warroom")
os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
# Per-user rate limits (30 a burst in production) would throttle tests that send many
# messages as one person; tests of the limits start a stack with their own sizes.
for _bucket in ("SEND", "WRITE"):
    os.environ.setdefault(f"RATE_LIMIT_{_bucket}_BURST", "1000000")
    os.environ.setdefault(f"RATE_LIMIT_{_bucket}_PER_SECOND", "1000000")
# A departure waits 30 s in production before it is announced; the test stacks wait 12 s,
# still longer than the 10 s signal loss the browser tests make (issue 16).
os.environ.setdefault("PRESENCE_LEAVE_GRACE_MS", "12000")


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    with scratch_database("warroom_test") as url:
        yield url


@pytest.fixture(scope="session")
def db(database_url: str) -> Iterator[PooledDatabase]:
    database = PooledDatabase(
        DatabaseSettings(pool_size=10, max_overflow=50, pool_timeout=30), conninfo=database_url
    )
    set_database(database)
    yield database
    set_database(None)
    database.close()


@pytest.fixture
def sql(database_url: str) -> Iterator[psycopg.Connection[Any]]:
    """A raw connection for arranging state a test needs (e.g. an old message)."""
    from psycopg.rows import dict_row

    with psycopg.connect(database_url, autocommit=True, row_factory=dict_row) as conn:
        yield conn


@pytest.fixture
def make_user(db: PooledDatabase) -> Callable[..., str]:
    def factory(name: str = "user", *, display_name: str | None = None, admin: bool = False) -> str:
        user_id = f"{name}-{uuid.uuid4().hex[:8]}@factory.example"
        users.sync_user(user_id, display_name or name.title(), is_admin=admin, db=db)
        return user_id

    return factory


@pytest.fixture
def make_room(db: PooledDatabase) -> Callable[..., Room]:
    def factory(
        owner: str, members: dict[str, Role] | None = None, title: str = "Line 3 down"
    ) -> Room:
        room = rooms.create_room(user_id=owner, draft=RoomDraft(title=title, lots=["LOT-1"]), db=db)
        for user_id, role in (members or {}).items():
            rooms.add_member(
                room_id=room.room_id, user_id=owner, member_id=user_id, role=role, db=db
            )
        return room

    return factory
