"""Per-stage numbers: how the DB_POOL_* knobs become RDS Proxy limits."""

from __future__ import annotations

import pytest

from infra.constants import STAGES, StageConfig, stage_config

pytestmark = pytest.mark.infrastructure


def test_proxy_percentages_follow_the_pool_of_the_dev_stage() -> None:
    # Given dev: 4 ACUs at most (≈ 901 connections), a pool of 20 + 30 overflow
    config = stage_config("dev")
    assert config.db_max_connections == 901
    # When deriving the proxy's pool limits
    # Then it may open the burst (50 → 6 %) and keeps the steady pool idle (20 → 2 %)
    assert config.proxy_max_connections_percent == 6
    assert config.proxy_max_idle_connections_percent == 2


@pytest.mark.parametrize("config", STAGES.values(), ids=lambda c: c.name)
def test_every_stage_gives_the_proxy_room_for_the_whole_pool(config: StageConfig) -> None:
    # Given a stage
    # When converting its percentages back to connections
    allowed = config.db_max_connections * config.proxy_max_connections_percent / 100
    idle = config.db_max_connections * config.proxy_max_idle_connections_percent / 100
    # Then the proxy can open at least DB_POOL_SIZE + DB_MAX_OVERFLOW connections
    assert allowed >= config.db_pool_size + config.db_max_overflow
    # And keeps no more idle than the steady pool, within the limits RDS accepts
    assert idle <= config.db_pool_size
    assert 1 <= config.proxy_max_connections_percent <= 100
    assert 0 <= config.proxy_max_idle_connections_percent <= config.proxy_max_connections_percent
    assert config.db_pool_timeout_s == 10  # the proxy's borrow timeout


def test_a_pool_larger_than_the_database_is_capped_at_100_percent() -> None:
    # Given a tiny database and a huge pool
    config = StageConfig(
        name="tiny",
        is_production=False,
        db_min_acu=0.5,
        db_max_acu=0.5,
        db_readers=0,
        db_backup_days=1,
        db_pool_size=500,
        db_max_overflow=500,
    )
    # Then the percentages stay within what RDS Proxy accepts
    assert config.proxy_max_connections_percent == 100
    assert config.proxy_max_idle_connections_percent == 100


def test_unknown_stage_is_refused() -> None:
    # Given a stage name that is not configured
    # When looking it up
    # Then the error names the stages there are
    with pytest.raises(ValueError, match="dev"):
        stage_config("staging")
