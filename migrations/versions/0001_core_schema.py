"""Core schema: users, incident rooms, members, gap-free messages, audit, reactions, files.

Revision ID: 0001_core_schema
Revises:
Create Date: 2026-11-26

Design notes
- The room row holds the room's message counter (`last_seq`). A send bumps it with
  `UPDATE … RETURNING` in the same transaction as the insert: the row lock serialises
  senders of one room (and only of that room), numbers are consecutive, and a rolled
  back insert gives its number back. No SEQUENCE: RDS Proxy pins sessions that use one.
- `created_at` of a message is taken under that lock and forced strictly increasing per
  room, so the timestamp cursor of history pages follows the sequence order exactly.
- Search without extensions (the embedded server has no pg_trgm): English words go
  through the `english` configuration; runs of CJK characters are indexed as their
  single characters and overlapping bigrams, built with `array_to_tsvector` so that no
  parser (and no locale) decides what a Chinese "word" is.
"""

from alembic import op

revision = "0001_core_schema"
down_revision = None
branch_labels = None
depends_on = None

CJK = r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]"

UPGRADE = rf"""
CREATE FUNCTION warroom_cjk_grams(doc text) RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT AS $fn$
    SELECT coalesce(array_agg(DISTINCT substr(run, i, n)), '{{}}')
    FROM (SELECT m[1] AS run FROM regexp_matches(doc, '{CJK}+', 'g') AS m) AS runs
    CROSS JOIN LATERAL generate_series(1, char_length(run)) AS i
    CROSS JOIN (VALUES (1), (2)) AS sizes(n)
    WHERE i + n - 1 <= char_length(run)
$fn$;

CREATE FUNCTION warroom_search_document(doc text) RETURNS tsvector
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT AS $fn$
    SELECT to_tsvector('english'::regconfig, regexp_replace(doc, '{CJK}+', ' ', 'g'))
           || array_to_tsvector(warroom_cjk_grams(doc))
$fn$;

CREATE TABLE tr_users (
    user_id       text PRIMARY KEY CHECK (user_id = lower(user_id) AND position('@' IN user_id) > 1),
    display_name  text NOT NULL CHECK (length(display_name) BETWEEN 1 AND 120),
    department    text,
    job_title     text,
    is_admin      boolean NOT NULL DEFAULT false,
    is_active     boolean NOT NULL DEFAULT true,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX tr_users_display_name_prefix ON tr_users (lower(display_name) text_pattern_ops);
CREATE INDEX tr_users_user_id_prefix ON tr_users (user_id text_pattern_ops);

CREATE TABLE incident_rooms (
    room_id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    title             text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    status            text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'resolved', 'archived')),
    severity          text NOT NULL DEFAULT 'medium' CHECK (severity IN ('low', 'medium', 'high', 'critical')),
    location          text NOT NULL DEFAULT '',
    lots              text[] NOT NULL DEFAULT '{{}}',
    created_by        text NOT NULL,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    last_activity_at  timestamptz NOT NULL DEFAULT now(),
    resolved_at       timestamptz,
    last_seq          bigint NOT NULL DEFAULT 0 CHECK (last_seq >= 0)
);
CREATE INDEX incident_rooms_lots ON incident_rooms USING gin (lots);
CREATE INDEX incident_rooms_status_activity ON incident_rooms (status, last_activity_at DESC);

CREATE TABLE room_members (
    room_id        uuid NOT NULL REFERENCES incident_rooms (room_id) ON DELETE CASCADE,
    user_id        text NOT NULL,
    role           text NOT NULL CHECK (role IN ('OWNER', 'EDITOR', 'VIEWER')),
    joined_at      timestamptz NOT NULL DEFAULT now(),
    last_read_seq  bigint NOT NULL DEFAULT 0 CHECK (last_read_seq >= 0),
    PRIMARY KEY (room_id, user_id)
);
CREATE INDEX room_members_by_user ON room_members (user_id, room_id);

CREATE TABLE files (
    file_id       uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    room_id       uuid NOT NULL REFERENCES incident_rooms (room_id) ON DELETE CASCADE,
    object_key    text NOT NULL UNIQUE,
    filename      text NOT NULL CHECK (length(filename) BETWEEN 1 AND 255),
    content_type  text NOT NULL,
    size_bytes    bigint NOT NULL CHECK (size_bytes > 0),
    uploaded_by   text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX files_by_room ON files (room_id, created_at);

CREATE TABLE messages (
    message_id       uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    room_id          uuid NOT NULL REFERENCES incident_rooms (room_id) ON DELETE CASCADE,
    sequence_number  bigint NOT NULL CHECK (sequence_number > 0),
    sender_id        text NOT NULL,
    client_msg_id    uuid,
    message_type     text NOT NULL CHECK (message_type IN ('text', 'image_ref', 'file_ref', 'incident_data', 'system')),
    content          text,
    content_json     jsonb,
    mentions         text[] NOT NULL DEFAULT '{{}}',
    file_id          uuid REFERENCES files (file_id),
    created_at       timestamptz NOT NULL,
    edited_at        timestamptz,
    deleted_at       timestamptz,
    search_document  tsvector GENERATED ALWAYS AS (
        warroom_search_document(coalesce(content, '') || ' ' || coalesce(content_json::text, ''))
    ) STORED,
    CONSTRAINT messages_room_sequence UNIQUE (room_id, sequence_number),
    CONSTRAINT messages_idempotency UNIQUE (room_id, sender_id, client_msg_id),
    CONSTRAINT messages_structured_content CHECK (
        (message_type IN ('incident_data', 'system')) = (content_json IS NOT NULL)
    ),
    CONSTRAINT messages_file_reference CHECK (
        (message_type IN ('image_ref', 'file_ref')) = (file_id IS NOT NULL)
    )
);
CREATE INDEX messages_room_created ON messages (room_id, created_at);
CREATE INDEX messages_search ON messages USING gin (search_document);
CREATE INDEX messages_mentions ON messages USING gin (mentions);
CREATE INDEX messages_incident_data ON messages (room_id, sequence_number)
    WHERE message_type = 'incident_data' AND deleted_at IS NULL;

CREATE TABLE message_audit (
    audit_id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    message_id          uuid NOT NULL REFERENCES messages (message_id),
    room_id             uuid NOT NULL,
    action              text NOT NULL CHECK (action IN ('edit', 'delete')),
    actor_id            text NOT NULL,
    prior_content       text,
    prior_content_json  jsonb,
    prior_mentions      text[] NOT NULL,
    prior_edited_at     timestamptz,
    recorded_at         timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX message_audit_by_message ON message_audit (message_id, recorded_at);

-- The audit trail is append-only, whoever connects.
CREATE FUNCTION warroom_audit_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
    RAISE EXCEPTION 'message_audit is append-only';
END
$fn$;
CREATE TRIGGER message_audit_append_only
    BEFORE UPDATE OR DELETE ON message_audit
    FOR EACH ROW EXECUTE FUNCTION warroom_audit_is_append_only();

CREATE TABLE message_reactions (
    message_id  uuid NOT NULL REFERENCES messages (message_id) ON DELETE CASCADE,
    user_id     text NOT NULL,
    emoji       text NOT NULL CHECK (length(emoji) BETWEEN 1 AND 32),
    created_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (message_id, user_id, emoji)
);
"""

DOWNGRADE = """
DROP TABLE IF EXISTS message_reactions;
DROP TRIGGER IF EXISTS message_audit_append_only ON message_audit;
DROP TABLE IF EXISTS message_audit;
DROP FUNCTION IF EXISTS warroom_audit_is_append_only();
DROP TABLE IF EXISTS messages;
DROP TABLE IF EXISTS files;
DROP TABLE IF EXISTS room_members;
DROP TABLE IF EXISTS incident_rooms;
DROP TABLE IF EXISTS tr_users;
DROP FUNCTION IF EXISTS warroom_search_document(text);
DROP FUNCTION IF EXISTS warroom_cjk_grams(text);
"""


def upgrade() -> None:
    op.get_bind().exec_driver_sql(UPGRADE)


def downgrade() -> None:
    op.get_bind().exec_driver_sql(DOWNGRADE)
