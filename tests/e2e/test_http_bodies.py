"""Every HTTP answer holding JSON, from the running local stack, fits its model's schema
in the document the web client's types are generated from (warroom.wire_schema): no key
missing, none extra, every type right. So the generated types cannot drift from what the
routes answer."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from warroom import bodies, frames, wire_schema
from warroom.models import Member, Room, User

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def fits():
    definitions = wire_schema.document()["$defs"]

    def check(model: type, body: Any) -> None:
        validator = Draft202012Validator(
            {"$ref": f"#/$defs/{model.__name__}", "$defs": definitions}
        )
        problems = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(body)]
        assert problems == [], f"{model.__name__}: {problems}"

    return check


def test_every_json_answer_fits_its_schema(local_stack, incident, fits):
    owner, editor, room = incident["owner"], incident["editor"], incident["room_id"]

    def get(path: str, token: str | None = owner.token) -> Any:
        result = local_stack.request("GET", path, token)
        assert result.status == 200, result.text
        return result.body

    # Given a room with a few messages (one of them incident data, one mentioning a member)
    sent = []
    for body in (
        {"client_msg_id": str(uuid.uuid4()), "message_type": "text", "content": "leak on press 4"},
        {
            "client_msg_id": str(uuid.uuid4()),
            "message_type": "incident_data",
            "content": {"readings": {"temperature": 91.5}, "units": {"temperature": "°C"}},
        },
        {
            "client_msg_id": str(uuid.uuid4()),
            "message_type": "text",
            "content": "please check",
            "mentions": [editor.user_id, "ghost@factory.example"],
        },
    ):
        answer = local_stack.request("POST", f"/api/rooms/{room}/messages", owner.token, body)
        assert answer.status == 201, answer.text
        sent.append(answer.body)
    # When every route that answers JSON is called, each answer fits its model
    for ack in sent:
        fits(frames.AckFields, ack)
    fits(bodies.Health, get("/api/health", None))
    fits(User, get("/api/me"))
    fits(bodies.UserList, get("/api/users?q=owner-"))
    fits(bodies.Limits, get("/api/limits"))
    fits(bodies.RoomList, get("/api/rooms"))
    fits(Room, get(f"/api/rooms/{room}"))
    patched = local_stack.request("PATCH", f"/api/rooms/{room}", owner.token, {"location": "B2"})
    fits(Room, patched.body)
    fits(bodies.MemberList, get(f"/api/rooms/{room}/members"))
    role = local_stack.request(
        "PATCH", f"/api/rooms/{room}/members/{editor.user_id}", owner.token, {"role": "VIEWER"}
    )
    fits(Member, role.body)
    fits(bodies.HistoryAnswer, get(f"/api/rooms/{room}/messages?limit=2"))
    fits(bodies.HistoryAnswer, get(f"/api/rooms/{room}/messages?after_seq=0"))
    fits(bodies.ChangesAnswer, get(f"/api/rooms/{room}/messages?changed_after=0"))
    read = local_stack.request("POST", f"/api/rooms/{room}/read", owner.token, {"last_read_seq": 1})
    fits(bodies.ReadMarkAnswer, read.body)
    fits(bodies.SearchAnswer, get(f"/api/search?q=leak&room_id={room}"))
    fits(bodies.MessageList, get("/api/mentions", editor.token))
    fits(bodies.MessageList, get(f"/api/rooms/{room}/incident-data?field=temperature"))
    ticket = local_stack.request(
        "POST",
        f"/api/rooms/{room}/files",
        owner.token,
        {"filename": "photo.png", "content_type": "image/png", "size": 100},
    )
    assert ticket.status == 201, ticket.text
    fits(bodies.UploadTicket, ticket.body)
    fits(bodies.FileList, get(f"/api/rooms/{room}/files"))
    fits(bodies.FileLink, get(f"/api/rooms/{room}/files/{ticket.body['file_id']}"))
    # And a refusal fits the error body
    missing = local_stack.request("GET", f"/api/rooms/{uuid.uuid4()}", owner.token)
    assert missing.status in (403, 404)
    fits(bodies.ErrorBody, missing.body)
