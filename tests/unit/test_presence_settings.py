"""The departure grace (issue 16) is a validated setting with a 30 s default."""

from __future__ import annotations

import pytest

from warroom.errors import ConfigurationError
from warroom.settings import presence_settings


@pytest.fixture(autouse=True)
def fresh_settings():
    presence_settings.cache_clear()
    yield
    presence_settings.cache_clear()


def test_a_departure_waits_30_s_unless_configured(monkeypatch):
    # Given no setting, Then a departure waits 30 s
    monkeypatch.delenv("PRESENCE_LEAVE_GRACE_MS", raising=False)
    assert presence_settings().leave_grace_seconds == 30.0
    # When the environment sets 12000 ms, Then it waits 12 s
    presence_settings.cache_clear()
    monkeypatch.setenv("PRESENCE_LEAVE_GRACE_MS", "12000")
    assert presence_settings().leave_grace_seconds == 12.0


@pytest.mark.parametrize("raw", ["-1", "soon", "600001"])
def test_a_nonsense_grace_is_refused(monkeypatch, raw):
    monkeypatch.setenv("PRESENCE_LEAVE_GRACE_MS", raw)
    with pytest.raises(ConfigurationError):
        presence_settings()
