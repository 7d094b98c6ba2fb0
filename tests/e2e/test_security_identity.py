"""Who may come in (issue 10, items 3 and 18): tokens signed by the right key but minted
for another audience or by another issuer, tokens whose e-mail is not verified, and
users the directory marks inactive are refused at the WebSocket handshake (the $connect
authorizer) and over HTTP."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus

from local.issuer import LocalIssuer
from local.stack import AUDIENCE
from tests.e2e.conftest import frames_until, of_type

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def stack_issuer(local_stack) -> LocalIssuer:
    """The running stack's own issuer (same key file), so a forged claim is the only
    thing wrong with the tokens it mints."""
    args = list(local_stack.process.args)  # type: ignore[arg-type]
    data_dir = Path(args[args.index("--data-dir") + 1])
    return LocalIssuer(
        local_stack.base_url + "/local-issuer", AUDIENCE, data_dir / "issuer-key.pem"
    )


def _handshake_status(local_stack, token: str, room_id: Any = None) -> int:
    try:
        with local_stack.connect(token, room_id):
            return 101
    except InvalidStatus as refused:
        return refused.response.status_code


def _http_status(local_stack, token: str) -> int:
    return local_stack.request("GET", "/api/me", token).status


@pytest.mark.parametrize(
    "claims",
    [
        {"aud": "another-app-client"},
        {"aud": ["another-app-client"]},
        {"iss": "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_SomeoneElse"},
        {"email_verified": False},
        {"email_verified": "false"},
        {"email_verified": None},
        {"token_use": "access"},
    ],
    ids=["aud", "aud-list", "iss", "unverified", "unverified-string", "no-verified-claim", "use"],
)
def test_a_token_with_one_wrong_claim_is_refused_everywhere(
    local_stack, incident, stack_issuer, claims
):
    # Given a member of a room, and a token for them signed by the stack's own key but
    # with one claim wrong
    editor = incident["editor"]
    good = stack_issuer.mint(editor.user_id, editor.display_name)
    bad = stack_issuer.mint(editor.user_id, editor.display_name, **claims)  # None: no claim
    # Then the good token opens the room and the API
    assert _handshake_status(local_stack, good, incident["room_id"]) == 101
    assert _http_status(local_stack, good) == 200
    # and the forged one is refused by the authorizer (room and user connections) and HTTP
    assert _handshake_status(local_stack, bad, incident["room_id"]) == 401
    assert _handshake_status(local_stack, bad) == 401
    assert _http_status(local_stack, bad) == 401


def test_the_local_issuer_mints_verified_tokens_by_default(stack_issuer):
    import jwt

    token = stack_issuer.mint("ann@factory.example", "Ann")
    assert jwt.decode(token, options={"verify_signature": False})["email_verified"] is True


def test_an_inactive_user_is_refused_over_http(local_stack, incident, sql):
    # Given a member whom the directory marks inactive, with a token still valid
    viewer = incident["viewer"]
    assert _http_status(local_stack, viewer.token) == 200
    sql.execute("UPDATE tr_users SET is_active = false WHERE user_id = %s", (viewer.user_id,))
    try:
        # When they read over HTTP
        rooms = local_stack.request("GET", "/api/rooms", viewer.token)
        history = local_stack.request(
            "GET", f"/api/rooms/{incident['room_id']}/messages", viewer.token
        )
        # Then they are refused
        assert rooms.status == 403 and rooms.body["error"]["code"] == "FORBIDDEN"
        assert history.status == 403
    finally:
        sql.execute("UPDATE tr_users SET is_active = true WHERE user_id = %s", (viewer.user_id,))
    # and reinstated, they are let in again
    assert local_stack.request("GET", "/api/rooms", viewer.token).status == 200


def test_an_inactive_user_cannot_connect_and_an_open_socket_stops_serving_them(
    local_stack, incident, sql
):
    editor, room_id = incident["editor"], incident["room_id"]
    # Given the editor with a room socket and a user socket open
    with local_stack.connect(editor.token, room_id) as ws:
        ws.send(json.dumps({"type": "presence"}))
        frames_until(ws, of_type("presence"))
        # When the directory marks them inactive
        sql.execute("UPDATE tr_users SET is_active = false WHERE user_id = %s", (editor.user_id,))
        try:
            # Then a new handshake is refused, to a room and as a user connection
            assert _handshake_status(local_stack, editor.token, room_id) in (401, 403)
            assert _handshake_status(local_stack, editor.token) in (401, 403)
            # and the open socket's next send is refused, not stored
            client_msg_id = str(uuid.uuid4())
            ws.send(
                json.dumps(
                    {"type": "message", "client_msg_id": client_msg_id, "content": "still here?"}
                )
            )
            try:
                answer = frames_until(ws, lambda f: f.get("type") in ("error", "ack"))[-1]
                assert answer["type"] == "error", answer
                assert answer["code"] in ("FORBIDDEN", "UNAUTHORIZED")
            except ConnectionClosed:
                pass  # closing the socket is an acceptable refusal too
            else:
                # and so is even a typing frame, which reads no message
                ws.send(json.dumps({"type": "typing", "is_typing": True}))
                refused = frames_until(ws, of_type("error"))[-1]
                assert refused["code"] in ("FORBIDDEN", "UNAUTHORIZED"), refused
        finally:
            sql.execute(
                "UPDATE tr_users SET is_active = true WHERE user_id = %s", (editor.user_id,)
            )
    page = local_stack.request("GET", f"/api/rooms/{room_id}/messages", incident["owner"].token)
    assert all(m.get("client_msg_id") != client_msg_id for m in page.body["messages"])
