"""The WebSocket route table is one table: what API Gateway (and the local gateway)
selects on is exactly what the router serves."""

from __future__ import annotations

import pytest

from local.gateway import select_route
from warroom import frames
from warroom.realtime import Realtime

pytestmark = pytest.mark.unit


class _Nothing:
    store = None


def test_the_router_serves_exactly_the_routes_the_gateway_selects():
    # Given the router (no database or network is touched to build it)
    router = Realtime(store=None, broadcaster=_Nothing(), delivery=object())  # type: ignore[arg-type]
    # Then its routes are the route table's, and the gateway selects on the same names
    assert set(router._routes) == set(frames.ROUTE_FRAMES) == set(frames.ROUTES)
    for route in frames.ROUTES:
        assert select_route(f'{{"type":"{route}"}}') == route
    assert select_route('{"type":"teleport"}') == "$default"


def test_a_sync_frame_takes_exactly_one_cursor():
    assert frames.SyncFrame.model_validate({"after_change": 3}).after_change == 3
    assert frames.SyncFrame.model_validate({"after_seq": 0}).after_seq == 0
    for bad in ({}, {"after_seq": 1, "after_change": 1}, {"after_change": -1}):
        with pytest.raises(ValueError):
            frames.SyncFrame.model_validate(bad)
