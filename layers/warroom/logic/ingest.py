"""Machine readings (issue 18): ingest sources, the signed ingest, the readings range
and the alarm rules (Andon) evaluated in the insert's transaction.

| action                                          | who                                 |
|-------------------------------------------------|-------------------------------------|
| create, list, revoke sources; alarm rules CRUD  | the line's owner (or an admin)      |
| post readings                                   | a source, by its signature          |
| read a line's readings                          | owner, admin, member of a line room |

The ingest order keeps every refusal free of side effects: size (413) → signature,
unknown or revoked source (401) → body shape and point count (422/413) → the webhook-id
claim (a replay answers as the first time) → the source's token bucket (429) → COPY of
the good points and the alarm evaluation, all in one transaction.
"""

from __future__ import annotations

import base64
import json
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from pydantic import TypeAdapter, ValidationError

from warroom import inbound
from warroom.dal import incident as incident_dal
from warroom.dal import ingest as dal
from warroom.dal import rooms as rooms_dal
from warroom.dal import users as users_dal
from warroom.dal.messages import Conn, Recipients
from warroom.db import Database, get_database
from warroom.errors import (
    ForbiddenError,
    NotFoundError,
    PayloadTooLarge,
    RateLimited,
    UnauthorizedError,
    ValidationFailed,
)
from warroom.ingest_models import (
    MAX_BODY_BYTES,
    MAX_POINTS,
    AlarmRule,
    AlarmRuleDraft,
    AlarmRulePatch,
    CreatedSource,
    IngestSource,
    Reading,
    ReadingPoint,
    SourceDraft,
)
from warroom.logic import oncall
from warroom.logic.messages import post_system_message
from warroom.models import Message, Role

# The longest range answered point by point; longer ranges are averaged into about
# DOWNSAMPLED_POINTS buckets per machine and tag.
RAW_RANGE = timedelta(hours=1)
DOWNSAMPLED_POINTS = 500
MAX_RAW_POINTS = 5000
DEFAULT_RANGE = timedelta(hours=1)
MAX_WEBHOOK_ID = 200
_POINTS = TypeAdapter(list[ReadingPoint])
# The readings a firing quotes in its system message.
QUOTED_READINGS = 10

Events = list[tuple[Message, Recipients]]


def _db(db: Database | None) -> Database:
    return db if db is not None else get_database()


def _require_line_owner(conn: Conn, line_id: UUID, user_id: str) -> None:
    found = incident_dal.line(conn, line_id)
    if found is None:
        raise NotFoundError(f"line {line_id} does not exist")
    actor = users_dal.get(conn, user_id)
    if found.owner_id != user_id and not (actor is not None and actor.is_admin):
        raise ForbiddenError("only the line's owner can manage its ingest sources and alarms")


# --- sources -----------------------------------------------------------------------
def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def create_source(
    *, line_id: UUID, user_id: str, draft: SourceDraft, db: Database | None = None
) -> CreatedSource:
    from warroom.sealing import sealer

    secret = new_secret()
    sealed = sealer().seal(secret.encode())

    def operation(conn: Conn) -> IngestSource:
        with conn.transaction():
            _require_line_owner(conn, line_id, user_id)
            return dal.insert_source(
                conn, line_id=line_id, name=draft.name, sealed=sealed, created_by=user_id
            )

    made = _db(db).run(operation)
    return CreatedSource(**made.model_dump(), secret=secret)


def list_sources(*, line_id: UUID, user_id: str, db: Database | None = None) -> list[IngestSource]:
    def operation(conn: Conn) -> list[IngestSource]:
        _require_line_owner(conn, line_id, user_id)
        return dal.sources_of(conn, line_id)

    return _db(db).run(operation)


def revoke_source(
    *, line_id: UUID, source_id: UUID, user_id: str, db: Database | None = None
) -> None:
    def operation(conn: Conn) -> None:
        with conn.transaction():
            _require_line_owner(conn, line_id, user_id)
            if not dal.revoke_source(conn, line_id=line_id, source_id=source_id):
                raise NotFoundError(f"no ingest source {source_id} on this line")

    _db(db).run(operation)


# --- the signed ingest -----------------------------------------------------------------
@dataclass
class Ingested:
    """The answer, whether this call stored it (False for a replay), the line, the live
    points stored, and the system messages the alarms wrote."""

    answer: dict[str, Any]
    stored: bool
    line_id: UUID | None = None
    latest: list[ReadingPoint] = field(default_factory=list)
    events: Events = field(default_factory=list)
    # an incident an alarm opened pages the line's on-call people (issue 19), after commit
    paged: list[oncall.Paged] = field(default_factory=list)


REFUSED = "the request's signature could not be verified"


def verify(source_id: str, body: bytes, headers: dict[str, str], conn: Conn) -> dal.SourceSecret:
    """The source and its signature, or 401 (the same words whatever failed, so a
    caller learns nothing about which sources exist). The source is read on every
    request, so a revocation holds from the next one."""
    from standardwebhooks.webhooks import Webhook, WebhookVerificationError

    from warroom.sealing import sealer

    try:
        source_uuid = UUID(source_id)
    except ValueError as exc:
        raise UnauthorizedError(REFUSED) from exc
    found = dal.source_secret(conn, source_uuid)
    if found is None or found.revoked:
        raise UnauthorizedError(REFUSED)
    secret = sealer().open(found.sealed).decode()
    lowered = {k.lower(): v for k, v in headers.items()}
    try:
        Webhook(secret).verify(body, lowered, json_parse=False)
    except WebhookVerificationError as exc:
        raise UnauthorizedError(REFUSED) from exc
    return found


def _where(loc: tuple[int | str, ...]) -> str:
    """An error's location, safe to store and to show (a key may hold a NUL)."""
    parts = [str(p) if isinstance(p, int) or inbound.text_problem(p) is None else "?" for p in loc]
    return ".".join(parts) or "point"


def parse_points(body: bytes) -> tuple[list[tuple[int, ReadingPoint]], list[dict[str, Any]]]:
    """The batch's good points (with their index) and the rejected ones with a reason.
    Strings are not walked for NUL or lone surrogates as elsewhere: every stored string
    of a point is held to a pattern (tag, machine_id) or a list (unit, quality)."""
    try:
        data = inbound.decode(body)
    except (ValidationFailed, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValidationFailed('body: must be a JSON object {"points": [...]}') from exc
    if (
        not isinstance(data, dict)
        or set(data) != {"points"}
        or not isinstance(data["points"], list)
    ):
        raise ValidationFailed('body: must be a JSON object {"points": [...]}')
    raw = data["points"]
    if len(raw) > MAX_POINTS:
        raise PayloadTooLarge(f"at most {MAX_POINTS} points a batch; this one has {len(raw)}")
    try:  # the usual batch, all good: one validation call
        return list(enumerate(_POINTS.validate_python(raw))), []
    except ValidationError:
        pass
    good: list[tuple[int, ReadingPoint]] = []
    rejected: list[dict[str, Any]] = []
    for index, item in enumerate(raw):
        try:
            good.append((index, ReadingPoint.model_validate(item)))
        except ValidationError as exc:
            err = exc.errors()[0]
            rejected.append({"index": index, "reason": f"{_where(err['loc'])}: {err['msg']}"})
    return good, rejected


def ingest(
    *,
    source_id: str,
    body: bytes,
    headers: dict[str, str],
    db: Database | None = None,
) -> Ingested:
    from warroom.settings import ingest_settings

    if len(body) > MAX_BODY_BYTES:
        raise PayloadTooLarge(f"a batch is at most {MAX_BODY_BYTES} bytes")
    limits = ingest_settings()

    def operation(conn: Conn) -> Ingested:
        source = verify(source_id, body, headers, conn)
        webhook_id = next(v for k, v in headers.items() if k.lower() == "webhook-id")
        if len(webhook_id) > MAX_WEBHOOK_ID or inbound.text_problem(webhook_id) is not None:
            raise ValidationFailed(f"webhook-id: at most {MAX_WEBHOOK_ID} plain characters")
        good, rejected = parse_points(body)
        points = [p for _, p in good]
        answer = {"accepted": len(points), "rejected": rejected}
        with conn.transaction():
            claim = dal.claim_delivery(
                conn,
                source_id=source.source_id,
                webhook_id=webhook_id,
                answer=answer,
                burst=limits.rate_burst,
                per_second=limits.rate_per_second,
            )
            if claim.first_answer is not None:
                return Ingested(answer=claim.first_answer, stored=False)
            if claim.wait > 0:
                raise RateLimited(
                    f"too many batches from this source; try again in {claim.wait:.1f} s",
                    retry_after=round(claim.wait, 2),
                )
            if points:
                dal.copy_readings(
                    conn, line_id=source.line_id, source_id=source.source_id, points=points
                )
            paged: list[oncall.Paged] = []
            events = evaluate_alarms(conn, line_id=source.line_id, points=points, paged=paged)
        return Ingested(
            answer=answer,
            stored=True,
            line_id=source.line_id,
            latest=latest_of(points),
            events=events,
            paged=paged,
        )

    return _db(db).run(operation)


def latest_of(points: list[ReadingPoint]) -> list[ReadingPoint]:
    """Each machine's tag's newest live point in the batch (for the live chart; turned
    into wire points only when a frame is sent, at most once a second)."""
    newest: dict[tuple[str, str], ReadingPoint] = {}
    for p in points:
        if p.historical:
            continue
        held = newest.get((p.machine_id, p.tag))
        if held is None or p.ts >= held.ts:
            newest[(p.machine_id, p.tag)] = p
    return list(newest.values())


# --- alarms ---------------------------------------------------------------------------
def _fmt(value: float) -> str:
    return f"{value:g}"


def _quote(readings: list[Reading]) -> str:
    return "; ".join(
        f"{r.machine_id} {r.tag} = {_fmt(r.value)}{(' ' + r.unit) if r.unit else ''} "
        f"at {r.ts.astimezone(UTC).strftime('%Y-%m-%d %H:%M:%S')}Z"
        for r in readings
    )


def _threshold(state: dal.RuleState) -> str:
    parts = []
    if state.above is not None:
        parts.append(f"above {_fmt(state.above)}")
    if state.below is not None:
        parts.append(f"below {_fmt(state.below)}")
    return " or ".join(parts)


def _out_of_range(state: dal.RuleState, value: float) -> bool:
    return (state.above is not None and value > state.above) or (
        state.below is not None and value < state.below
    )


def evaluate_alarms(
    conn: Conn,
    *,
    line_id: UUID,
    points: list[ReadingPoint],
    paged: list[oncall.Paged] | None = None,
) -> Events:
    """Run each rule over the batch's live points of its tag in time order (historical
    points and points older than the rule's last seen never count). A rule fires when
    its tag has stayed out of range for `for_seconds`; it is quiet again, with a system
    message, when a point is back in range. An incident a rule opens pages the line's
    on-call people through the same hook as a person's (appended to `paged`)."""
    live = sorted((p for p in points if not p.historical), key=lambda p: p.ts)
    if not live:
        return []
    states = dal.rules_for_evaluation(conn, line_id=line_id, tags=sorted({p.tag for p in live}))
    events: Events = []
    evaluated: list[dal.RuleState] = []
    for state in states:
        changed = False
        for point in (p for p in live if p.tag == state.tag):
            if state.last_ts is not None and point.ts <= state.last_ts:
                continue
            state.last_ts, changed = point.ts, True
            if _out_of_range(state, point.value):
                if state.breach_since is None:
                    state.breach_since = point.ts
                held = (point.ts - state.breach_since).total_seconds()
                if not state.firing and held >= state.for_seconds:
                    state.firing = True
                    events.extend(_fire(conn, line_id, state, until=point.ts, paged=paged))
            else:
                if state.firing:
                    events.extend(_back_in_range(conn, line_id, state, point))
                state.breach_since, state.firing = None, False
        if changed:
            evaluated.append(state)
    dal.save_rule_states(conn, evaluated)
    return events


def _fire(
    conn: Conn,
    line_id: UUID,
    state: dal.RuleState,
    *,
    until: datetime,
    paged: list[oncall.Paged] | None = None,
) -> Events:
    line = incident_dal.line(conn, line_id, lock=True)  # one room per line, never two
    assert line is not None and state.breach_since is not None
    quoted = dal.breach_readings(
        conn,
        line_id=line_id,
        tag=state.tag,
        since=state.breach_since,
        until=until,
        limit=QUOTED_READINGS,
    )
    text = f"Alarm: {state.title} ({state.tag} {_threshold(state)}"
    text += f" for {state.for_seconds} s). Readings: {_quote(quoted)}"
    data = {
        "rule_id": str(state.rule_id),
        "tag": state.tag,
        "readings": [
            r.model_dump(mode="json", include={"machine_id", "tag", "ts", "value", "unit"})
            for r in quoted
        ],
    }
    room_id = dal.open_incident_on_line(conn, line_id)
    if room_id is not None:
        return [
            post_system_message(
                conn,
                room_id=room_id,
                actor_id=line.owner_id,
                event="alarm_fired_again",
                text=text,
                **data,
            )
        ]
    room = rooms_dal.insert_room(
        conn,
        title=state.title,
        severity=state.severity,
        location=line.location,
        lots=[],
        created_by=line.owner_id,
        line_id=line_id,
        machine=quoted[-1].machine_id if quoted else "",
    )
    rooms_dal.insert_member(conn, room_id=room.room_id, user_id=line.owner_id, role=Role.OWNER)
    incident_dal.insert_entry(
        conn,
        room_id=room.room_id,
        kind="milestone",
        by_user=line.owner_id,
        event_time=room.created_at,
        data={"state": "declared", "from_state": None, "by_alarm": str(state.rule_id)},
    )
    opened = [
        post_system_message(
            conn,
            room_id=room.room_id,
            actor_id=line.owner_id,
            event="alarm_opened",
            text=text,
            **data,
        )
    ]
    # Then whoever is on call for the line is paged, as for an incident a person opens.
    page = oncall.incident_opened(conn, room=room, opened_by=line.owner_id)
    if page is not None and paged is not None:
        paged.append(page)
    return opened


def _back_in_range(conn: Conn, line_id: UUID, state: dal.RuleState, point: ReadingPoint) -> Events:
    room_id = dal.open_incident_on_line(conn, line_id)
    line = incident_dal.line(conn, line_id)
    if room_id is None or line is None:
        return []
    text = (
        f"Back in range: {state.title} ({point.machine_id} {state.tag} = {_fmt(point.value)}"
        f"{(' ' + point.unit) if point.unit else ''} at "
        f"{point.ts.astimezone(UTC).strftime('%Y-%m-%d %H:%M:%S')}Z)"
    )
    return [
        post_system_message(
            conn,
            room_id=room_id,
            actor_id=line.owner_id,
            event="alarm_cleared",
            text=text,
            rule_id=str(state.rule_id),
            tag=state.tag,
        )
    ]


# --- rules CRUD -----------------------------------------------------------------------
def create_rule(
    *, line_id: UUID, user_id: str, draft: AlarmRuleDraft, db: Database | None = None
) -> AlarmRule:
    def operation(conn: Conn) -> AlarmRule:
        with conn.transaction():
            _require_line_owner(conn, line_id, user_id)
            return dal.insert_rule(
                conn, line_id=line_id, created_by=user_id, fields=draft.model_dump(mode="json")
            )

    return _db(db).run(operation)


def list_rules(*, line_id: UUID, user_id: str, db: Database | None = None) -> list[AlarmRule]:
    def operation(conn: Conn) -> list[AlarmRule]:
        _require_line_owner(conn, line_id, user_id)
        return dal.rules_of(conn, line_id)

    return _db(db).run(operation)


def change_rule(
    *,
    line_id: UUID,
    rule_id: UUID,
    user_id: str,
    patch: AlarmRulePatch,
    db: Database | None = None,
) -> AlarmRule:
    changes = patch.model_dump(mode="json", exclude_unset=True)
    if not changes:
        raise ValidationFailed("nothing to change")

    def operation(conn: Conn) -> AlarmRule:
        with conn.transaction():
            _require_line_owner(conn, line_id, user_id)
            found = dal.rule(conn, line_id=line_id, rule_id=rule_id, lock=True)
            if found is None:
                raise NotFoundError(f"no alarm rule {rule_id} on this line")
            merged = {**found.model_dump(mode="json"), **changes}
            try:
                AlarmRuleDraft.model_validate({k: merged[k] for k in AlarmRuleDraft.model_fields})
            except ValidationError as exc:
                raise ValidationFailed(f"rule: {exc.errors()[0]['msg']}") from exc
            return dal.update_rule(conn, rule_id=rule_id, changes=changes)

    return _db(db).run(operation)


def delete_rule(*, line_id: UUID, rule_id: UUID, user_id: str, db: Database | None = None) -> None:
    def operation(conn: Conn) -> None:
        with conn.transaction():
            _require_line_owner(conn, line_id, user_id)
            if not dal.delete_rule(conn, line_id=line_id, rule_id=rule_id):
                raise NotFoundError(f"no alarm rule {rule_id} on this line")

    _db(db).run(operation)


# --- reading a line ----------------------------------------------------------------------
@dataclass
class ReadingsPage:
    points: list[Reading]
    downsampled: bool
    bucket_seconds: float | None = None


def line_readings(
    *,
    line_id: UUID,
    user_id: str,
    tag: str | None = None,
    machine_id: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    db: Database | None = None,
) -> ReadingsPage:
    until = until or datetime.now(UTC)
    since = since or until - DEFAULT_RANGE
    if since >= until:
        raise ValidationFailed("from: must be before `to`")

    def operation(conn: Conn) -> ReadingsPage:
        if incident_dal.line(conn, line_id) is None:
            raise NotFoundError(f"line {line_id} does not exist")
        if not dal.may_read_line(conn, line_id=line_id, user_id=user_id):
            raise ForbiddenError("only the line's owner and its incident rooms' members read it")
        if until - since <= RAW_RANGE:
            points = dal.readings_range(
                conn,
                line_id=line_id,
                since=since,
                until=until,
                tag=tag,
                machine_id=machine_id,
                limit=MAX_RAW_POINTS,
            )
            return ReadingsPage(points, downsampled=False)
        bucket = max((until - since).total_seconds() / DOWNSAMPLED_POINTS, 1.0)
        points = dal.readings_downsampled(
            conn,
            line_id=line_id,
            since=since,
            until=until,
            tag=tag,
            machine_id=machine_id,
            bucket_seconds=bucket,
        )
        return ReadingsPage(points, downsampled=True, bucket_seconds=bucket)

    return _db(db).run(operation)
