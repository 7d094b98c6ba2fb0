"""Fan-out rules with a stubbed Management API: no network."""

from __future__ import annotations

import json

import boto3
import pytest
from botocore.stub import Stubber

from warroom.bounds import MAX_MESSAGE_BYTES
from warroom.fanout import Broadcaster, PostStatus, Transport, encode_frame

pytestmark = pytest.mark.unit


class FakeStore:
    def __init__(self) -> None:
        self.deleted: list[str] = []

    def forget_gone(self, connection_id: str):
        self.deleted.append(connection_id)


@pytest.fixture
def client():
    return boto3.client(
        "apigatewaymanagementapi",
        endpoint_url="https://example.execute-api.test/prod",
        region_name="us-east-1",
        aws_access_key_id="x",
        aws_secret_access_key="x",
    )


def test_gone_connection_is_deleted_and_the_others_still_get_the_frame(client):
    # Given three connections, the second of which is gone (410)
    store = FakeStore()
    broadcaster = Broadcaster(
        "https://x", store, client=client, max_workers=1
    )  # one at a time: stub order
    with Stubber(client) as stub:
        stub.add_response(
            "post_to_connection", {}, {"ConnectionId": "a", "Data": b'{"type":"pong"}'}
        )
        stub.add_client_error("post_to_connection", "GoneException", http_status_code=410)
        stub.add_response(
            "post_to_connection", {}, {"ConnectionId": "c", "Data": b'{"type":"pong"}'}
        )
        # When a frame is fanned out
        report = broadcaster.to_connections(["a", "b", "c"], {"type": "pong"})
    # Then two are delivered and the gone one is removed from the table
    assert report.delivered == 2 and report.gone == ["b"] and report.failed == []
    assert store.deleted == ["b"]


def test_throttling_is_retried_with_backoff(client):
    broadcaster = Broadcaster("https://x", FakeStore(), client=client, base_delay=0.001)
    with Stubber(client) as stub:
        stub.add_client_error("post_to_connection", "LimitExceededException", http_status_code=429)
        stub.add_client_error("post_to_connection", "LimitExceededException", http_status_code=429)
        stub.add_response("post_to_connection", {})
        report = broadcaster.post("a", {"type": "pong"})
        stub.assert_no_pending_responses()
    assert report.delivered == 1


def test_throttling_that_never_ends_counts_as_failed(client):
    broadcaster = Broadcaster(
        "https://x", FakeStore(), client=client, base_delay=0.001, max_attempts=2
    )
    with Stubber(client) as stub:
        stub.add_client_error("post_to_connection", "LimitExceededException", http_status_code=429)
        stub.add_client_error("post_to_connection", "LimitExceededException", http_status_code=429)
        report = broadcaster.post("a", {"type": "pong"})
    assert report.failed == ["a"] and report.delivered == 0


def test_nothing_over_128_kb_is_posted():
    # A message frame is slimmed to a pointer the client fetches by history
    big = {"type": "message", "message": {"message_id": "m", "content": "\u0001" * 60_000}}
    encoded = encode_frame(big)
    assert encoded is not None and len(encoded) <= MAX_MESSAGE_BYTES
    slim = json.loads(encoded)
    assert slim["message"]["content"] is None and slim["message"]["content_truncated"] is True
    # any other oversized frame is not posted at all
    assert encode_frame({"type": "sync", "messages": ["x" * 70_000, "y" * 70_000]}) is None


def test_an_oversized_frame_is_reported_failed_without_a_call(client):
    broadcaster = Broadcaster("https://x", FakeStore(), client=client)
    with Stubber(client):  # any call would raise: none is stubbed
        report = broadcaster.to_connections(
            ["a", "b"], {"type": "sync", "messages": ["x" * 140_000]}
        )
    assert report.failed == ["a", "b"]


def test_a_sync_reply_is_cut_to_fit_one_frame():
    from datetime import UTC, datetime
    from uuid import uuid4

    from warroom.models import Message
    from warroom.realtime import sync_frame

    def message(seq: int, text: str) -> Message:
        return Message(
            message_id=uuid4(),
            room_id=uuid4(),
            sender_id="a@b.example",
            sender_display_name="A",
            content=text,
            message_type="text",
            mentions=[],
            created_at=datetime.now(UTC),
            sequence_number=seq,
        )

    # Given five messages of 60 KB each (300 KB together)
    many = [message(n, "x" * 60_000) for n in range(1, 6)]
    # When they are synced
    reply = sync_frame(many, has_more=False)
    # Then the reply fits, starts at the oldest and says there is more to ask for
    assert encode_frame(reply) is not None
    seqs = [m["sequence_number"] for m in reply["messages"]]
    assert seqs == list(range(1, len(seqs) + 1)) and len(seqs) < 5 and reply["has_more"] is True
    # And one message that cannot fit even alone goes as a pointer to read over HTTP
    huge = sync_frame([message(9, "\u0001" * 30_000)], has_more=False)  # 6 bytes each in JSON
    assert (
        huge["messages"][0]["content"] is None and huge["messages"][0]["content_truncated"] is True
    )


class HandOverTransport(Transport):
    """A non-blocking transport (like the local gateway's in-process one): a batch is
    handed over at once; `script` gives a connection's answers in turn."""

    blocking = False

    def __init__(self, script: dict[str, list[PostStatus]]) -> None:
        self.script = script
        self.batches: list[list[str]] = []
        self.single: list[str] = []

    def _answer(self, connection_id: str) -> PostStatus:
        plan = self.script.get(connection_id) or [PostStatus.DELIVERED]
        return plan.pop(0) if len(plan) > 1 else plan[0]

    def post(self, connection_id: str, data: bytes) -> PostStatus:
        self.single.append(connection_id)
        return self._answer(connection_id)

    def post_many(self, connection_ids: list[str], data: bytes) -> list[PostStatus]:
        self.batches.append(list(connection_ids))
        return [self._answer(c) for c in connection_ids]

    def delete(self, connection_id: str) -> PostStatus:
        return PostStatus.DELIVERED


def test_a_hand_over_transport_gets_one_batch_and_the_same_gone_and_retry_rules():
    # Given four connections: one gone, one throttled once
    transport = HandOverTransport(
        {"b": [PostStatus.GONE], "c": [PostStatus.THROTTLED, PostStatus.DELIVERED]}
    )
    store = FakeStore()
    broadcaster = Broadcaster("unused", store, transport=transport, base_delay=0.001)
    # When a frame is fanned out
    report = broadcaster.to_connections(["a", "b", "c", "d"], {"type": "typing"})
    # Then the fan-out was one batch, the gone one is forgotten and the throttled one
    # retried on its own until delivered
    assert transport.batches == [["a", "b", "c", "d"]]
    assert transport.single == ["c"]
    assert report.delivered == 3 and report.gone == ["b"] and report.failed == []
    assert store.deleted == ["b"]
