"""Machine readings (issue 18) against the running local stack: sources, the signed
ingest (replay, every 401, one bad point, 413, 429), a line's readings, alarm rules that
open one room and then add messages to it, and the live `readings` frame."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from standardwebhooks.webhooks import Webhook

from tests.e2e.conftest import frames_until

pytestmark = pytest.mark.e2e


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _line(stack, token: str) -> dict[str, Any]:
    made = stack.request("POST", "/api/lines", token, {"name": f"Oven-{uuid.uuid4().hex[:6]}"})
    assert made.status == 201, made.text
    return made.body


def _source(stack, token: str, line_id: str) -> dict[str, Any]:
    made = stack.request(
        "POST", f"/api/lines/{line_id}/ingest-sources", token, {"name": "gateway 1"}
    )
    assert made.status == 201, made.text
    return made.body


def _signed(
    secret: str,
    body: bytes,
    *,
    webhook_id: str | None = None,
    at: datetime | None = None,
) -> dict[str, str]:
    webhook_id = webhook_id or f"msg_{uuid.uuid4().hex}"
    at = at or datetime.now(UTC)
    return {
        "webhook-id": webhook_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": Webhook(secret).sign(webhook_id, at, body),
        "Content-Type": "application/json",
    }


def _post(stack, source: dict[str, Any], body: bytes, headers: dict[str, str]):
    return stack.request(
        "POST", f"/api/ingest/{source['source_id']}/readings", raw=body, headers=headers
    )


def _points(tag: str, values: list[float], *, start: datetime | None = None, **extra: Any):
    start = start or datetime.now(UTC) - timedelta(seconds=len(values))
    return [
        {
            "machine_id": "OVEN-1",
            "tag": tag,
            "value": v,
            "unit": "°C",
            "ts": _iso(start + timedelta(seconds=i)),
            **extra,
        }
        for i, v in enumerate(values)
    ]


def _body(points: list[dict[str, Any]]) -> bytes:
    return json.dumps({"points": points}).encode()


def _stored(stack, token: str, line_id: str, tag: str) -> list[dict[str, Any]]:
    found = stack.request(
        "GET",
        f"/api/lines/{line_id}/readings?tag={tag}&from="
        + _iso(datetime.now(UTC) - timedelta(minutes=30)).replace("+", "%2B"),
        token,
    )
    assert found.status == 200, found.text
    return found.body["points"]


@pytest.fixture
def line_with_source(local_stack, person):
    owner = person("lineowner")
    line = _line(local_stack, owner.token)
    source = _source(local_stack, owner.token, line["line_id"])
    return owner, line, source


def test_a_source_is_made_by_the_line_owner_and_its_secret_shown_once(local_stack, person):
    # Given a line and someone who does not own it
    owner, other = person("owner"), person("other")
    line = _line(local_stack, owner.token)
    # When the owner creates a source
    made = _source(local_stack, owner.token, line["line_id"])
    # Then the answer carries a Standard Webhooks secret, and listing never shows it again
    assert made["secret"].startswith("whsec_") and made["source_id"]
    listed = local_stack.request("GET", f"/api/lines/{line['line_id']}/ingest-sources", owner.token)
    assert listed.status == 200
    assert [s["source_id"] for s in listed.body["sources"]] == [made["source_id"]]
    assert "secret" not in listed.text and made["secret"] not in listed.text
    # And anyone else gets 403 for creating, listing or revoking
    path = f"/api/lines/{line['line_id']}/ingest-sources"
    assert local_stack.request("POST", path, other.token, {"name": "x"}).status == 403
    assert local_stack.request("GET", path, other.token).status == 403
    assert local_stack.request("DELETE", f"{path}/{made['source_id']}", other.token).status == 403


def test_a_signed_batch_is_stored_and_its_replay_answers_the_same(local_stack, line_with_source):
    # Given a source and a signed batch of two points
    owner, line, source = line_with_source
    tag = f"temp_{uuid.uuid4().hex[:6]}"
    body = _body(_points(tag, [180.5, 181.0]))
    headers = _signed(source["secret"], body)
    # When it is posted
    first = _post(local_stack, source, body, headers)
    # Then both points are accepted and stored
    assert first.status == 200, first.text
    assert first.body == {"accepted": 2, "rejected": []}
    assert [p["value"] for p in _stored(local_stack, owner.token, line["line_id"], tag)] == [
        180.5,
        181.0,
    ]
    # When the same webhook-id is delivered again (a gateway's retry)
    again = _post(local_stack, source, body, headers)
    # Then it answers as the first time and stores nothing new
    assert again.status == 200 and again.body == first.body
    assert len(_stored(local_stack, owner.token, line["line_id"], tag)) == 2


@pytest.mark.parametrize("fault", ["tampered", "stale", "wrong_secret", "missing", "unknown"])
def test_a_bad_signature_or_unknown_source_is_401_and_stores_nothing(
    local_stack, line_with_source, fault
):
    # Given a source and a batch
    owner, line, source = line_with_source
    tag = f"temp_{uuid.uuid4().hex[:6]}"
    body = _body(_points(tag, [100.0]))
    headers = _signed(source["secret"], body)
    target = source
    # When the request is spoiled in one way
    if fault == "tampered":
        body = body.replace(b"100.0", b"999.0")
    elif fault == "stale":
        headers = _signed(source["secret"], body, at=datetime.now(UTC) - timedelta(minutes=6))
    elif fault == "wrong_secret":
        headers = _signed(_source(local_stack, owner.token, line["line_id"])["secret"], body)
    elif fault == "missing":
        headers = {"Content-Type": "application/json"}
    else:
        target = {"source_id": str(uuid.uuid4())}
    answer = _post(local_stack, target, body, headers)
    # Then it is 401 UNAUTHORIZED and nothing is stored
    assert answer.status == 401, answer.text
    assert answer.body["error"]["code"] == "UNAUTHORIZED"
    assert _stored(local_stack, owner.token, line["line_id"], tag) == []


def test_a_revoked_source_is_refused_at_once(local_stack, line_with_source):
    # Given a source that has posted once
    owner, line, source = line_with_source
    tag = f"temp_{uuid.uuid4().hex[:6]}"
    body = _body(_points(tag, [1.0]))
    assert _post(local_stack, source, body, _signed(source["secret"], body)).status == 200
    # When the owner revokes it
    revoked = local_stack.request(
        "DELETE", f"/api/lines/{line['line_id']}/ingest-sources/{source['source_id']}", owner.token
    )
    assert revoked.status == 204, revoked.text
    # Then its next correctly signed batch is 401 and stores nothing
    later = _body(_points(tag, [2.0], start=datetime.now(UTC)))
    answer = _post(local_stack, source, later, _signed(source["secret"], later))
    assert answer.status == 401
    assert [p["value"] for p in _stored(local_stack, owner.token, line["line_id"], tag)] == [1.0]


def test_bad_points_are_rejected_alone_and_the_good_kept(local_stack, line_with_source):
    # Given a batch with a good point and five bad ones
    owner, line, source = line_with_source
    tag = f"temp_{uuid.uuid4().hex[:6]}"
    good = _points(tag, [50.0])[0]
    points = [
        good,
        {**good, "value": "hot"},  # a string value
        {k: v for k, v in good.items() if k != "ts"},  # no timestamp
        {**good, "tag": "9 bad tag!"},  # an unknown tag name form
        {**good, "unit": "furlongs"},  # not a unit
        {**good, "quality": "excellent"},
    ]
    # and a NaN (JSON has none; gateways write it anyway)
    nan = f'{{"machine_id": "OVEN-1", "tag": "{tag}", "value": NaN, "ts": "{good["ts"]}"}}'
    raw = json.dumps({"points": points})[:-2] + ", " + nan + "]}"
    body = raw.encode()
    # When it is posted
    answer = _post(local_stack, source, body, _signed(source["secret"], body))
    # Then one is accepted, each bad one is named by index with a reason, and only the
    # good one is stored
    assert answer.status == 200, answer.text
    assert answer.body["accepted"] == 1
    reasons = {r["index"]: r["reason"] for r in answer.body["rejected"]}
    assert sorted(reasons) == [1, 2, 3, 4, 5, 6]
    assert "value" in reasons[1] and "ts" in reasons[2] and "tag" in reasons[3]
    assert "unit" in reasons[4] and "quality" in reasons[5] and "value" in reasons[6]
    assert [p["value"] for p in _stored(local_stack, owner.token, line["line_id"], tag)] == [50.0]


def test_over_1000_points_or_1_mb_is_413(local_stack, line_with_source):
    owner, line, source = line_with_source
    tag = f"temp_{uuid.uuid4().hex[:6]}"
    # Given a signed batch of 1,001 points, and one of 1,000 points over 1 MB
    many = _body(_points(tag, [1.0] * 1001))
    padded = _points(tag, [1.0] * 1000, machine_id="M" * 90)
    heavy = json.dumps({"points": padded}, indent=200).encode()
    assert len(heavy) > 1024 * 1024
    for body in (many, heavy):
        # When posted
        answer = _post(local_stack, source, body, _signed(source["secret"], body))
        # Then 413, and nothing is stored
        assert answer.status == 413, answer.text
        assert answer.body["error"]["code"] == "PAYLOAD_TOO_LARGE"
    assert _stored(local_stack, owner.token, line["line_id"], tag) == []


def test_a_source_over_its_rate_gets_429_with_retry_after(local_stack, line_with_source):
    # Given a source posting batches as fast as it can
    owner, line, source = line_with_source
    tag = f"temp_{uuid.uuid4().hex[:6]}"
    refused = None
    for i in range(300):
        body = _body(_points(f"{tag}_{i}", [1.0]))
        answer = _post(local_stack, source, body, _signed(source["secret"], body))
        if answer.status != 200:
            refused = (i, answer)
            break
    # Then it is refused with a typed 429 and Retry-After, and that batch stored nothing
    assert refused is not None, "no batch was refused"
    i, answer = refused
    assert answer.status == 429, answer.text
    assert answer.body["error"]["code"] == "RATE_LIMITED"
    assert int(answer.headers["Retry-After"]) >= 1
    assert _stored(local_stack, owner.token, line["line_id"], f"{tag}_{i}") == []


def _rule(stack, token, line_id, tag, **fields):
    made = stack.request(
        "POST",
        f"/api/lines/{line_id}/alarm-rules",
        token,
        {
            "tag": tag,
            "above": 200,
            "for_seconds": 3,
            "severity": "high",
            "title": "Oven zone 1 over temperature",
            **fields,
        },
    )
    assert made.status == 201, made.text
    return made.body


def _rooms_of_line(stack, token, line_id):
    found = stack.request("GET", f"/api/rooms?line_id={line_id}", token)
    assert found.status == 200, found.text
    return found.body["rooms"]


def _system_texts(stack, token, room_id):
    history = stack.request("GET", f"/api/rooms/{room_id}/messages", token)
    assert history.status == 200, history.text
    found = sorted(history.body["messages"], key=lambda m: m["sequence_number"])
    return [m["content"] for m in found if m["message_type"] == "system"]


def test_an_alarm_rule_opens_one_room_then_adds_messages(local_stack, line_with_source, person):
    owner, line, source = line_with_source
    line_id = line["line_id"]
    tag = "zone1_temp"
    _rule(local_stack, owner.token, line_id, tag)
    t0 = datetime.now(UTC) - timedelta(seconds=60)

    def post(values, start):
        body = _body(_points(tag, values, start=start))
        answer = _post(local_stack, source, body, _signed(source["secret"], body))
        assert answer.status == 200, answer.text

    # Given historical points far over the threshold
    body = _body(_points(tag, [500.0] * 5, start=t0 - timedelta(hours=1), historical=True))
    assert _post(local_stack, source, body, _signed(source["secret"], body)).status == 200
    # Then no room is opened by them
    assert _rooms_of_line(local_stack, owner.token, line_id) == []
    # When live readings stay above 200 for less than 3 s, still no room
    post([180.0, 205.0, 206.0], t0)
    assert _rooms_of_line(local_stack, owner.token, line_id) == []
    # When they stay above for 3 s
    post([207.5, 208.0], t0 + timedelta(seconds=3))
    # Then one room is open, titled and graded by the rule, linked to the line, owned by
    # the line's owner, its first system message quoting the readings with their times
    rooms = _rooms_of_line(local_stack, owner.token, line_id)
    assert len(rooms) == 1
    room = rooms[0]
    assert room["title"] == "Oven zone 1 over temperature" and room["severity"] == "high"
    assert room["line_id"] == line_id and room["my_role"] == "OWNER"
    texts = _system_texts(local_stack, owner.token, room["room_id"])
    first = texts[0]
    assert first["event"] == "alarm_opened"
    assert "205" in first["text"] and "208" in first["text"]
    stamp = (t0 + timedelta(seconds=1)).strftime("%H:%M:%S")
    assert stamp in first["text"]
    assert [r["value"] for r in first["readings"]] == [205.0, 206.0, 207.5, 208.0]
    # When the readings come back in range
    post([190.0], t0 + timedelta(seconds=10))
    # Then a system message says so
    texts = _system_texts(local_stack, owner.token, room["room_id"])
    assert texts[-1]["event"] == "alarm_cleared" and "190" in texts[-1]["text"]
    # When the rule fires a second time while the incident is open
    post([250.0, 251.0, 252.0, 253.0], t0 + timedelta(seconds=20))
    # Then a system message is added to the same room, and no second room opens
    rooms = _rooms_of_line(local_stack, owner.token, line_id)
    assert [r["room_id"] for r in rooms] == [room["room_id"]]
    texts = _system_texts(local_stack, owner.token, room["room_id"])
    assert texts[-1]["event"] == "alarm_fired_again" and "253" in texts[-1]["text"]


def test_alarm_rules_are_the_line_owners(local_stack, person):
    # Given a line, its owner and someone else
    owner, other = person("owner"), person("other")
    line_id = _line(local_stack, owner.token)["line_id"]
    rule = _rule(local_stack, owner.token, line_id, "press_bar", above=None, below=2.5)
    path = f"/api/lines/{line_id}/alarm-rules"
    # Then the owner lists, changes and deletes it; anyone else is refused
    assert local_stack.request("GET", path, other.token).status == 403
    assert local_stack.request("POST", path, other.token, {**rule}).status in (403, 422)
    assert (
        local_stack.request(
            "PATCH", f"{path}/{rule['rule_id']}", other.token, {"title": "x"}
        ).status
        == 403
    )
    listed = local_stack.request("GET", path, owner.token)
    assert [r["rule_id"] for r in listed.body["rules"]] == [rule["rule_id"]]
    changed = local_stack.request(
        "PATCH", f"{path}/{rule['rule_id']}", owner.token, {"below": 3.0, "title": "Low pressure"}
    )
    assert changed.status == 200, changed.text
    assert changed.body["below"] == 3.0 and changed.body["title"] == "Low pressure"
    # A rule with no threshold, or with below over above, is refused
    bad = local_stack.request(
        "POST",
        path,
        owner.token,
        {"tag": "t", "for_seconds": 1, "severity": "low", "title": "x"},
    )
    assert bad.status == 422
    assert local_stack.request("DELETE", f"{path}/{rule['rule_id']}", owner.token).status == 204
    assert local_stack.request("GET", path, owner.token).body["rules"] == []


def test_a_long_range_is_downsampled(local_stack, line_with_source):
    # Given 1,000 historical points, one every 15 s, from six hours ago
    owner, line, source = line_with_source
    tag = f"rate_{uuid.uuid4().hex[:6]}"
    start = datetime.now(UTC) - timedelta(hours=6)
    points = [
        {
            "machine_id": "PRESS-2",
            "tag": tag,
            "value": float(i % 60),
            "unit": "pcs/h",
            "ts": _iso(start + timedelta(seconds=15 * i)),
            "historical": True,
        }
        for i in range(1000)
    ]
    body = _body(points)
    assert _post(local_stack, source, body, _signed(source["secret"], body)).status == 200
    # When the six hours are read
    since = _iso(start - timedelta(minutes=1)).replace("+", "%2B")
    found = local_stack.request(
        "GET", f"/api/lines/{line['line_id']}/readings?tag={tag}&from={since}", owner.token
    )
    # Then fewer points come back than were stored, each a bucket's mean with its extremes
    assert found.status == 200, found.text
    assert found.body["downsampled"] is True
    got = found.body["points"]
    assert 0 < len(got) < 1000
    assert sum(p["count"] for p in got) == 1000
    assert all(p["min"] <= p["value"] <= p["max"] for p in got)
    # And a one-hour range is answered point by point
    recent = _iso(datetime.now(UTC) - timedelta(minutes=59)).replace("+", "%2B")
    raw = local_stack.request(
        "GET", f"/api/lines/{line['line_id']}/readings?tag={tag}&from={recent}", owner.token
    )
    assert raw.body["downsampled"] is False
    assert all("count" not in p for p in raw.body["points"])


def test_a_line_room_gets_live_readings_frames(local_stack, line_with_source, person):
    # Given an open incident on the line and a member's socket in its room
    owner, line, source = line_with_source
    created = local_stack.request(
        "POST",
        "/api/rooms",
        owner.token,
        {"title": "Oven drift", "severity": "medium", "line_id": line["line_id"]},
    )
    assert created.status == 201, created.text
    room_id = created.body["room_id"]
    tag = f"temp_{uuid.uuid4().hex[:6]}"
    with local_stack.connect(owner.token, room_id) as ws:
        # When a batch arrives, then another right after it
        for values in ([61.0, 62.0], [63.0]):
            body = _body(_points(tag, values, start=datetime.now(UTC) - timedelta(seconds=3)))
            assert _post(local_stack, source, body, _signed(source["secret"], body)).status == 200
        # Then the room gets a `readings` frame with the tag's latest value, marked as a
        # machine's
        seen = frames_until(ws, lambda f: f.get("type") == "readings", timeout=10)
        frame = seen[-1]
        assert frame["line_id"] == line["line_id"]
        mine = [p for p in frame["points"] if p["tag"] == tag]
        assert len(mine) == 1 and mine[0]["origin"] == "machine"
        assert mine[0]["value"] in (62.0, 63.0)
    # And someone outside the line's rooms cannot read the line
    stranger = person("stranger")
    refused = local_stack.request("GET", f"/api/lines/{line['line_id']}/readings", stranger.token)
    assert refused.status == 403


def test_the_signer_in_docs_ingest_md_posts_readings(local_stack, line_with_source):
    # Given the 20-line Python signer exactly as docs/ingest.md shows it
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[2] / "docs" / "ingest.md").read_text()
    code = doc.split("```python\n", 1)[1].split("```", 1)[0]
    signer = code.split("\nprint(", 1)[0]
    assert len(signer.strip().splitlines()) <= 20
    namespace: dict[str, Any] = {}
    exec(signer, namespace)  # our own documentation, run as a reader would
    owner, line, source = line_with_source
    tag = f"doc_{uuid.uuid4().hex[:6]}"
    # When it posts a point
    answer = namespace["post_readings"](
        local_stack.base_url,
        source["source_id"],
        source["secret"],
        [{"machine_id": "OVEN-1", "tag": tag, "value": 186.4, "unit": "°C",
          "ts": _iso(datetime.now(UTC))}],
    )  # fmt: skip
    # Then the server accepted and stored it
    assert answer == {"accepted": 1, "rejected": []}
    assert [p["value"] for p in _stored(local_stack, owner.token, line["line_id"], tag)] == [186.4]


def test_a_binary_content_type_is_verified_on_the_bytes_sent(local_stack, line_with_source):
    # Given a gateway that labels its JSON as octet-stream (API Gateway then base64s it)
    owner, line, source = line_with_source
    tag = f"bin_{uuid.uuid4().hex[:6]}"
    body = _body(_points(tag, [7.5]))
    headers = {**_signed(source["secret"], body), "Content-Type": "application/octet-stream"}
    # When it posts, Then the signature holds and the point is stored
    answer = _post(local_stack, source, body, headers)
    assert answer.status == 200, answer.text
    assert answer.body == {"accepted": 1, "rejected": []}
    assert [p["value"] for p in _stored(local_stack, owner.token, line["line_id"], tag)] == [7.5]
    # And bytes that are not UTF-8, correctly signed, are a typed 422, not a crash
    junk = b'{"points": [\xff\xfe]}'
    refused = _post(
        local_stack,
        source,
        junk,
        {**_signed(source["secret"], junk), "Content-Type": "application/octet-stream"},
    )
    assert refused.status == 422, refused.text
    assert refused.body["error"]["code"] == "VALIDATION"


def test_readings_filter_by_machine_and_refuse_a_backward_range(local_stack, line_with_source):
    # Given two machines posting the same tag
    owner, line, source = line_with_source
    tag = f"temp_{uuid.uuid4().hex[:6]}"
    points = _points(tag, [1.0, 2.0]) + _points(tag, [9.0], machine_id="OVEN-2")
    body = _body(points)
    assert _post(local_stack, source, body, _signed(source["secret"], body)).status == 200
    base = f"/api/lines/{line['line_id']}/readings?tag={tag}"
    # When one machine's readings are asked for, Then only its points come back
    found = local_stack.request("GET", f"{base}&machine_id=OVEN-2", owner.token)
    assert found.status == 200, found.text
    assert [(p["machine_id"], p["value"]) for p in found.body["points"]] == [("OVEN-2", 9.0)]
    # And a range that ends before it starts is a typed 422
    now = datetime.now(UTC)
    backward = f"{base}&from={_iso(now)}&to={_iso(now - timedelta(hours=1))}"
    refused = local_stack.request("GET", backward, owner.token)
    assert refused.status == 422 and refused.body["error"]["code"] == "VALIDATION"
