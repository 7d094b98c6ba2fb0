"""The Lambda handlers invoked with API Gateway events: the real PostgreSQL (messages and
the connection table), moto for S3, and a recording Management API (moto's own joins
posts and never says 410)."""

from __future__ import annotations

import base64
import json
import uuid
from typing import Any

import boto3
import pytest

from functions.connect import authorizer
from functions.connect import handler as connect
from functions.history import handler as history
from local.events import http_event
from tests.integration.conftest import ctx, frame, open_connection, ws

pytestmark = pytest.mark.integration


def test_authorizer_allows_a_valid_token_and_refuses_others(aws, room, issuer):
    # Given a valid token and a forged one
    conn = ws(room["room_id"], room["tokens"]["owner"])
    # When the authorizer sees them
    policy = authorizer.lambda_handler(conn.authorizer_event(), ctx("authorizer"))
    # Then the valid one is allowed with the identity as context
    assert policy["policyDocument"]["Statement"][0]["Effect"] == "Allow"
    assert policy["context"]["user_id"] == room["ids"]["owner"]
    for bad in (
        "",
        "x.y.z",
        issuer.mint("a@b.example", "A", lifetime=-120),
        room["tokens"]["owner"][:-3] + "abc",
    ):
        with pytest.raises(Exception, match=r"^Unauthorized$"):
            authorizer.lambda_handler(
                ws(room["room_id"], bad).authorizer_event(), ctx("authorizer")
            )


def test_connect_stores_members_and_refuses_others(aws, room, issuer):
    _api, store = aws
    member = ws(room["room_id"], room["tokens"]["viewer"])
    assert open_connection(member)["statusCode"] == 200
    assert str(store.get(member.connection_id).room_id) == room["room_id"]
    stranger = ws(room["room_id"], issuer.mint(f"x-{uuid.uuid4().hex[:6]}@factory.example", "X"))
    assert open_connection(stranger)["statusCode"] == 403
    assert open_connection(ws(room["room_id"], "not-a-token"))["statusCode"] == 401
    assert open_connection(ws(str(uuid.uuid4()), room["tokens"]["owner"]))["statusCode"] == 404
    assert store.get(stranger.connection_id) is None
    user_connection = ws(None, room["tokens"]["editor"])
    assert open_connection(user_connection)["statusCode"] == 200
    assert store.get(user_connection.connection_id).is_user_connection


def test_connect_trusts_the_authorizer_context_when_present(aws, room):
    _api, store = aws
    conn = ws(room["room_id"], "ignored")
    conn.authorizer = {
        "user_id": room["ids"]["editor"],
        "display_name": "Editor",
        "principalId": room["ids"]["editor"],
    }
    assert open_connection(conn)["statusCode"] == 200
    assert store.get(conn.connection_id).user_id == room["ids"]["editor"]


def test_message_is_acked_first_broadcast_and_notified(aws, room):
    api, _store = aws
    sender, listener = (
        ws(room["room_id"], room["tokens"]["owner"]),
        ws(room["room_id"], room["tokens"]["viewer"]),
    )
    badge = ws(None, room["tokens"]["editor"])
    for conn in (sender, listener, badge):
        open_connection(conn)
    client_msg_id = str(uuid.uuid4())
    frame(
        sender,
        {
            "type": "message",
            "client_msg_id": client_msg_id,
            "content": "hi @Editor",
            "mentions": [room["ids"]["editor"]],
        },
    )
    mine = [f for f in api.posts[sender.connection_id] if f["type"] in ("ack", "message")]
    assert [f["type"] for f in mine] == ["ack", "message"]  # the sender hears first
    assert mine[0]["client_msg_id"] == client_msg_id
    for conn in (sender, listener):
        assert [f["message"]["content"] for f in api.frames(conn.connection_id, "message")] == [
            "hi @Editor"
        ]
    note = api.frames(badge.connection_id, "notification")
    assert [n["event"] for n in note] == ["mention"]


def test_bad_frames_answer_with_typed_errors(aws, room):
    api, _ = aws
    conn = ws(room["room_id"], room["tokens"]["viewer"])
    open_connection(conn)
    frame(conn, "{{not json", "$default")
    frame(conn, {"type": "teleport"}, "$default")
    frame(
        conn, {"type": "message", "client_msg_id": str(uuid.uuid4()), "content": "viewer speaking"}
    )
    frame(conn, {"type": "sync", "after_seq": "soon"})
    codes = [f["code"] for f in api.frames(conn.connection_id, "error")]
    assert codes == ["VALIDATION", "VALIDATION", "FORBIDDEN", "VALIDATION"]


def test_an_unexpected_fault_becomes_an_internal_error_frame_without_details(
    aws, room, monkeypatch
):
    api, _ = aws
    conn = ws(room["room_id"], room["tokens"]["owner"])
    open_connection(conn)

    def explode(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("secret internals /var/task/handler.py line 42")

    monkeypatch.setattr("warroom.logic.messages.history", explode)
    frame(conn, {"type": "sync", "after_seq": 0})
    error = api.frames(conn.connection_id, "error")[-1]
    assert (
        error["code"] == "INTERNAL"
        and "secret" not in error["message"]
        and "handler.py" not in error["message"]
    )


def test_gone_connections_are_removed_and_do_not_stop_the_others(aws, room, sql):
    # Given three connections, one of which has been gone for a while (410)
    api, store = aws
    sender, alive, dead = (
        ws(room["room_id"], room["tokens"][w]) for w in ("owner", "editor", "viewer")
    )
    for conn in (sender, alive, dead):
        open_connection(conn)
    sql.execute(
        "UPDATE connections SET connected_at = connected_at - interval '1 minute' "
        "WHERE connection_id = %s",
        (dead.connection_id,),
    )
    api.gone.add(dead.connection_id)
    # When a message is broadcast
    frame(
        sender, {"type": "message", "client_msg_id": str(uuid.uuid4()), "content": "still there?"}
    )
    # Then the live one hears it and the gone row is deleted
    assert api.frames(alive.connection_id, "message")
    assert store.get(dead.connection_id) is None
    assert store.get(alive.connection_id) is not None


def test_a_410_racing_connect_never_removes_a_fresh_row(aws, room):
    # Given a connection whose $connect has just stored its row, but whose socket the
    # gateway does not serve yet (API Gateway answers 410 until $connect returns)
    api, store = aws
    sender, fresh = (
        ws(room["room_id"], room["tokens"]["owner"]),
        ws(room["room_id"], room["tokens"]["editor"]),
    )
    open_connection(sender)
    open_connection(fresh)
    api.gone.add(fresh.connection_id)
    # When a message is broadcast in that moment
    frame(sender, {"type": "message", "client_msg_id": str(uuid.uuid4()), "content": "race"})
    # Then the fresh row stays: once the socket is live it hears the room
    assert store.get(fresh.connection_id) is not None
    api.gone.discard(fresh.connection_id)
    frame(sender, {"type": "message", "client_msg_id": str(uuid.uuid4()), "content": "after"})
    assert [f["message"]["content"] for f in api.frames(fresh.connection_id, "message")] == [
        "after"
    ]


def test_a_frame_from_an_unregistered_connection_is_refused_and_closed(aws, room):
    # Given a socket the table does not know (its row was swept, or never written)
    api, _store = aws
    ghost = ws(room["room_id"], room["tokens"]["owner"])
    # When it sends a frame
    frame(ghost, {"type": "message", "content": "hello?"})
    # Then it gets UNAUTHORIZED and the server closes the socket, so it reconnects at once
    assert [f["code"] for f in api.frames(ghost.connection_id, "error")] == ["UNAUTHORIZED"]
    assert api.closed == [ghost.connection_id]


def test_disconnect_announces_user_left_only_for_the_last_connection(aws, room):
    api, store = aws
    watcher = ws(room["room_id"], room["tokens"]["owner"])
    tab1, tab2 = (
        ws(room["room_id"], room["tokens"]["editor"]),
        ws(room["room_id"], room["tokens"]["editor"]),
    )
    for conn in (watcher, tab1, tab2):
        open_connection(conn)
    connect.lambda_handler(tab1.disconnect_event(1001, "gone"), ctx("connect"))
    assert not [f for f in api.frames(watcher.connection_id, "system") if f["event"] == "user_left"]
    connect.lambda_handler(tab2.disconnect_event(1000, "bye"), ctx("connect"))
    left = [f for f in api.frames(watcher.connection_id, "system") if f["event"] == "user_left"]
    assert [f["user_id"] for f in left] == [room["ids"]["editor"]]
    assert store.get(tab2.connection_id) is None


def test_http_handler_answers_with_json_and_checks_the_token(aws, room):
    def call(path: str, token: str | None) -> dict[str, Any]:
        headers = {"authorization": f"Bearer {token}"} if token else {}
        event = http_event(
            method="GET",
            path=path,
            raw_query="",
            query={},
            headers=headers,
            body=b"",
            source_ip="10.0.0.1",
            domain_name="api.test",
        )
        return history.lambda_handler(event, ctx("history"))

    ok = call(f"/api/rooms/{room['room_id']}", room["tokens"]["viewer"])
    assert ok["statusCode"] == 200 and json.loads(ok["body"])["my_role"] == "VIEWER"
    refused = call(f"/api/rooms/{room['room_id']}", None)
    assert (
        refused["statusCode"] == 401
        and json.loads(refused["body"])["error"]["code"] == "UNAUTHORIZED"
    )


def test_http_handler_hands_out_presigned_uploads_on_moto_s3(aws, room):
    def call(method: str, path: str, body: Any) -> dict[str, Any]:
        event = http_event(
            method=method,
            path=path,
            raw_query="",
            query={},
            headers={
                "authorization": f"Bearer {room['tokens']['editor']}",
                "content-type": "application/json",
            },
            body=json.dumps(body).encode(),
            source_ip="10.0.0.1",
            domain_name="api.test",
        )
        return history.lambda_handler(event, ctx("history"))

    created = call(
        "POST",
        f"/api/rooms/{room['room_id']}/files",
        {"filename": "trend.csv", "content_type": "text/csv", "size": 12},
    )
    assert created["statusCode"] == 201
    upload = json.loads(created["body"])["upload"]
    assert upload["fields"]["Content-Type"] == "text/csv"
    policy = json.loads(base64.b64decode(upload["fields"]["policy"]))
    assert ["content-length-range", 1, 12] in policy["conditions"]
    # and the object can then be put and fetched on (moto's) S3
    s3 = boto3.client("s3")
    s3.put_object(Bucket="attachments", Key=upload["fields"]["key"], Body=b"t,temp\n1,85\n")
    file_id = json.loads(created["body"])["file_id"]
    link = call("GET", f"/api/rooms/{room['room_id']}/files/{file_id}", None)
    assert link["statusCode"] == 200 and json.loads(link["body"])["filename"] == "trend.csv"
