"""Departures wait out a grace period (issue 16): a reload or a short signal loss is not
"left", and a departure is announced only when the person stayed away. Real PostgreSQL,
the real $connect/$disconnect handlers, a recording Management API."""

from __future__ import annotations

import time
import uuid

import pytest

from functions.connect import handler as connect
from tests.integration.conftest import ctx, open_connection, ws
from warroom.delivery import RoomDelivery
from warroom.fanout import Broadcaster
from warroom.realtime import Realtime, set_realtime

pytestmark = pytest.mark.integration

GRACE = 1.5


@pytest.fixture
def graceful(aws, db):
    """The handlers with a 1.5 s departure grace and no announcement window."""
    api, store = aws
    broadcaster = Broadcaster("https://ws.test/local", store, client=api)
    delivery = RoomDelivery(broadcaster, db=db, join_window=0.0, leave_grace=GRACE)
    set_realtime(Realtime(store, broadcaster, delivery))
    return api, delivery


def _presence(api, connection_id: str) -> list[tuple[str, str]]:
    return [
        (f["event"], f["user_id"])
        for f in api.frames(connection_id, "system")
        if f["event"] in ("user_joined", "user_left")
    ]


def _disconnect(conn) -> None:
    connect.lambda_handler(conn.disconnect_event(1006, "gone"), ctx("connect"))


def test_back_within_the_grace_writes_neither_left_nor_joined(graceful, room):
    api, delivery = graceful
    # Given the owner watching and the editor in the room
    watcher = ws(room["room_id"], room["tokens"]["owner"])
    phone = ws(room["room_id"], room["tokens"]["editor"])
    open_connection(watcher)
    open_connection(phone)
    heard_before = _presence(api, watcher.connection_id)
    # When the editor's signal drops and they come back on a new socket within the grace
    _disconnect(phone)
    back = ws(room["room_id"], room["tokens"]["editor"])
    open_connection(back)
    # and the grace passes and the room is flushed
    time.sleep(GRACE + 0.3)
    delivery.flush_due_presence()
    # Then the watcher heard no departure and no second join
    assert _presence(api, watcher.connection_id) == heard_before


def test_a_reload_that_connects_before_it_disconnects_writes_nothing(graceful, room):
    api, delivery = graceful
    watcher = ws(room["room_id"], room["tokens"]["owner"])
    old_tab = ws(room["room_id"], room["tokens"]["editor"])
    open_connection(watcher)
    open_connection(old_tab)
    heard_before = _presence(api, watcher.connection_id)
    # When a reload opens the new socket first, then the old one closes
    open_connection(ws(room["room_id"], room["tokens"]["editor"]))
    _disconnect(old_tab)
    time.sleep(GRACE + 0.3)
    delivery.flush_due_presence()
    # Then nothing is announced
    assert _presence(api, watcher.connection_id) == heard_before


def test_a_departure_is_announced_once_the_grace_has_passed(graceful, room):
    api, delivery = graceful
    watcher = ws(room["room_id"], room["tokens"]["owner"])
    phone = ws(room["room_id"], room["tokens"]["editor"])
    open_connection(watcher)
    open_connection(phone)
    # When the editor goes and does not come back
    _disconnect(phone)
    delivery.flush_due_presence()
    # Then nothing is said at once
    assert ("user_left", room["ids"]["editor"]) not in _presence(api, watcher.connection_id)
    # and once the grace has passed, the flush announces the departure, once
    time.sleep(GRACE + 0.3)
    delivery.flush_due_presence()
    delivery.flush_due_presence()
    left = [p for p in _presence(api, watcher.connection_id) if p[0] == "user_left"]
    assert left == [("user_left", room["ids"]["editor"])]
    # and coming back after that is a join again
    open_connection(ws(room["room_id"], room["tokens"]["editor"]))
    assert _presence(api, watcher.connection_id)[-1] == ("user_joined", room["ids"]["editor"])


def test_a_send_in_the_room_does_not_announce_a_departure_early(graceful, room):
    api, _delivery = graceful
    watcher = ws(room["room_id"], room["tokens"]["owner"])
    phone = ws(room["room_id"], room["tokens"]["editor"])
    open_connection(watcher)
    open_connection(phone)
    _disconnect(phone)
    # When someone sends while the departure waits (a send flushes pending presence)
    from tests.integration.conftest import frame

    frame(watcher, {"type": "message", "client_msg_id": str(uuid.uuid4()), "content": "ok?"})
    # Then the departure is still not announced
    assert ("user_left", room["ids"]["editor"]) not in _presence(api, watcher.connection_id)
