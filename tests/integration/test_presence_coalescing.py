"""Presence coalescing keeps a person's LAST change in a window (issue 14, survivor 6b):
a mutation that kept the first change (a join then a leave announced as a join) passed
every other test. Departures here have no grace (that has tests of its own in
test_presence_grace.py): the window alone decides what is announced."""

from __future__ import annotations

import uuid

import pytest

from tests.integration.conftest import open_connection, ws
from warroom.delivery import RoomDelivery
from warroom.fanout import Broadcaster

pytestmark = pytest.mark.integration


def _announced(api, connection_id, user_id):
    """The presence events the socket heard about `user_id`, in order."""
    return [
        f["event"]
        for f in api.frames(connection_id, "system")
        if user_id in {u["user_id"] for u in f.get("users") or []}
    ]


def test_a_join_then_a_leave_in_one_window_is_announced_as_a_leave(aws, room, db):
    # Given the owner watching the room, which has just announced their own join
    api, store = aws
    watcher = ws(room["room_id"], room["tokens"]["owner"])
    assert open_connection(watcher)["statusCode"] == 200
    broadcaster = Broadcaster("https://ws.test/local", store, client=api)
    slow = RoomDelivery(broadcaster, db=db, join_window=3600.0, leave_grace=0.0)
    room_id = uuid.UUID(room["room_id"])
    editor = room["ids"]["editor"]
    # When the editor joins and then leaves within the room's window (both left pending)
    slow.presence_changed(room_id, user_id=editor, display_name="Editor", event="user_joined")
    slow.presence_changed(room_id, user_id=editor, display_name="Editor", event="user_left")
    assert _announced(api, watcher.connection_id, editor) == []
    # and the pending changes are announced once the window has passed
    RoomDelivery(broadcaster, db=db, join_window=0.0, leave_grace=0.0).flush_presence(room_id)
    # Then the room hears the editor's last change only: they left
    assert _announced(api, watcher.connection_id, editor) == ["user_left"]


def test_a_leave_then_a_join_in_one_window_is_announced_as_a_join(aws, room, db):
    # Given the owner watching the room
    api, store = aws
    watcher = ws(room["room_id"], room["tokens"]["owner"])
    assert open_connection(watcher)["statusCode"] == 200
    broadcaster = Broadcaster("https://ws.test/local", store, client=api)
    slow = RoomDelivery(broadcaster, db=db, join_window=3600.0, leave_grace=0.0)
    room_id = uuid.UUID(room["room_id"])
    viewer = room["ids"]["viewer"]
    # When the viewer leaves and comes back within the window (a reload)
    slow.presence_changed(room_id, user_id=viewer, display_name="Viewer", event="user_left")
    slow.presence_changed(room_id, user_id=viewer, display_name="Viewer", event="user_joined")
    RoomDelivery(broadcaster, db=db, join_window=0.0, leave_grace=0.0).flush_presence(room_id)
    # Then the room hears that they are in
    assert _announced(api, watcher.connection_id, viewer) == ["user_joined"]
