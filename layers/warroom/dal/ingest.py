"""SQL for machine readings: ingest sources, the readings table, alarm rules, the
ingest's idempotency record and the live chart's once-a-second slot."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from psycopg.types.json import Jsonb

from warroom.dal.messages import Conn
from warroom.ingest_models import AlarmRule, IngestSource, Reading, ReadingPoint

SOURCE_COLUMNS = "source_id, line_id, name, created_by, created_at, revoked_at"
RULE_COLUMNS = (
    "rule_id, line_id, tag, above, below, for_seconds, severity, title, created_by, "
    "created_at, firing"
)
READING_COLUMNS = (
    "line_id",
    "tag",
    "machine_id",
    "ts",
    "value",
    "unit",
    "quality",
    "historical",
    "source_id",
)


# --- sources -----------------------------------------------------------------------
def insert_source(
    conn: Conn, *, line_id: UUID, name: str, sealed: bytes, created_by: str
) -> IngestSource:
    row = conn.execute(
        f"INSERT INTO ingest_sources (line_id, name, secret_sealed, created_by) "
        f"VALUES (%s, %s, %s, %s) RETURNING {SOURCE_COLUMNS}",
        (line_id, name, sealed, created_by),
    ).fetchone()
    assert row is not None
    return IngestSource.model_validate(row)


def sources_of(conn: Conn, line_id: UUID) -> list[IngestSource]:
    rows = conn.execute(
        f"SELECT {SOURCE_COLUMNS} FROM ingest_sources WHERE line_id = %s ORDER BY created_at",
        (line_id,),
    ).fetchall()
    return [IngestSource.model_validate(r) for r in rows]


def revoke_source(conn: Conn, *, line_id: UUID, source_id: UUID) -> bool:
    row = conn.execute(
        "UPDATE ingest_sources SET revoked_at = coalesce(revoked_at, now()) "
        "WHERE line_id = %s AND source_id = %s RETURNING source_id",
        (line_id, source_id),
    ).fetchone()
    return row is not None


@dataclass(frozen=True)
class SourceSecret:
    source_id: UUID
    line_id: UUID
    sealed: bytes
    revoked: bool


def source_secret(conn: Conn, source_id: UUID) -> SourceSecret | None:
    row = conn.execute(
        "SELECT source_id, line_id, secret_sealed, revoked_at IS NOT NULL AS revoked "
        "FROM ingest_sources WHERE source_id = %s",
        (source_id,),
    ).fetchone()
    if row is None:
        return None
    return SourceSecret(
        row["source_id"], row["line_id"], bytes(row["secret_sealed"]), row["revoked"]
    )


# --- idempotency and the rate limit --------------------------------------------------
@dataclass(frozen=True)
class Claim:
    """The webhook-id claim: `first_answer` set for a replay; else `wait` seconds when
    the source's bucket was empty (0 when a token was taken)."""

    first_answer: dict[str, Any] | None = None
    wait: float = 0.0


def claim_delivery(
    conn: Conn,
    *,
    source_id: UUID,
    webhook_id: str,
    answer: dict[str, Any],
    burst: int,
    per_second: float,
) -> Claim:
    """In one statement (inside the ingest's transaction): claim `webhook_id` with its
    answer and, only when it is new, take a token from the source's bucket. A replay
    reads the first answer (a concurrent first request is waited for by the insert).
    A refused token rolls the claim back with the transaction, so a retry is served."""
    available = (
        "least(%(burst)s::float8, b.tokens + %(rate)s::float8 * "
        "extract(epoch FROM clock_timestamp() - b.refilled_at)::float8)"
    )
    row = conn.execute(
        f"""
        WITH claimed AS (
            INSERT INTO ingest_deliveries (source_id, webhook_id, answer)
            VALUES (%(source)s, %(webhook)s, %(answer)s)
            ON CONFLICT DO NOTHING RETURNING 1
        ), bucket AS (
            INSERT INTO rate_buckets AS b (user_id, kind, tokens, refilled_at, consumed)
            SELECT %(who)s, 'ingest', %(burst)s::float8 - 1, clock_timestamp(), true
            FROM claimed
            ON CONFLICT (user_id, kind) DO UPDATE
               SET tokens = CASE WHEN {available} >= 1 THEN {available} - 1 ELSE {available} END,
                   refilled_at = clock_timestamp(),
                   consumed = {available} >= 1
            RETURNING consumed, tokens
        )
        SELECT EXISTS (SELECT 1 FROM claimed) AS claimed,
               (SELECT consumed FROM bucket) AS consumed,
               (SELECT tokens FROM bucket) AS tokens
        """,
        {
            "source": source_id,
            "webhook": webhook_id,
            "answer": Jsonb(answer),
            "who": f"source:{source_id}",
            "burst": burst,
            "rate": per_second,
        },
    ).fetchone()
    assert row is not None
    if not row["claimed"]:
        found = conn.execute(
            "SELECT answer FROM ingest_deliveries WHERE source_id = %s AND webhook_id = %s",
            (source_id, webhook_id),
        ).fetchone()
        assert found is not None
        return Claim(first_answer=dict(found["answer"]))
    if row["consumed"]:
        return Claim()
    return Claim(wait=max((1.0 - float(row["tokens"])) / per_second, 0.05))


def delete_old_deliveries(conn: Conn, *, older_than_s: int, batch: int = 5000) -> int:
    cur = conn.execute(
        """
        DELETE FROM ingest_deliveries WHERE ctid IN (
            SELECT ctid FROM ingest_deliveries
            WHERE received_at < now() - make_interval(secs => %s) LIMIT %s)
        """,
        (older_than_s, batch),
    )
    return cur.rowcount


# --- readings ------------------------------------------------------------------------
def copy_readings(
    conn: Conn, *, line_id: UUID, source_id: UUID | None, points: list[ReadingPoint]
) -> None:
    """The batch in one COPY (the fastest way PostgreSQL takes many rows)."""
    statement = f"COPY readings ({', '.join(READING_COLUMNS)}) FROM STDIN"
    with conn.cursor() as cur, cur.copy(statement) as copy:
        for p in points:
            copy.write_row(
                (
                    line_id,
                    p.tag,
                    p.machine_id,
                    p.ts,
                    p.value,
                    p.unit,
                    p.quality,
                    p.historical,
                    source_id,
                )
            )


def readings_range(
    conn: Conn,
    *,
    line_id: UUID,
    since: datetime,
    until: datetime,
    tag: str | None,
    machine_id: str | None,
    limit: int,
) -> list[Reading]:
    rows = conn.execute(
        """
        SELECT machine_id, tag, ts, value, unit, quality, origin FROM readings
        WHERE line_id = %(line)s AND ts >= %(since)s AND ts <= %(until)s
          AND (%(tag)s::text IS NULL OR tag = %(tag)s)
          AND (%(machine)s::text IS NULL OR machine_id = %(machine)s)
        ORDER BY ts, machine_id, tag
        LIMIT %(limit)s
        """,
        {
            "line": line_id,
            "since": since,
            "until": until,
            "tag": tag,
            "machine": machine_id,
            "limit": limit,
        },
    ).fetchall()
    return [Reading.model_validate(r) for r in rows]


def readings_downsampled(
    conn: Conn,
    *,
    line_id: UUID,
    since: datetime,
    until: datetime,
    tag: str | None,
    machine_id: str | None,
    bucket_seconds: float,
) -> list[Reading]:
    """One point per machine, tag and time bucket: the bucket's mean at its start, with
    its min, max and count; the worst quality in the bucket."""
    rows = conn.execute(
        """
        SELECT machine_id, tag,
               date_bin(make_interval(secs => %(bucket)s), ts, %(since)s) AS ts,
               avg(value) AS value, min(value) AS min, max(value) AS max, count(*) AS count,
               max(unit) AS unit,
               CASE max(CASE quality WHEN 'bad' THEN 2 WHEN 'uncertain' THEN 1 ELSE 0 END)
                    WHEN 2 THEN 'bad' WHEN 1 THEN 'uncertain' ELSE 'good' END AS quality,
               'machine' AS origin
        FROM readings
        WHERE line_id = %(line)s AND ts >= %(since)s AND ts <= %(until)s
          AND (%(tag)s::text IS NULL OR tag = %(tag)s)
          AND (%(machine)s::text IS NULL OR machine_id = %(machine)s)
        GROUP BY machine_id, tag, 3
        ORDER BY 3, machine_id, tag
        """,
        {
            "line": line_id,
            "since": since,
            "until": until,
            "tag": tag,
            "machine": machine_id,
            "bucket": bucket_seconds,
        },
    ).fetchall()
    return [Reading.model_validate(r) for r in rows]


def may_read_line(conn: Conn, *, line_id: UUID, user_id: str) -> bool:
    """The line's owner, an admin, or a member of an incident room on the line."""
    row = conn.execute(
        """
        SELECT EXISTS (SELECT 1 FROM lines WHERE line_id = %(line)s AND owner_id = %(user)s)
            OR EXISTS (SELECT 1 FROM tr_users WHERE user_id = %(user)s AND is_admin)
            OR EXISTS (SELECT 1 FROM incident_rooms r
                       JOIN room_members m ON m.room_id = r.room_id AND m.user_id = %(user)s
                       WHERE r.line_id = %(line)s) AS allowed
        """,
        {"line": line_id, "user": user_id},
    ).fetchone()
    return bool(row and row["allowed"])


# --- alarm rules ---------------------------------------------------------------------
def insert_rule(conn: Conn, *, line_id: UUID, created_by: str, fields: dict[str, Any]) -> AlarmRule:
    row = conn.execute(
        f"""
        INSERT INTO alarm_rules (line_id, tag, above, below, for_seconds, severity, title,
                                 created_by)
        VALUES (%(line)s, %(tag)s, %(above)s, %(below)s, %(for_seconds)s, %(severity)s,
                %(title)s, %(by)s)
        RETURNING {RULE_COLUMNS}
        """,
        {**fields, "line": line_id, "by": created_by},
    ).fetchone()
    assert row is not None
    return AlarmRule.model_validate(row)


def rules_of(conn: Conn, line_id: UUID) -> list[AlarmRule]:
    rows = conn.execute(
        f"SELECT {RULE_COLUMNS} FROM alarm_rules WHERE line_id = %s ORDER BY created_at",
        (line_id,),
    ).fetchall()
    return [AlarmRule.model_validate(r) for r in rows]


def rule(conn: Conn, *, line_id: UUID, rule_id: UUID, lock: bool = False) -> AlarmRule | None:
    row = conn.execute(
        f"SELECT {RULE_COLUMNS} FROM alarm_rules WHERE line_id = %s AND rule_id = %s"
        + (" FOR UPDATE" if lock else ""),
        (line_id, rule_id),
    ).fetchone()
    return AlarmRule.model_validate(row) if row else None


def update_rule(conn: Conn, *, rule_id: UUID, changes: dict[str, Any]) -> AlarmRule:
    allowed = {"above", "below", "for_seconds", "severity", "title"}
    assignments = [f"{k} = %({k})s" for k in changes if k in allowed]
    row = conn.execute(
        f"UPDATE alarm_rules SET {', '.join(assignments)}, updated_at = now(), "
        f"breach_since = NULL, firing = false "
        f"WHERE rule_id = %(rule_id)s RETURNING {RULE_COLUMNS}",
        {**changes, "rule_id": rule_id},
    ).fetchone()
    assert row is not None
    return AlarmRule.model_validate(row)


def delete_rule(conn: Conn, *, line_id: UUID, rule_id: UUID) -> bool:
    row = conn.execute(
        "DELETE FROM alarm_rules WHERE line_id = %s AND rule_id = %s RETURNING rule_id",
        (line_id, rule_id),
    ).fetchone()
    return row is not None


@dataclass
class RuleState:
    rule_id: UUID
    tag: str
    above: float | None
    below: float | None
    for_seconds: int
    severity: str
    title: str
    breach_since: datetime | None
    firing: bool
    last_ts: datetime | None


def rules_for_evaluation(conn: Conn, *, line_id: UUID, tags: list[str]) -> list[RuleState]:
    """The line's rules on these tags, locked for this transaction's evaluation."""
    rows = conn.execute(
        """
        SELECT rule_id, tag, above, below, for_seconds, severity, title, breach_since, firing,
               last_ts
        FROM alarm_rules WHERE line_id = %s AND tag = ANY(%s)
        ORDER BY rule_id FOR UPDATE
        """,
        (line_id, tags),
    ).fetchall()
    return [RuleState(**r) for r in rows]


def save_rule_states(conn: Conn, states: list[RuleState]) -> None:
    """Every evaluated rule's state in one statement."""
    if not states:
        return
    conn.execute(
        """
        UPDATE alarm_rules AS r
        SET breach_since = s.breach_since, firing = s.firing, last_ts = s.last_ts
        FROM unnest(%s::uuid[], %s::timestamptz[], %s::boolean[], %s::timestamptz[])
             AS s (rule_id, breach_since, firing, last_ts)
        WHERE r.rule_id = s.rule_id
        """,
        (
            [s.rule_id for s in states],
            [s.breach_since for s in states],
            [s.firing for s in states],
            [s.last_ts for s in states],
        ),
    )


def breach_readings(
    conn: Conn, *, line_id: UUID, tag: str, since: datetime, until: datetime, limit: int = 10
) -> list[Reading]:
    """The live readings of a breach, newest `limit` of them, oldest first."""
    rows = conn.execute(
        """
        SELECT * FROM (
            SELECT machine_id, tag, ts, value, unit, quality, origin FROM readings
            WHERE line_id = %s AND tag = %s AND ts BETWEEN %s AND %s AND NOT historical
            ORDER BY ts DESC LIMIT %s
        ) newest ORDER BY ts
        """,
        (line_id, tag, since, until, limit),
    ).fetchall()
    return [Reading.model_validate(r) for r in rows]


def open_incident_on_line(conn: Conn, line_id: UUID) -> UUID | None:
    row = conn.execute(
        "SELECT room_id FROM incident_rooms WHERE line_id = %s AND status = 'active' "
        "ORDER BY created_at DESC LIMIT 1",
        (line_id,),
    ).fetchone()
    return row["room_id"] if row else None


# --- the live chart ------------------------------------------------------------------
def claim_live_slot(conn: Conn, *, line_id: UUID, interval_seconds: float) -> bool:
    """True when the line's rooms have had no `readings` frame for `interval_seconds`
    (and marks one sent now): at most one frame a second per line, across containers."""
    row = conn.execute(
        """
        INSERT INTO line_live AS l (line_id, sent_at) VALUES (%(line)s, clock_timestamp())
        ON CONFLICT (line_id) DO UPDATE SET sent_at = clock_timestamp()
        WHERE l.sent_at <= clock_timestamp() - make_interval(secs => %(interval)s)
        RETURNING line_id
        """,
        {"line": line_id, "interval": interval_seconds},
    ).fetchone()
    return row is not None


def live_connections_of_line(conn: Conn, line_id: UUID) -> list[str]:
    """Sockets in the rooms of the line's open incidents."""
    rows = conn.execute(
        """
        SELECT c.connection_id FROM connections c
        JOIN incident_rooms r ON r.room_id = c.room_id
        WHERE r.line_id = %s AND r.status = 'active' AND c.expires_at > now()
        """,
        (line_id,),
    ).fetchall()
    return [r["connection_id"] for r in rows]
