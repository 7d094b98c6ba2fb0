"""SQL for messages, reactions and the audit trail.

Every write is one statement: the checks, the change (with its numbers taken under the
room row's lock) and the recipients of the change come back together. The statements
are written as named CTEs, read top to bottom: who asks → may they → number → change →
who hears of it. When nothing changed, the same row carries what the logic needs to say
why (the room's status, the actor's role, the message's state).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

import psycopg
from psycopg.types.json import Json

from warroom.dal.connections import room_connections_sql
from warroom.dal.rows import (
    MESSAGE_COLUMNS,
    MESSAGE_SELECT,
    message_from_row,
    message_select,
    reactions_from,
)
from warroom.models import EDIT_WINDOW_SECONDS, Message, Reaction

Conn = psycopg.Connection[dict[str, Any]]

MAX_DISTINCT_REACTIONS = 20
MAX_REACTIONS_PER_USER = 10


def bucket_sql(*, source: str, user: str, kind: str) -> str:
    """One attempt on the user's `kind` token bucket, as a CTE body: when `source` yields
    a row (everything else allows the write), refill by the time since the last attempt,
    take a token if a whole one is there, and return the row (`consumed`, `tokens`
    left). The upsert locks the user's bucket row, so one user's concurrent writes see
    each other's tokens; other users never wait on it. Parameters: %(burst)s, %(rate)s."""
    available = (
        "least(%(burst)s::float8, b.tokens + %(rate)s::float8 * "
        "extract(epoch FROM clock_timestamp() - b.refilled_at)::float8)"
    )
    return f"""
    INSERT INTO rate_buckets AS b (user_id, kind, tokens, refilled_at, consumed)
    SELECT %({user})s, '{kind}', %(burst)s::float8 - 1, clock_timestamp(), true
    FROM (SELECT 1 FROM {source} LIMIT 1) AS attempt
    ON CONFLICT (user_id, kind) DO UPDATE
       SET tokens = CASE WHEN {available} >= 1 THEN {available} - 1 ELSE {available} END,
           refilled_at = clock_timestamp(),
           consumed = {available} >= 1
    RETURNING consumed, tokens
    """


@dataclass(frozen=True)
class Limit:
    """A token bucket's size and refill rate (tokens per second)."""

    burst: int
    per_second: float


@dataclass(frozen=True)
class Throttle:
    """What the bucket said about a refused write: None when it was not consulted."""

    consumed: bool | None = None
    tokens: float = 0.0

    @property
    def limited(self) -> bool:
        return self.consumed is False


def _throttle(row: dict[str, Any]) -> Throttle:
    return Throttle(row.get("bucket_consumed"), float(row.get("bucket_tokens") or 0.0))


class DuplicateClientMessage(Exception):
    """The (room, sender, client_msg_id) is already stored: the send is a resend."""


@dataclass(frozen=True)
class Recipients:
    """Who hears of a change: the room's connections, and members' user connections
    (room-list badges) split by whether the message mentions them."""

    room: list[str] = field(default_factory=list)
    mentioned: list[str] = field(default_factory=list)
    badges: list[str] = field(default_factory=list)


def _recipients(row: dict[str, Any]) -> Recipients:
    return Recipients(
        room=list(row.get("room_connections") or []),
        mentioned=list(row.get("mention_connections") or []),
        badges=list(row.get("badge_connections") or []),
    )


@dataclass(frozen=True)
class SendOutcome:
    """A new message and its recipients; or, when nothing was stored, why not."""

    message: Message | None
    recipients: Recipients
    existing_message_id: UUID | None
    room_exists: bool
    role: str | None
    status: str | None
    file_found: bool
    file_content_type: str | None
    member_mentions: list[str]
    presence_pending: bool
    active: bool = True
    throttle: Throttle = field(default_factory=Throttle)


# Badges go to members' user connections only: the join starts from the room's members,
# so nobody outside the room is ever read, whoever else is online.
BADGE_RECIPIENTS_SQL = """
SELECT c.connection_id, c.user_id = ANY(i.mentions) AS mentioned
FROM inserted i
JOIN room_members rm ON rm.room_id = i.room_id AND rm.user_id <> i.sender_id
JOIN connections c ON c.user_id = rm.user_id AND c.room_id IS NULL
                  AND c.expires_at > clock_timestamp()
"""

# The number is taken by the UPDATE of the room row (a row lock held until commit) and
# used by the INSERT in the same statement. The statement runs on its own (autocommit),
# so a failed insert — a duplicate client_msg_id included — rolls back the numbers too.
# The room's status and membership version are checked in the UPDATE itself, so they
# are re-read under the lock (PostgreSQL re-reads the locked row, and only that row):
# a member demoted while this send waited finds nothing stored, and the service retries.
SEND_MESSAGE = f"""
WITH
sender AS (
    SELECT r.room_id, r.status, r.members_version, rm.role,
           coalesce(su.is_active, true) AS active
    FROM incident_rooms r
    LEFT JOIN room_members rm ON rm.room_id = r.room_id AND rm.user_id = %(sender)s
    LEFT JOIN tr_users su ON su.user_id = %(sender)s
    WHERE r.room_id = %(room_id)s
),
attachment AS (
    SELECT f.file_id, f.content_type FROM files f
    WHERE f.file_id = %(file_id)s AND f.room_id = %(room_id)s
),
earlier AS (
    SELECT m.message_id FROM messages m
    WHERE m.room_id = %(room_id)s AND m.sender_id = %(sender)s
      AND m.client_msg_id = %(client_msg_id)s
),
member_mentions AS (
    SELECT coalesce(array_agg(t.user_id ORDER BY t.ord), '{{}}') AS mentions
    FROM unnest(%(mentions)s::text[]) WITH ORDINALITY AS t(user_id, ord)
    WHERE EXISTS (SELECT 1 FROM room_members x
                  WHERE x.room_id = %(room_id)s AND x.user_id = t.user_id)
),
allowed AS (
    SELECT 1 FROM sender s
    WHERE (%(system)s OR (s.role IN ('OWNER', 'EDITOR') AND s.active AND s.status <> 'archived'))
      AND NOT EXISTS (SELECT 1 FROM earlier)
      AND (%(file_id)s::uuid IS NULL OR EXISTS (
            SELECT 1 FROM attachment a
            WHERE %(message_type)s <> 'image_ref' OR a.content_type LIKE 'image/%%'))
),
-- Sends by people (not system messages) take a token from the sender's bucket.
bucket AS ({bucket_sql(source="allowed WHERE NOT %(system)s", user="sender", kind="send")}),
-- Status and membership are re-checked on the locked row: a send that waited for the lock
-- while the room was archived or a member re-roled stores nothing (the logic retries).
numbered AS (
    UPDATE incident_rooms
       SET last_seq = last_seq + 1,
           last_change_seq = last_change_seq + 1,
           last_activity_at = greatest(clock_timestamp(), last_activity_at + interval '1 microsecond')
     WHERE room_id = %(room_id)s
       AND EXISTS (SELECT 1 FROM allowed)
       AND (%(system)s OR (
            status <> 'archived'
            AND members_version = (SELECT members_version FROM sender)
            AND EXISTS (SELECT 1 FROM bucket WHERE consumed)))
    RETURNING last_seq, last_change_seq, last_activity_at
),
inserted AS (
    INSERT INTO messages (room_id, sequence_number, change_seq, sender_id, client_msg_id,
                          message_type, content, content_json, mentions, file_id, created_at)
    SELECT %(room_id)s, n.last_seq, n.last_change_seq, %(sender)s, %(client_msg_id)s,
           %(message_type)s, %(content)s, %(content_json)s,
           (SELECT mentions FROM member_mentions), %(file_id)s, n.last_activity_at
    FROM numbered n
    RETURNING *
),
badge_recipients AS ({BADGE_RECIPIENTS_SQL})
SELECT (SELECT count(*) FROM sender) > 0 AS room_exists,
       (SELECT role FROM sender) AS role,
       (SELECT status FROM sender) AS status,
       coalesce((SELECT active FROM sender), true) AS sender_active,
       (SELECT consumed FROM bucket) AS bucket_consumed,
       (SELECT tokens FROM bucket) AS bucket_tokens,
       (SELECT message_id FROM earlier) AS existing_message_id,
       (SELECT mentions FROM member_mentions) AS member_mentions,
       EXISTS (SELECT 1 FROM attachment) AS file_found,
       (SELECT content_type FROM attachment) AS attachment_content_type,
       {MESSAGE_COLUMNS},
       CASE WHEN m.message_id IS NOT NULL THEN ({room_connections_sql("m.room_id")}) END AS room_connections,
       (SELECT array_agg(connection_id) FROM badge_recipients WHERE mentioned) AS mention_connections,
       (SELECT array_agg(connection_id) FROM badge_recipients WHERE NOT mentioned) AS badge_connections,
       -- joins or departures not yet announced: the sender's invocation may announce them
       EXISTS (SELECT 1 FROM presence_changes pc WHERE pc.room_id = %(room_id)s) AS presence_pending
FROM (SELECT 1) AS one
LEFT JOIN inserted m ON true
LEFT JOIN tr_users u ON u.user_id = m.sender_id
LEFT JOIN files f ON f.file_id = m.file_id
"""


def send(
    conn: Conn,
    *,
    room_id: UUID,
    sender_id: str,
    client_msg_id: UUID | None,
    message_type: str,
    content: str | None,
    content_json: dict[str, Any] | None,
    mentions: Sequence[str],
    file_id: UUID | None,
    system: bool = False,
    limit: Limit | None = None,
) -> SendOutcome:
    """Check, rate-limit, number, insert and find the recipients, in one statement."""
    if limit is None:
        # Only system messages (membership and status changes) go unmetered.
        if not system:
            raise ValueError("a person's send needs their rate limit")
        limit = Limit(1, 1.0)  # not read by the statement for a system message
    params = {
        "room_id": room_id,
        "sender": sender_id,
        "client_msg_id": client_msg_id,
        "message_type": message_type,
        "content": content,
        # json, not jsonb: the key order the sender used is kept.
        "content_json": Json(content_json) if content_json is not None else None,
        "mentions": list(mentions),
        "file_id": file_id,
        "system": system,
        "burst": limit.burst,
        "rate": limit.per_second,
    }
    try:
        row = conn.execute(SEND_MESSAGE, params).fetchone()
    except psycopg.errors.UniqueViolation as exc:
        if exc.diag.constraint_name == "messages_idempotency":
            raise DuplicateClientMessage(str(client_msg_id)) from exc
        raise
    assert row is not None
    stored = row["message_id"] is not None
    return SendOutcome(
        message=message_from_row(row) if stored else None,
        recipients=_recipients(row) if stored else Recipients(),
        existing_message_id=row["existing_message_id"],
        room_exists=row["room_exists"],
        role=row["role"],
        status=row["status"],
        file_found=row["file_found"],
        file_content_type=row["attachment_content_type"],
        member_mentions=list(row["member_mentions"] or []),
        presence_pending=bool(row["presence_pending"]),
        active=bool(row["sender_active"]),
        throttle=_throttle(row),
    )


def find_by_client_msg_id(
    conn: Conn, *, room_id: UUID, sender_id: str, client_msg_id: UUID
) -> Message | None:
    row = conn.execute(
        MESSAGE_SELECT + " WHERE m.room_id = %s AND m.sender_id = %s AND m.client_msg_id = %s",
        (room_id, sender_id, client_msg_id),
    ).fetchone()
    return None if row is None else message_from_row(row)


def get_message(conn: Conn, message_id: UUID) -> Message | None:
    row = conn.execute(MESSAGE_SELECT + " WHERE m.message_id = %s", (message_id,)).fetchone()
    return None if row is None else message_from_row(row)


@dataclass(frozen=True)
class ChangeOutcome:
    """An edit or a delete: the message after it and who hears of it; or, when nothing
    changed, the state that says why."""

    message: Message | None
    recipients: Recipients
    found: bool
    deleted: bool
    role: str | None
    is_admin: bool
    status: str | None
    sender_id: str | None
    message_type: str | None
    within_window: bool
    allowed: bool
    active: bool = True
    throttle: Throttle = field(default_factory=Throttle)


# The message row is locked first (FOR UPDATE returns its newest version), then the room
# row for the change number: every writer takes the locks in that order, and senders take
# only the room's, so no two writers wait on each other in a circle.
# The change number is taken on the room row's lock, where the room's status and
# membership are re-checked (a change that waited for the lock while the room was
# archived or its members re-roled changes nothing; the logic runs it again), and only
# once the actor's write bucket gave a token.
NUMBER_CHANGE = """
    UPDATE incident_rooms r SET last_change_seq = r.last_change_seq + 1
    FROM allowed a
    WHERE r.room_id = a.room_id AND r.status <> 'archived'
      AND r.members_version = a.members_version
      AND EXISTS (SELECT 1 FROM bucket WHERE consumed)
    RETURNING r.last_change_seq
"""

TARGET_SQL = """
SELECT m.message_id, m.room_id, m.sender_id, m.message_type, m.content, m.content_json,
       m.mentions, m.edited_at, m.deleted_at, m.reactions,
       m.created_at > clock_timestamp() - make_interval(secs => %(window)s) AS within_window,
       rm.role, r.status, r.members_version, coalesce(u.is_admin, false) AS is_admin,
       coalesce(u.is_active, true) AS active
FROM messages m
JOIN incident_rooms r ON r.room_id = m.room_id
LEFT JOIN room_members rm ON rm.room_id = m.room_id AND rm.user_id = %(user)s
LEFT JOIN tr_users u ON u.user_id = %(user)s
WHERE m.message_id = %(message_id)s
FOR UPDATE OF m
"""

CHANGE_RESULT = f"""
SELECT t.message_id IS NOT NULL AS found, t.deleted_at IS NOT NULL AS was_deleted,
       t.role, coalesce(t.is_admin, false) AS is_admin, t.status,
       t.sender_id AS target_sender_id, t.message_type AS target_type,
       coalesce(t.within_window, false) AS within_window,
       coalesce(t.active, true) AS actor_active,
       (SELECT consumed FROM bucket) AS bucket_consumed,
       (SELECT tokens FROM bucket) AS bucket_tokens,
       EXISTS (SELECT 1 FROM allowed) AS allowed,
       {MESSAGE_COLUMNS},
       CASE WHEN m.message_id IS NOT NULL THEN ({room_connections_sql("m.room_id")}) END AS room_connections
FROM (SELECT 1) AS one
LEFT JOIN target t ON true
LEFT JOIN changed_row m ON true
LEFT JOIN tr_users u ON u.user_id = m.sender_id
LEFT JOIN files f ON f.file_id = m.file_id
"""

EDIT_MESSAGE = f"""
WITH
target AS ({TARGET_SQL}),
allowed AS (
    SELECT * FROM target
    WHERE deleted_at IS NULL AND active AND role IN ('OWNER', 'EDITOR') AND status <> 'archived'
      AND sender_id = %(user)s AND message_type IN ('text', 'image_ref', 'file_ref')
      AND within_window
),
member_mentions AS (
    SELECT coalesce(array_agg(t.user_id ORDER BY t.ord), '{{}}') AS mentions
    FROM allowed a,
         unnest(coalesce(%(mentions)s::text[], a.mentions)) WITH ORDINALITY AS t(user_id, ord)
    WHERE EXISTS (SELECT 1 FROM room_members x WHERE x.room_id = a.room_id AND x.user_id = t.user_id)
),
bucket AS ({bucket_sql(source="allowed", user="user", kind="write")}),
numbered AS ({NUMBER_CHANGE}),
audit AS (
    INSERT INTO message_audit (message_id, room_id, action, actor_id, prior_content,
                               prior_content_json, prior_mentions, prior_edited_at)
    SELECT a.message_id, a.room_id, 'edit', %(user)s, a.content, a.content_json::jsonb,
           a.mentions, a.edited_at
    FROM allowed a WHERE EXISTS (SELECT 1 FROM numbered)
),
changed_row AS (
    UPDATE messages m
       SET content = %(content)s,
           mentions = (SELECT mentions FROM member_mentions),
           edited_at = clock_timestamp(),
           change_seq = n.last_change_seq
      FROM numbered n
     WHERE m.message_id = %(message_id)s
    RETURNING m.*
)
{CHANGE_RESULT}
"""

DELETE_MESSAGE = f"""
WITH
target AS ({TARGET_SQL}),
allowed AS (
    SELECT * FROM target
    WHERE deleted_at IS NULL AND active AND status <> 'archived'
      AND (is_admin OR role = 'OWNER' OR (sender_id = %(user)s AND role = 'EDITOR'))
),
bucket AS ({bucket_sql(source="allowed", user="user", kind="write")}),
numbered AS ({NUMBER_CHANGE}),
audit AS (
    INSERT INTO message_audit (message_id, room_id, action, actor_id, prior_content,
                               prior_content_json, prior_mentions, prior_edited_at)
    SELECT a.message_id, a.room_id, 'delete', %(user)s, a.content, a.content_json::jsonb,
           a.mentions, a.edited_at
    FROM allowed a WHERE EXISTS (SELECT 1 FROM numbered)
),
changed_row AS (
    UPDATE messages m
       SET deleted_at = clock_timestamp(), change_seq = n.last_change_seq
      FROM numbered n
     WHERE m.message_id = %(message_id)s
    RETURNING m.*
)
{CHANGE_RESULT}
"""


def _change(conn: Conn, sql: str, params: dict[str, Any]) -> ChangeOutcome:
    row = conn.execute(sql, {"window": EDIT_WINDOW_SECONDS, **params}).fetchone()
    assert row is not None
    changed = row["message_id"] is not None
    return ChangeOutcome(
        message=message_from_row(row) if changed else None,
        recipients=_recipients(row) if changed else Recipients(),
        found=row["found"],
        deleted=row["was_deleted"],
        role=row["role"],
        is_admin=row["is_admin"],
        status=row["status"],
        sender_id=row["target_sender_id"],
        message_type=row["target_type"],
        within_window=row["within_window"],
        active=bool(row["actor_active"]),
        throttle=_throttle(row),
        allowed=row["allowed"],
    )


def edit(
    conn: Conn,
    *,
    message_id: UUID,
    user_id: str,
    content: str,
    mentions: Sequence[str] | None,
    limit: Limit,
) -> ChangeOutcome:
    """Check, audit, change and number an edit, in one statement. Mentions of people who
    are not members are dropped, as on a send."""
    return _change(
        conn,
        EDIT_MESSAGE,
        {
            "message_id": message_id,
            "user": user_id,
            "content": content,
            "mentions": list(mentions) if mentions is not None else None,
            "burst": limit.burst,
            "rate": limit.per_second,
        },
    )


def delete(conn: Conn, *, message_id: UUID, user_id: str, limit: Limit) -> ChangeOutcome:
    """Soft delete (the content stays for the audit), in one statement."""
    return _change(
        conn,
        DELETE_MESSAGE,
        {
            "message_id": message_id,
            "user": user_id,
            "burst": limit.burst,
            "rate": limit.per_second,
        },
    )


@dataclass(frozen=True)
class ReactionOutcome:
    room_id: UUID | None
    reactions: list[Reaction]
    version: int
    change_seq: int
    recipients: Recipients
    changed: bool
    found: bool
    deleted: bool
    role: str | None
    status: str | None
    distinct_after: int
    mine_after: int
    allowed: bool
    active: bool = True
    throttle: Throttle = field(default_factory=Throttle)


# The new totals are computed from the locked row (its newest version), so the version
# that comes back always goes with the complete totals.
REACT = f"""
WITH
target AS ({TARGET_SQL}),
proposed AS (
    SELECT t.*, CASE WHEN %(add)s THEN warroom_reaction_add(t.reactions, %(emoji)s, %(user)s)
                     ELSE warroom_reaction_remove(t.reactions, %(emoji)s, %(user)s) END AS after
    FROM target t
),
allowed AS (
    SELECT * FROM proposed
    -- every member may react, viewers too: a reaction acknowledges, it says nothing new
    WHERE deleted_at IS NULL AND active AND role IS NOT NULL AND status <> 'archived'
      AND jsonb_array_length(after) <= {MAX_DISTINCT_REACTIONS}
      AND warroom_reactions_of(after, %(user)s) <= {MAX_REACTIONS_PER_USER}
),
bucket AS ({bucket_sql(source="allowed", user="user", kind="write")}),
numbered AS ({NUMBER_CHANGE}),
changed_row AS (
    UPDATE messages m
       SET reactions = a.after, reactions_version = m.reactions_version + 1,
           change_seq = n.last_change_seq
      FROM allowed a, numbered n
     WHERE m.message_id = a.message_id
    RETURNING m.room_id, m.reactions, m.reactions_version, m.change_seq
)
SELECT p.message_id IS NOT NULL AS found, p.deleted_at IS NOT NULL AS was_deleted,
       p.role, p.status, p.room_id AS target_room_id,
       coalesce(jsonb_array_length(p.after), 0) AS distinct_after,
       coalesce(warroom_reactions_of(p.after, %(user)s), 0) AS mine_after,
       coalesce(p.active, true) AS actor_active,
       (SELECT consumed FROM bucket) AS bucket_consumed,
       (SELECT tokens FROM bucket) AS bucket_tokens,
       EXISTS (SELECT 1 FROM allowed) AS allowed,
       c.room_id, c.reactions, c.reactions_version, c.change_seq,
       CASE WHEN c.room_id IS NOT NULL THEN ({room_connections_sql("c.room_id")}) END AS room_connections
FROM (SELECT 1) AS one
LEFT JOIN proposed p ON true
LEFT JOIN changed_row c ON true
"""


def react(
    conn: Conn, *, message_id: UUID, user_id: str, emoji: str, add: bool, limit: Limit
) -> ReactionOutcome:
    row = conn.execute(
        REACT,
        {
            "message_id": message_id,
            "user": user_id,
            "emoji": emoji,
            "add": add,
            "window": EDIT_WINDOW_SECONDS,
            "burst": limit.burst,
            "rate": limit.per_second,
        },
    ).fetchone()
    assert row is not None
    changed = row["room_id"] is not None
    return ReactionOutcome(
        room_id=row["room_id"] or row["target_room_id"],
        reactions=reactions_from(row["reactions"]) if changed else [],
        version=int(row["reactions_version"] or 0),
        change_seq=int(row["change_seq"] or 0),
        recipients=_recipients(row) if changed else Recipients(),
        changed=changed,
        found=row["found"],
        deleted=row["was_deleted"],
        role=row["role"],
        status=row["status"],
        distinct_after=row["distinct_after"],
        mine_after=row["mine_after"],
        active=bool(row["actor_active"]),
        throttle=_throttle(row),
        allowed=row["allowed"],
    )


# A message's size as stored, read without detoasting its content: a coarse measure for
# cutting a page in the database, so that a page of large messages never reads (or ships)
# far more than the reply can hold. The exact cut is made on the encoded reply.
APPROX_BYTES = (
    "coalesce(octet_length(m.content), 0) + coalesce(pg_column_size(m.content_json), 0) "
    "+ pg_column_size(m.reactions) + 400"
)


@dataclass(frozen=True)
class Page:
    """Messages in order; `cut` when the page stopped at its byte budget with more rows
    within its count limit."""

    messages: list[Message]
    cut: bool = False


def _page(
    conn: Conn,
    *,
    where: str,
    key: str,
    descending: bool,
    params: dict[str, Any],
    limit: int,
    max_bytes: int | None,
    content_chars: int | None = None,
) -> Page:
    """Up to `limit` messages in `key` order; with `max_bytes`, only as many as reach
    that many bytes (always at least one); with `content_chars`, text content cut to
    that many characters as it is read."""
    direction = "DESC" if descending else "ASC"
    if max_bytes is None:
        rows = conn.execute(
            f"{message_select(content_chars)} WHERE {where} "
            f"ORDER BY m.{key} {direction} LIMIT %(limit)s",
            {**params, "limit": limit},
        ).fetchall()
        return Page([message_from_row(r) for r in rows])
    rows = conn.execute(
        f"""
        SELECT q.* FROM (
            SELECT lim.*, sum(lim.approx_bytes) OVER w AS running,
                   lead(lim.message_id) OVER w IS NOT NULL AS has_next
            FROM (
                SELECT {MESSAGE_COLUMNS}, {APPROX_BYTES} AS approx_bytes
                FROM messages m
                LEFT JOIN tr_users u ON u.user_id = m.sender_id
                LEFT JOIN files f ON f.file_id = m.file_id
                WHERE {where}
                ORDER BY m.{key} {direction}
                LIMIT %(limit)s
            ) lim
            WINDOW w AS (ORDER BY lim.{key} {direction})
        ) q
        WHERE q.running - q.approx_bytes < %(max_bytes)s
        ORDER BY q.{key} {direction}
        """,
        {**params, "limit": limit, "max_bytes": max_bytes},
    ).fetchall()
    return Page([message_from_row(r) for r in rows], cut=bool(rows) and rows[-1]["has_next"])


def page_before(
    conn: Conn,
    *,
    room_id: UUID,
    limit: int,
    before: datetime | None,
    before_seq: int | None,
    max_bytes: int | None = None,
) -> Page:
    """Newest first, `limit` rows (callers ask for one extra to learn has_more)."""
    clauses = ["m.room_id = %(room_id)s"]
    if before is not None:
        clauses.append("m.created_at < %(before)s")
    if before_seq is not None:
        clauses.append("m.sequence_number < %(before_seq)s")
    return _page(
        conn,
        where=" AND ".join(clauses),
        key="sequence_number",
        descending=True,
        params={"room_id": room_id, "before": before, "before_seq": before_seq},
        limit=limit,
        max_bytes=max_bytes,
    )


def page_after(
    conn: Conn,
    *,
    room_id: UUID,
    after_seq: int,
    limit: int,
    max_bytes: int | None = None,
    content_chars: int | None = None,
) -> Page:
    """Oldest first, for catch-up after a reconnect (and the report)."""
    return _page(
        conn,
        where="m.room_id = %(room_id)s AND m.sequence_number > %(after)s",
        key="sequence_number",
        descending=False,
        params={"room_id": room_id, "after": after_seq},
        limit=limit,
        max_bytes=max_bytes,
        content_chars=content_chars,
    )


def changed_after(
    conn: Conn, *, room_id: UUID, after_change: int, limit: int, max_bytes: int | None = None
) -> tuple[Page, int]:
    """The current state of every message whose last change is after `after_change`, in
    change order (each message once: it carries only its latest change number), up to
    the room's current change number K, and K. Read first: every change up to K is
    committed by then (numbers are taken under the room's lock, held to commit), and a
    message changed again after K waits for the next page, in its newer state."""
    row = conn.execute(
        "SELECT last_change_seq FROM incident_rooms WHERE room_id = %s", (room_id,)
    ).fetchone()
    current = int(row["last_change_seq"]) if row else 0
    found = _page(
        conn,
        where="m.room_id = %(room_id)s AND m.change_seq > %(after)s AND m.change_seq <= %(current)s",
        key="change_seq",
        descending=False,
        params={"room_id": room_id, "after": after_change, "current": current},
        limit=limit,
        max_bytes=max_bytes,
    )
    return found, current


def search(
    conn: Conn,
    *,
    user_id: str,
    english: str | None,
    cjk_query: str | None,
    room_id: UUID | None,
    limit: int,
) -> list[tuple[Message, str]]:
    """Full-text search over the rooms the user is a member of, and no others."""
    conditions = []
    if english:
        conditions.append("websearch_to_tsquery('english', %(english)s)")
    if cjk_query:
        conditions.append("%(cjk)s::tsquery")
    tsquery = " && ".join(conditions)
    doc = (
        # A reading is searched and shown as its line of text (migration 0100), never JSON.
        "replace(replace(warroom_message_text(m.message_type, m.content, m.content_json), "
        "chr(57344), ''), "
        "chr(57345), '')"
    )
    headline = (
        f"ts_headline('english', {doc}, websearch_to_tsquery('english', %(english)s), "
        "'HighlightAll=true, StartSel=' || chr(57344) || ', StopSel=' || chr(57345))"
        if english
        else doc
    )
    room_filter = "AND m.room_id = %(room_id)s" if room_id is not None else ""
    rows = conn.execute(
        f"""
        WITH hits AS (
            SELECT m.message_id
            FROM messages m
            JOIN room_members rm ON rm.room_id = m.room_id AND rm.user_id = %(user)s
            WHERE m.search_document @@ ({tsquery}) AND m.deleted_at IS NULL {room_filter}
            ORDER BY m.created_at DESC
            LIMIT %(limit)s
        )
        SELECT q.*, {headline} AS highlight
        FROM ({MESSAGE_SELECT} WHERE m.message_id IN (SELECT message_id FROM hits)) q
        JOIN messages m ON m.message_id = q.message_id
        ORDER BY q.created_at DESC
        """,
        {
            "user": user_id,
            "english": english,
            "cjk": cjk_query,
            "room_id": room_id,
            "limit": limit,
        },
    ).fetchall()
    return [(message_from_row(row), row["highlight"]) for row in rows]


def mentioning(conn: Conn, *, user_id: str, limit: int) -> list[Message]:
    rows = conn.execute(
        MESSAGE_SELECT
        + """
        JOIN room_members rm ON rm.room_id = m.room_id AND rm.user_id = %(user)s
        WHERE m.mentions @> ARRAY[%(user)s]::text[] AND m.deleted_at IS NULL
        ORDER BY m.created_at DESC LIMIT %(limit)s
        """,
        {"user": user_id, "limit": limit},
    ).fetchall()
    return [message_from_row(r) for r in rows]


def incident_data(
    conn: Conn,
    *,
    room_id: UUID,
    field: str,
    minimum: float | None,
    maximum: float | None,
    limit: int,
) -> list[Message]:
    """Readings of one field in either shape: `content.readings.<field>` when the content
    has `readings`, else the top-level `<field>` (the specification's flat shape)."""
    rows = conn.execute(
        f"""
        SELECT q.* FROM (
            {MESSAGE_SELECT}
            WHERE m.room_id = %(room_id)s AND m.message_type = 'incident_data'
              AND m.deleted_at IS NULL
        ) q
        CROSS JOIN LATERAL (
            SELECT CASE WHEN q.content_json -> 'readings' IS NOT NULL
                        THEN q.content_json -> 'readings' -> %(field)s
                        ELSE q.content_json -> %(field)s END AS value
        ) v
        WHERE json_typeof(v.value) = 'number'
          AND (%(min)s::float8 IS NULL OR (v.value::text)::float8 >= %(min)s)
          AND (%(max)s::float8 IS NULL OR (v.value::text)::float8 <= %(max)s)
        ORDER BY q.sequence_number
        LIMIT %(limit)s
        """,
        {"room_id": room_id, "field": field, "min": minimum, "max": maximum, "limit": limit},
    ).fetchall()
    return [message_from_row(r) for r in rows]
