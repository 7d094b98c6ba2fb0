"""Rate-limit sizes (issue 10, item 2): sized for a person in an incident by default,
changed by settings for benchmarks and tests."""

from __future__ import annotations

import pytest

from warroom.errors import ConfigurationError
from warroom.settings import RateLimits, rate_limits


def test_defaults_are_a_burst_of_30_then_1_send_and_2_other_writes_a_second():
    limits = RateLimits()
    assert (limits.send_burst, limits.send_per_second) == (30, 1.0)
    assert (limits.write_burst, limits.write_per_second) == (30, 2.0)


def test_the_environment_sets_them_and_nonsense_is_refused(monkeypatch):
    monkeypatch.setenv("RATE_LIMIT_SEND_BURST", "5")
    monkeypatch.setenv("RATE_LIMIT_WRITE_PER_SECOND", "0.5")
    rate_limits.cache_clear()
    try:
        limits = rate_limits()
        assert (limits.send_burst, limits.write_per_second) == (5, 0.5)
        monkeypatch.setenv("RATE_LIMIT_SEND_PER_SECOND", "0")
        rate_limits.cache_clear()
        with pytest.raises(ConfigurationError):
            rate_limits()
    finally:
        monkeypatch.undo()
        rate_limits.cache_clear()
