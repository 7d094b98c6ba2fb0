"""Connections beside the messages, a per-room change log, reactions on the message row,
and structured content kept in the order it was sent.

Revision ID: 0004_connections_and_change_log
Revises: 0003_reaction_versions
Create Date: 2026-12-01

Design notes
- `connections` replaces the DynamoDB table: one row per live WebSocket (room_id NULL
  for a user connection). `$connect` checks membership and inserts in one statement;
  fan-out reads the room's rows by `connections_by_room`; badges read members' user
  connections by `connections_user_connections` joined to `room_members`, never a scan
  of everyone online. `connected_at` gives the registration grace: a 410 from a post
  that raced `$connect` never deletes a row younger than the grace period.
- `incident_rooms.last_change_seq` is the room's second counter. Every change to a
  message (insert, edit, delete, reaction) takes the next number under the room row's
  lock, in the same statement as the change, and stores it in `messages.change_seq`,
  so `change_seq > N` is exactly "changed after N" and each message appears once.
- Reactions live on the message row (`reactions`: [{emoji, user_ids}] in first-reaction
  order). A reaction is then one UPDATE of that row: its lock orders concurrent
  reactions and PostgreSQL re-reads the newest row before applying the change, so the
  totals returned are always the latest (a side table read in the same statement would
  be read from the statement's older snapshot).
- `content_json` becomes `json` (not `jsonb`): `jsonb` sorts object keys, and readings
  must come back in the order they were entered. Queries cast to `jsonb` where needed.
- `room_presence` and `presence_changes` coalesce `user_joined` / `user_left`: see
  docs/design.md "Joins and departures".
"""

from alembic import op

revision = "0004_connections_and_change_log"
down_revision = "0003_reaction_versions"
branch_labels = None
depends_on = None

UPGRADE = r"""
ALTER TABLE incident_rooms ADD COLUMN last_change_seq bigint NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN change_seq bigint NOT NULL DEFAULT 0;
UPDATE messages SET change_seq = sequence_number;
UPDATE incident_rooms SET last_change_seq = last_seq;
CREATE INDEX messages_room_change ON messages (room_id, change_seq);

ALTER TABLE messages ADD COLUMN reactions jsonb NOT NULL DEFAULT '[]';
UPDATE messages m SET reactions = g.reactions
FROM (
    SELECT message_id,
           jsonb_agg(jsonb_build_object('emoji', emoji, 'user_ids', user_ids) ORDER BY first_at) AS reactions
    FROM (SELECT message_id, emoji, jsonb_agg(user_id ORDER BY created_at) AS user_ids,
                 min(created_at) AS first_at
          FROM message_reactions GROUP BY message_id, emoji) per_emoji
    GROUP BY message_id
) g
WHERE g.message_id = m.message_id;
DROP TABLE message_reactions;

-- json keeps the sender's key order; the search document is rebuilt over it.
DROP INDEX messages_search;
ALTER TABLE messages DROP COLUMN search_document;
ALTER TABLE messages ALTER COLUMN content_json TYPE json USING content_json::json;
ALTER TABLE messages ADD COLUMN search_document tsvector GENERATED ALWAYS AS (
    warroom_search_document(coalesce(content, '') || ' ' || coalesce(content_json::text, ''))
) STORED;
CREATE INDEX messages_search ON messages USING gin (search_document);

-- A reaction change, as one expression over the row's own column (see the notes above).
CREATE FUNCTION warroom_reaction_add(state jsonb, emo text, usr text) RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $fn$
    SELECT CASE
        WHEN EXISTS (SELECT 1 FROM jsonb_array_elements(state) e WHERE e ->> 'emoji' = emo) THEN
            (SELECT jsonb_agg(CASE WHEN e ->> 'emoji' = emo AND NOT ((e -> 'user_ids') ? usr)
                                   THEN jsonb_set(e, '{user_ids}', (e -> 'user_ids') || to_jsonb(usr))
                                   ELSE e END ORDER BY ord)
             FROM jsonb_array_elements(state) WITH ORDINALITY AS t(e, ord))
        ELSE state || jsonb_build_array(jsonb_build_object('emoji', emo, 'user_ids', jsonb_build_array(usr)))
    END
$fn$;

CREATE FUNCTION warroom_reaction_remove(state jsonb, emo text, usr text) RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $fn$
    SELECT coalesce(jsonb_agg(x ORDER BY ord), '[]'::jsonb)
    FROM (SELECT CASE WHEN e ->> 'emoji' = emo THEN jsonb_set(e, '{user_ids}', (e -> 'user_ids') - usr)
                      ELSE e END AS x, ord
          FROM jsonb_array_elements(state) WITH ORDINALITY AS t(e, ord)) s
    WHERE jsonb_array_length(x -> 'user_ids') > 0
$fn$;

CREATE FUNCTION warroom_reactions_of(state jsonb, usr text) RETURNS int
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $fn$
    SELECT count(*)::int FROM jsonb_array_elements(state) e WHERE (e -> 'user_ids') ? usr
$fn$;

CREATE TABLE connections (
    connection_id  text PRIMARY KEY,
    user_id        text NOT NULL,
    room_id        uuid REFERENCES incident_rooms (room_id) ON DELETE CASCADE,
    display_name   text NOT NULL,
    connected_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
    expires_at     timestamptz NOT NULL
);
CREATE INDEX connections_by_room ON connections (room_id, user_id) WHERE room_id IS NOT NULL;
CREATE INDEX connections_user_connections ON connections (user_id) WHERE room_id IS NULL;
CREATE INDEX connections_by_user_room ON connections (user_id, room_id);
CREATE INDEX connections_expiry ON connections (expires_at);

CREATE TABLE room_presence (
    room_id           uuid PRIMARY KEY REFERENCES incident_rooms (room_id) ON DELETE CASCADE,
    announced_at      timestamptz NOT NULL DEFAULT '-infinity'
);

CREATE TABLE presence_changes (
    room_id       uuid NOT NULL REFERENCES incident_rooms (room_id) ON DELETE CASCADE,
    user_id       text NOT NULL,
    display_name  text NOT NULL,
    event         text NOT NULL CHECK (event IN ('user_joined', 'user_left')),
    at            timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX presence_changes_by_room ON presence_changes (room_id, at);
"""

DOWNGRADE = r"""
DROP TABLE IF EXISTS presence_changes;
DROP TABLE IF EXISTS room_presence;
DROP TABLE IF EXISTS connections;
DROP FUNCTION IF EXISTS warroom_reactions_of(jsonb, text);
DROP FUNCTION IF EXISTS warroom_reaction_remove(jsonb, text, text);
DROP FUNCTION IF EXISTS warroom_reaction_add(jsonb, text, text);
DROP INDEX IF EXISTS messages_search;
ALTER TABLE messages DROP COLUMN search_document;
ALTER TABLE messages ALTER COLUMN content_json TYPE jsonb USING content_json::jsonb;
ALTER TABLE messages ADD COLUMN search_document tsvector GENERATED ALWAYS AS (
    warroom_search_document(coalesce(content, '') || ' ' || coalesce(content_json::text, ''))
) STORED;
CREATE INDEX messages_search ON messages USING gin (search_document);
CREATE TABLE message_reactions (
    message_id  uuid NOT NULL REFERENCES messages (message_id) ON DELETE CASCADE,
    user_id     text NOT NULL,
    emoji       text NOT NULL CHECK (length(emoji) BETWEEN 1 AND 32),
    created_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (message_id, user_id, emoji)
);
INSERT INTO message_reactions (message_id, user_id, emoji)
SELECT m.message_id, u.user_id, e ->> 'emoji'
FROM messages m, jsonb_array_elements(m.reactions) e, jsonb_array_elements_text(e -> 'user_ids') AS u(user_id);
ALTER TABLE messages DROP COLUMN reactions;
DROP INDEX IF EXISTS messages_room_change;
ALTER TABLE messages DROP COLUMN change_seq;
ALTER TABLE incident_rooms DROP COLUMN last_change_seq;
"""


def upgrade() -> None:
    op.get_bind().exec_driver_sql(UPGRADE)


def downgrade() -> None:
    op.get_bind().exec_driver_sql(DOWNGRADE)
