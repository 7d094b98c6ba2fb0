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
