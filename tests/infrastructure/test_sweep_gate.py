"""The dev sweep's gate: it connects to the database only when a socket may be left."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from warroom.dal.connections import CONNECTION_TTL_SECONDS
from warroom.sweep_gate import may_have_work

pytestmark = pytest.mark.infrastructure

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


class FakeCloudWatch:
    def __init__(self, connects: float | None = None, fails: bool = False) -> None:
        self.connects = connects
        self.fails = fails
        self.asked: list[dict[str, Any]] = []

    def get_metric_statistics(self, **query: Any) -> dict[str, Any]:
        self.asked.append(query)
        if self.fails:
            raise ConnectionError("no route to CloudWatch")
        points = [] if self.connects is None else [{"Sum": self.connects}]
        return {"Datapoints": points}


@pytest.fixture
def gated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SWEEP_GATE_API_ID", "abc123")
    monkeypatch.setenv("SWEEP_GATE_STAGE", "dev")


def test_no_connects_within_a_rows_lifetime_means_nothing_to_sweep(gated: None) -> None:
    # Given a stage where nobody opened a socket lately (no datapoint at all)
    cloudwatch = FakeCloudWatch(connects=None)
    # When the sweep asks
    # Then it need not wake the database
    assert may_have_work(NOW, cloudwatch) is False
    # And it asked about this stage's $connect count, over more than a row's lifetime
    (query,) = cloudwatch.asked
    assert query["MetricName"] == "ConnectCount"
    assert {"Name": "ApiId", "Value": "abc123"} in query["Dimensions"]
    assert {"Name": "Stage", "Value": "dev"} in query["Dimensions"]
    assert NOW - query["StartTime"] > timedelta(seconds=CONNECTION_TTL_SECONDS)
    assert query["Period"] % 60 == 0


def test_a_recent_connect_means_the_sweep_runs(gated: None) -> None:
    # Given a socket opened within the window
    # Then the sweep goes to the database
    assert may_have_work(NOW, FakeCloudWatch(connects=1.0)) is True
    assert may_have_work(NOW, FakeCloudWatch(connects=0.0)) is False


def test_when_cloudwatch_cannot_be_asked_the_sweep_runs(gated: None) -> None:
    # Given CloudWatch out of reach
    # Then the sweep errs on the side of sweeping
    assert may_have_work(NOW, FakeCloudWatch(fails=True)) is True


def test_without_a_gate_configured_the_sweep_always_runs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given the local stack or prod (no gate settings)
    monkeypatch.delenv("SWEEP_GATE_API_ID", raising=False)
    cloudwatch = FakeCloudWatch(connects=None)
    # Then the sweep runs without asking anyone
    assert may_have_work(NOW, cloudwatch) is True
    assert cloudwatch.asked == []
