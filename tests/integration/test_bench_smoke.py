"""The benchmark's own measuring code, run small: it must count what it claims."""

from __future__ import annotations

import pytest

from bench import message_service

pytestmark = pytest.mark.integration


def test_benchmark_scenarios_send_what_they_say_and_find_no_gaps(database_url):
    # Given a few senders, When both benchmark sides run
    raw = message_service.run_raw(database_url, 4, 3)
    service = message_service.run_service(database_url, 4, 3)
    # Then each sent 12 messages into its room, numbered without gaps or duplicates
    for result in (raw, service):
        assert result.sent == 12 and len(result.latencies) == 12
        assert (result.gaps, result.duplicates) == (0, 0)
        assert result.rate > 0


def test_the_ingest_benchmark_stores_what_it_says(database_url, db, tmp_path, monkeypatch):
    # Given the ingest benchmark's own source, allowed to post as fast as it can
    from bench import ingest as bench_ingest
    from warroom.sealing import KeyFileSealer, set_sealer
    from warroom.settings import ingest_settings

    monkeypatch.setenv("INGEST_RATE_BURST", "1000000")
    monkeypatch.setenv("INGEST_RATE_PER_SECOND", "1000000")
    ingest_settings.cache_clear()
    set_sealer(KeyFileSealer(tmp_path / "bench.key"))
    try:
        # When it runs three batches through the ingest and three through a raw COPY
        seconds, latencies = bench_ingest.run_ingest(db, 3, 5)
        raw_seconds, raw_latencies = bench_ingest.run_raw(database_url, db, 3, "copy")
    finally:
        set_sealer(None)
        ingest_settings.cache_clear()
    # Then each side timed three batches (run_ingest checks 500 accepted in each)
    assert len(latencies) == 3 and len(raw_latencies) == 3
    assert seconds > 0 and raw_seconds > 0
