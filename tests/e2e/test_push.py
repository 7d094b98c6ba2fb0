"""Web Push and on-call escalation (issue 19) against the running local stack, with a
loopback push service of the test's own that checks the VAPID JWT and decrypts every
push with keys only the test holds."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.push_service import LoopbackPushService, Subscription, start_push_service

pytestmark = pytest.mark.e2e

VALID_KEYS = {
    # A real P-256 point and a 16-byte secret, as a browser would send.
    "p256dh": "BNcRdreALRFXTkOOUHK1EtK2wtaz5Ry4YfYCA_0QTpQtUbVlUls0VJXg7A8u-Ts1XbjhazAkj7I99e8QcYP7DkM",
    "auth": "tBHItJI5svbpez7KI4CCXg",
}


@pytest.fixture(scope="module")
def push_service() -> Iterator[LoopbackPushService]:
    service, server = start_push_service()
    yield service
    server.shutdown()


def _subscribe(local_stack, token: str, sub: Subscription) -> None:
    saved = local_stack.request("POST", "/api/push/subscriptions", token, sub.as_json())
    assert saved.status == 201, saved.text


def _endpoints(local_stack, token: str) -> list[str]:
    found = local_stack.request("GET", "/api/push/subscriptions", token)
    assert found.status == 200, found.text
    return list(found.body["endpoints"])


def _mention(local_stack, token: str, room_id: str, text: str, who: list[str]) -> None:
    sent = local_stack.request(
        "POST",
        f"/api/rooms/{room_id}/messages",
        token,
        {"client_msg_id": str(uuid.uuid4()), "content": text, "mentions": who},
    )
    assert sent.status == 201, sent.text


def _on_call_line(local_stack, owner, rotation: list[str], delay: int) -> str:
    line = local_stack.request(
        "POST", "/api/lines", owner.token, {"name": f"SMT-{uuid.uuid4().hex[:6]}"}
    )
    assert line.status == 201, line.text
    line_id = line.body["line_id"]
    put = local_stack.request(
        "PUT",
        f"/api/lines/{line_id}/on-call",
        owner.token,
        {"rotation": rotation, "escalate_after_seconds": delay},
    )
    assert put.status == 200, put.text
    assert put.body["rotation"] == rotation
    return str(line_id)


def _open(local_stack, token: str, line_id: str, title: str) -> str:
    created = local_stack.request(
        "POST", "/api/rooms", token, {"title": title, "severity": "high", "line_id": line_id}
    )
    assert created.status == 201, created.text
    return str(created.body["room_id"])


def _timeline(local_stack, token: str, room_id: str) -> list[dict[str, Any]]:
    found = local_stack.request("GET", f"/api/rooms/{room_id}/timeline", token)
    assert found.status == 200, found.text
    return list(found.body["entries"])


def test_the_vapid_public_key_is_an_uncompressed_p256_point(local_stack, person):
    # Given a signed-in person
    someone = person("someone")
    # When they ask for the key to subscribe with
    answer = local_stack.request("GET", "/api/push/vapid-public-key", someone.token)
    # Then it is 65 bytes starting with 0x04, base64url
    from tests.e2e.push_service import unb64url

    assert answer.status == 200, answer.text
    point = unb64url(answer.body["key"])
    assert len(point) == 65 and point[0] == 4
    # And without a token there is none
    assert local_stack.request("GET", "/api/push/vapid-public-key").status == 401


def test_a_mention_reaches_only_the_mentioned_persons_device_encrypted(
    local_stack, incident, push_service
):
    # Given an editor and a viewer, each with a subscribed device
    room_id, owner = incident["room_id"], incident["owner"]
    editor, viewer = incident["editor"], incident["viewer"]
    editor_device, viewer_device = push_service.subscription(), push_service.subscription()
    _subscribe(local_stack, editor.token, editor_device)
    _subscribe(local_stack, viewer.token, viewer_device)

    # When the owner mentions the editor
    _mention(local_stack, owner.token, room_id, "@editor check the pump pressure", [editor.user_id])

    # Then the editor's device gets the room, the sender and the text, decrypted with keys
    # only the test holds, VAPID-signed, urgent, with a TTL and the room as its topic
    (first,) = push_service.wait_for(editor_device)
    assert first.payload["kind"] == "mention"
    assert first.payload["room_id"] == room_id
    assert first.payload["title"] == "Press 4 hydraulic leak"
    assert first.payload["text"] == "@editor check the pump pressure"
    assert first.payload["sender"] == owner.display_name
    assert b"pump pressure" not in first.body  # encrypted on the wire
    assert first.headers["urgency"] == "high"
    assert first.headers["topic"] == uuid.UUID(room_id).hex
    assert int(first.headers["ttl"]) > 0
    assert first.claims["aud"] == push_service.origin

    # When the viewer is mentioned next (pushes leave in order from one worker)
    _mention(local_stack, owner.token, room_id, "@viewer FYI", [viewer.user_id])
    (second,) = push_service.wait_for(viewer_device)
    # Then each device got only its own person's mention
    assert second.payload["text"] == "@viewer FYI"
    assert len(push_service.to(editor_device)) == 1
    assert push_service.rejections == []


def test_a_410_from_the_push_service_removes_the_subscription(local_stack, incident, push_service):
    # Given the editor's device, which its push service says is gone
    room_id, owner, editor = incident["room_id"], incident["owner"], incident["editor"]
    gone = push_service.subscription(answer=410)
    _subscribe(local_stack, editor.token, gone)
    assert gone.endpoint in _endpoints(local_stack, editor.token)

    # When a push is sent to it
    _mention(local_stack, owner.token, room_id, "@editor are you there?", [editor.user_id])
    push_service.wait_for(gone)

    # Then the subscription is deleted
    import time

    deadline = time.monotonic() + 10
    while gone.endpoint in _endpoints(local_stack, editor.token):
        assert time.monotonic() < deadline, "the gone subscription was not removed"
        time.sleep(0.1)


@pytest.mark.parametrize(
    "endpoint",
    [
        "https://attacker.example/push/1",
        "https://fcm.googleapis.com.attacker.example/push/1",
        "http://fcm.googleapis.com/fcm/send/1",  # not HTTPS
        "https://fcm.googleapis.com:8443/fcm/send/1",
        "http://10.0.0.5/push/1",
        "http://localhost:9/push/1",
        "file:///etc/passwd",
    ],
)
def test_an_endpoint_outside_the_push_services_is_refused(local_stack, person, endpoint):
    # Given a person
    someone = person("someone")
    # When they register an endpoint that is not a known push service
    answer = local_stack.request(
        "POST", "/api/push/subscriptions", someone.token, {"endpoint": endpoint, "keys": VALID_KEYS}
    )
    # Then it is refused and nothing is stored
    assert answer.status == 422, answer.text
    assert answer.body["error"]["code"] == "VALIDATION"
    assert _endpoints(local_stack, someone.token) == []


@pytest.mark.parametrize(
    ("keys", "field"),
    [
        ({"p256dh": "not-a-key", "auth": VALID_KEYS["auth"]}, "p256dh"),
        ({"p256dh": "B" + "A" * 86, "auth": VALID_KEYS["auth"]}, "p256dh"),  # off the curve
        ({"p256dh": VALID_KEYS["p256dh"], "auth": "c2hvcnQ"}, "auth"),
        ({"p256dh": VALID_KEYS["p256dh"], "auth": "%%%"}, "auth"),
    ],
)
def test_malformed_keys_are_refused(local_stack, person, keys, field):
    # Given a person and a real push service's endpoint
    someone = person("someone")
    body = {"endpoint": "https://fcm.googleapis.com/fcm/send/abc", "keys": keys}
    # When the keys are malformed
    answer = local_stack.request("POST", "/api/push/subscriptions", someone.token, body)
    # Then 422 naming the key, and nothing stored
    assert answer.status == 422, answer.text
    assert field in answer.body["error"]["message"]
    assert _endpoints(local_stack, someone.token) == []


def test_known_push_services_are_accepted_ten_per_person_and_the_oldest_goes(local_stack, person):
    # Given a person registering twelve devices on the known push services
    someone = person("someone")
    hosts = [
        "https://fcm.googleapis.com/fcm/send/",
        "https://updates.push.services.mozilla.com/wpush/v2/",
        "https://web.push.apple.com/",
        "https://wns2-par02p.notify.windows.com/w/?token=",
    ]
    endpoints = [hosts[i % 4] + f"device{i}" for i in range(12)]
    for endpoint in endpoints:
        body = {"endpoint": endpoint, "keys": VALID_KEYS}
        answer = local_stack.request("POST", "/api/push/subscriptions", someone.token, body)
        assert answer.status == 201, answer.text
    # Then the newest ten are kept
    assert sorted(_endpoints(local_stack, someone.token)) == sorted(endpoints[2:])
    # And one can be removed, once
    gone = {"endpoint": endpoints[5]}
    assert (
        local_stack.request("DELETE", "/api/push/subscriptions", someone.token, gone).status == 204
    )
    assert (
        local_stack.request("DELETE", "/api/push/subscriptions", someone.token, gone).status == 404
    )
    assert endpoints[5] not in _endpoints(local_stack, someone.token)


def test_only_the_line_owner_sets_who_is_on_call(local_stack, person):
    # Given a line's owner and someone else
    owner, other = person("lineowner"), person("other")
    line_id = _on_call_line(local_stack, owner, [other.user_id], 300)
    # When someone else sets the rotation
    answer = local_stack.request(
        "PUT", f"/api/lines/{line_id}/on-call", other.token, {"rotation": [other.user_id]}
    )
    # Then 403; an unknown person in the rotation is 422; the default delay is 300 s
    assert answer.status == 403, answer.text
    unknown = local_stack.request(
        "PUT", f"/api/lines/{line_id}/on-call", owner.token, {"rotation": ["nobody@x.example"]}
    )
    assert unknown.status == 422, unknown.text
    default = local_stack.request(
        "PUT", f"/api/lines/{line_id}/on-call", owner.token, {"rotation": [owner.user_id]}
    )
    assert default.status == 200 and default.body["escalate_after_seconds"] == 300


def test_a_new_incident_pages_the_first_on_call_at_once_and_the_next_after_the_delay(
    local_stack, person, push_service
):
    # Given a line with two people on call, two seconds apart, each with a device
    owner, first, second, reporter = (
        person("lineowner"),
        person("first"),
        person("second"),
        person("reporter"),
    )
    first_device, second_device = push_service.subscription(), push_service.subscription()
    _subscribe(local_stack, first.token, first_device)
    _subscribe(local_stack, second.token, second_device)
    line_id = _on_call_line(local_stack, owner, [first.user_id, second.user_id], 2)

    # When an operator opens an incident on the line
    room_id = _open(local_stack, reporter.token, line_id, "Reflow oven over temperature")

    # Then the first person is paged (with "Take it") and is a member of the room
    (page,) = push_service.wait_for(first_device)
    assert page.payload["kind"] == "page"
    assert page.payload["title"] == "Reflow oven over temperature"
    assert page.payload["room_id"] == room_id
    assert local_stack.request("GET", f"/api/rooms/{room_id}", first.token).status == 200
    # And the second hears of the incident, then is paged once nobody took it
    heard = push_service.wait_for(second_device, count=2)
    assert [d.payload["kind"] for d in heard] == ["incident", "page"]
    assert local_stack.request("GET", f"/api/rooms/{room_id}", second.token).status == 200
    # And every page is on the timeline, in order
    pages = [e for e in _timeline(local_stack, reporter.token, room_id) if e["kind"] == "page"]
    assert [p["paged_user_id"] for p in pages[:2]] == [first.user_id, second.user_id]
    # And after the rotation, the line's owner is paged
    owner_pages = _wait_for_page(local_stack, reporter.token, room_id, owner.user_id)
    assert owner_pages["step"] == 2


def _wait_for_page(local_stack, token: str, room_id: str, user_id: str) -> dict[str, Any]:
    import time

    deadline = time.monotonic() + 20
    while True:
        for entry in _timeline(local_stack, token, room_id):
            if entry["kind"] == "page" and entry["paged_user_id"] == user_id:
                return entry
        assert time.monotonic() < deadline, f"{user_id} was never paged"
        time.sleep(0.2)


def test_taking_an_incident_stops_the_paging_and_is_on_the_timeline(
    local_stack, person, push_service
):
    # Given a line with two people on call, two seconds apart
    owner, first, second, reporter = (
        person("lineowner"),
        person("first"),
        person("second"),
        person("reporter"),
    )
    second_device = push_service.subscription()
    _subscribe(local_stack, second.token, second_device)
    line_id = _on_call_line(local_stack, owner, [first.user_id, second.user_id], 2)
    room_id = _open(local_stack, reporter.token, line_id, "Conveyor jam")

    # When the first person takes it
    taken = local_stack.request("POST", f"/api/rooms/{room_id}/take", first.token)

    # Then the incident is acknowledged, with who took it on the timeline
    assert taken.status == 200, taken.text
    assert taken.body["state"] == "acknowledged"
    milestones = [
        e for e in _timeline(local_stack, reporter.token, room_id) if e["kind"] == "milestone"
    ]
    assert milestones[-1]["state"] == "acknowledged"
    assert milestones[-1]["by"] == first.user_id
    assert "taken" in milestones[-1]["note"]
    # And taking it again changes nothing
    again = local_stack.request("POST", f"/api/rooms/{room_id}/take", first.token)
    assert again.status == 200 and again.body["state"] == "acknowledged"

    # When a later incident on the line escalates to the second person (its timer runs
    # after the first incident's would have)
    later = _open(local_stack, reporter.token, line_id, "Conveyor jam again")
    heard = push_service.wait_for(second_device, count=3)

    # Then the second person was paged for the later incident only
    pages = [(d.payload["kind"], d.payload["room_id"]) for d in heard]
    assert ("page", later) in pages
    assert ("page", room_id) not in pages
    paged = [
        e["paged_user_id"]
        for e in _timeline(local_stack, reporter.token, room_id)
        if e["kind"] == "page"
    ]
    assert paged == [first.user_id]


def test_a_viewer_cannot_take_an_incident(local_stack, incident):
    # Given a room's viewer
    # When they try to take it
    answer = local_stack.request(
        "POST", f"/api/rooms/{incident['room_id']}/take", incident["viewer"].token
    )
    # Then 403 and the incident stays declared
    assert answer.status == 403, answer.text
    room = local_stack.request("GET", f"/api/rooms/{incident['room_id']}", incident["owner"].token)
    assert room.body["state"] == "declared"
