"""The scheduled sweep on the dev stage lets a paused database sleep: when its gate says
there can be no work, it also drops the connection an earlier run of the same warm
container kept (a cached connection alone keeps Aurora Serverless v2 awake)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from moto import mock_aws

from warroom.db import SingleConnectionDatabase, get_database, set_database
from warroom.settings import DatabaseSettings

pytestmark = pytest.mark.integration


@dataclass
class FakeContext:
    function_name: str = "warroom-sweep"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:eu-west-1:123456789012:function:warroom-sweep"
    aws_request_id: str = "request-1"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


@pytest.fixture
def lambda_database(database_url: str, db: Any) -> Iterator[SingleConnectionDatabase]:
    """Lambda's one-connection database, in place of the session's pool for one test."""
    single = SingleConnectionDatabase(DatabaseSettings(), database_url)
    set_database(single)
    yield single
    single.close()
    set_database(db)


def _backend_alive(sql: Any, pid: int) -> bool:
    row = sql.execute("SELECT count(*) AS n FROM pg_stat_activity WHERE pid = %s", (pid,))
    return bool(row.fetchone()["n"])


def test_a_closed_gate_drops_the_cached_connection(
    lambda_database: SingleConnectionDatabase, sql: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from functions.sweep import handler as sweep_handler

    # Given a warm sweep container whose earlier run left its connection open
    pid = get_database().run(lambda conn: conn.info.backend_pid)
    assert _backend_alive(sql, pid)
    # and a dev stage where no socket was opened for longer than a connection lives
    monkeypatch.setenv("SWEEP_GATE_API_ID", "abc123")
    monkeypatch.setenv("SWEEP_GATE_STAGE", "dev")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    with mock_aws():  # CloudWatch with no ConnectCount datapoint at all
        # When the schedule runs it
        result = sweep_handler.handler({}, FakeContext())
    # Then it did nothing, and its connection to the database is closed too
    assert result["skipped"] is True
    sql.execute("SELECT pg_sleep(0.05)")  # the server notices the client's goodbye
    assert not _backend_alive(sql, pid)
