"""Trailing joins in the cloud's shape: a join left pending sends one SQS message delayed
by the window, and functions/presence_flush announces the room's pending changes when it
comes due. Real PostgreSQL, moto's SQS, the recording Management API."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import boto3
import pytest

from functions.connect import handler as connect
from functions.presence_flush import handler as presence_flush
from tests.integration.conftest import ctx, open_connection, ws
from warroom.delivery import RoomDelivery, set_flush_scheduler, set_room_delivery
from warroom.fanout import Broadcaster
from warroom.flush_scheduler import SqsFlushScheduler, flush_message
from warroom.realtime import Realtime, set_realtime

pytestmark = pytest.mark.integration


class RecordingSqs:
    """moto's SQS client, keeping each send_message's arguments to read back."""

    def __init__(self) -> None:
        self.client = boto3.client("sqs")
        self.sent: list[dict[str, Any]] = []

    def send_message(self, **kwargs: Any) -> dict[str, Any]:
        self.sent.append(kwargs)
        return dict(self.client.send_message(**kwargs))


@pytest.fixture
def windowed(aws, db):
    """The aws fixture's stack with a one-second join window and an SQS flush scheduler."""
    api, store = aws
    sqs = RecordingSqs()
    queue_url = sqs.client.create_queue(QueueName="presence-flush")["QueueUrl"]
    broadcaster = Broadcaster("https://ws.test/local", store, client=api)
    delivery = RoomDelivery(broadcaster, db=db, join_window=1.0)
    set_realtime(Realtime(store, broadcaster, delivery))
    set_room_delivery(delivery)
    set_flush_scheduler(SqsFlushScheduler(queue_url, client=sqs))
    yield api, sqs, queue_url
    set_flush_scheduler(None)


def sqs_event(*bodies: str) -> dict[str, Any]:
    return {
        "Records": [
            {"messageId": f"m{i}", "body": body, "eventSource": "aws:sqs"}
            for i, body in enumerate(bodies)
        ]
    }


def test_a_pending_join_schedules_its_flush_and_the_flush_announces_it(windowed, room, sql):
    api, sqs, queue_url = windowed
    # Given the owner in the room, whose own join was announced (the window opens)
    watcher = ws(room["room_id"], room["tokens"]["owner"])
    open_connection(watcher)
    already = len(api.frames(watcher.connection_id, "system"))
    # When the viewer joins inside the window
    open_connection(ws(room["room_id"], room["tokens"]["viewer"]))
    # Then nothing is announced yet, and exactly one flush was scheduled on the queue,
    # delayed by the window (whole seconds, SQS's unit)
    assert len(api.frames(watcher.connection_id, "system")) == already
    (sent,) = [s for s in sqs.sent if room["room_id"] in s["MessageBody"]]
    assert sent["QueueUrl"] == queue_url and sent["DelaySeconds"] == 1
    # When the message comes due and the flush function receives it
    sql.execute(
        "UPDATE room_presence SET announced_at = announced_at - interval '2 seconds' "
        "WHERE room_id = %s",
        (room["room_id"],),
    )  # the window has passed by then
    result = presence_flush.lambda_handler(sqs_event(sent["MessageBody"]), ctx("flush"))
    # Then the viewer's join is announced to the room, and the batch reports no failure
    assert result == {"batchItemFailures": []}
    joined = api.frames(watcher.connection_id, "system")[already:]
    assert [u["user_id"] for f in joined for u in f["users"]] == [room["ids"]["viewer"]]
    # And a second, late copy of the message announces nothing more
    presence_flush.lambda_handler(sqs_event(sent["MessageBody"]), ctx("flush"))
    assert len(api.frames(watcher.connection_id, "system")) == already + 1


def test_a_flush_with_nothing_pending_leaves_the_rooms_window_alone(windowed, room, sql):
    # Given a room whose last announcement was long ago and nothing pending
    open_connection(ws(room["room_id"], room["tokens"]["owner"]))
    sql.execute(
        "UPDATE room_presence SET announced_at = now() - interval '1 hour' WHERE room_id = %s",
        (room["room_id"],),
    )
    before = sql.execute(
        "SELECT announced_at FROM room_presence WHERE room_id = %s", (room["room_id"],)
    ).fetchone()["announced_at"]
    # When a flush of it arrives (its change was taken by the room's next event)
    body = flush_message(UUID(room["room_id"]))
    assert presence_flush.lambda_handler(sqs_event(body), ctx("flush")) == {"batchItemFailures": []}
    # Then the window was not claimed: the next join is announced at once
    after = sql.execute(
        "SELECT announced_at FROM room_presence WHERE room_id = %s", (room["room_id"],)
    ).fetchone()["announced_at"]
    assert after == before


def test_a_malformed_message_is_reported_alone(windowed, room):
    # Given a batch with a good flush message and two that are not flush messages
    good = flush_message(UUID(room["room_id"]))
    # When the function receives it
    result = presence_flush.lambda_handler(
        sqs_event("not json", good, '{"room": "x"}'), ctx("flush")
    )
    # Then only the two bad ones are reported, for SQS to retry and set aside
    assert result == {"batchItemFailures": [{"itemIdentifier": "m0"}, {"itemIdentifier": "m2"}]}


class FailingSqs:
    def send_message(self, **kwargs: Any) -> dict[str, Any]:
        raise ConnectionError("SQS endpoint unreachable")


def test_a_join_is_not_refused_when_its_flush_cannot_be_scheduled(windowed, room, sql):
    _api, _sqs, _queue = windowed
    # Given SQS unreachable for the scheduler, and the owner's join opening the window
    set_flush_scheduler(SqsFlushScheduler("https://sqs.test/queue", client=FailingSqs()))
    watcher = ws(room["room_id"], room["tokens"]["owner"])
    open_connection(watcher)
    # When the viewer joins inside the window
    answer = open_connection(ws(room["room_id"], room["tokens"]["viewer"]))
    # Then the viewer's socket is accepted all the same, and the join stays pending for
    # the room's next event or the minute's sweep
    assert answer["statusCode"] == 200
    pending = sql.execute(
        "SELECT user_id FROM presence_changes WHERE room_id = %s", (room["room_id"],)
    ).fetchall()
    assert [r["user_id"] for r in pending] == [room["ids"]["viewer"]]


def test_the_flush_function_runs_without_the_api_settings(windowed, room, monkeypatch):
    from warroom.settings import clear_settings_cache

    # Given the flush function's environment: the database and @connections, no JWT
    # settings (the stack gives it the sweep's environment)
    monkeypatch.delenv("JWT_ISSUER", raising=False)
    monkeypatch.delenv("JWT_AUDIENCE", raising=False)
    clear_settings_cache()
    try:
        # When a flush message arrives
        body = flush_message(UUID(room["room_id"]))
        result = presence_flush.lambda_handler(sqs_event(body), ctx("flush"))
    finally:
        clear_settings_cache()
    # Then it is handled, not failed for a setting it has no use for
    assert result == {"batchItemFailures": []}


def test_a_departure_in_its_grace_schedules_its_flush_for_when_the_grace_ends(aws, db, room):
    # Given a room with a 1 s window, a 30 s departure grace and the SQS flush scheduler
    api, store = aws
    sqs = RecordingSqs()
    queue_url = sqs.client.create_queue(QueueName="presence-flush-grace")["QueueUrl"]
    broadcaster = Broadcaster("https://ws.test/local", store, client=api)
    delivery = RoomDelivery(broadcaster, db=db, join_window=1.0, leave_grace=30.0)
    set_realtime(Realtime(store, broadcaster, delivery))
    set_room_delivery(delivery)
    set_flush_scheduler(SqsFlushScheduler(queue_url, client=sqs))
    try:
        open_connection(ws(room["room_id"], room["tokens"]["owner"]))
        phone = ws(room["room_id"], room["tokens"]["viewer"])
        open_connection(phone)
        sqs.sent.clear()

        # When the viewer's phone drops (a departure that waits out its grace)
        connect.lambda_handler(phone.disconnect_event(1006, "gone"), ctx("connect"))

        # Then the room's flush is scheduled for when the grace ends, not the window's end
        # (a flush at 1 s would find nothing due, and nothing would announce the departure)
        delays = [s["DelaySeconds"] for s in sqs.sent if room["room_id"] in s["MessageBody"]]
        assert delays == [30]
    finally:
        set_flush_scheduler(None)
