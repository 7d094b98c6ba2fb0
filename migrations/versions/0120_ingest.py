"""Machine readings: signed ingest sources, the readings time series, alarm rules (Andon)
and the ingest's idempotency record.

Revision ID: 0120_ingest
Revises: 0130_push_on_call
Create Date: 2026-12-06

Design notes
- `ingest_sources`: a line's gateway. `secret_sealed` is the webhook secret sealed by
  `warroom.sealing` (an envelope under a KMS key in the cloud, a key file in `.local/`
  for `make dev`); the plain secret is shown once, at creation. `revoked_at` set means
  every later request is 401.
- `readings`: one row per point, keyed by (line, tag, machine, time). A **btree** on
  (line_id, tag, machine_id, ts), not BRIN: every read is one line's one tag over a
  range, and rows of many lines and machines arrive interleaved, and `historical` points
  backfill the past, so physical order does not follow time within a line and BRIN's
  block ranges would each cover the whole period (a BRIN scan would read most of the
  table). The btree answers a line+tag range with one index range scan, costs one index
  insert per row (measured by `make bench`: ingest vs raw multi-row INSERT), and is the
  same index the "latest value per tag" read uses.
  `origin` is 'machine' for ingest; typed readings stay chat messages (incident_data).
- `alarm_rules`: above/below thresholds held for `for_seconds` on a tag. The rule's
  evaluation state (`breach_since`, `firing`, `last_ts`) lives on the row and is updated
  in the insert's transaction, under the row's lock.
- `ingest_deliveries`: one row per (source, webhook-id) with the first answer, so a
  replay stores nothing and answers as the first time did.
- `line_live`: when each line's room last got a `readings` frame (at most one a second).
"""

from alembic import op

revision = "0120_ingest"
down_revision = "0130_push_on_call"
branch_labels = None
depends_on = None

UPGRADE = r"""
CREATE TABLE ingest_sources (
    source_id      uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    line_id        uuid NOT NULL REFERENCES lines (line_id) ON DELETE CASCADE,
    name           text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    secret_sealed  bytea NOT NULL,
    created_by     text NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    revoked_at     timestamptz
);
CREATE INDEX ingest_sources_by_line ON ingest_sources (line_id);

CREATE TABLE readings (
    line_id      uuid NOT NULL REFERENCES lines (line_id) ON DELETE CASCADE,
    tag          text NOT NULL,
    machine_id   text NOT NULL,
    ts           timestamptz NOT NULL,
    value        double precision NOT NULL,
    unit         text,
    quality      text NOT NULL DEFAULT 'good' CHECK (quality IN ('good', 'uncertain', 'bad')),
    historical   boolean NOT NULL DEFAULT false,
    origin       text NOT NULL DEFAULT 'machine' CHECK (origin IN ('machine', 'typed')),
    source_id    uuid,
    received_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX readings_by_line_tag_time ON readings (line_id, tag, machine_id, ts);

CREATE TABLE alarm_rules (
    rule_id       uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    line_id       uuid NOT NULL REFERENCES lines (line_id) ON DELETE CASCADE,
    tag           text NOT NULL,
    above         double precision,
    below         double precision,
    for_seconds   integer NOT NULL CHECK (for_seconds BETWEEN 0 AND 86400),
    severity      text NOT NULL CHECK (severity IN ('low', 'medium', 'high', 'critical')),
    title         text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    created_by    text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    breach_since  timestamptz,
    firing        boolean NOT NULL DEFAULT false,
    last_ts       timestamptz,
    CONSTRAINT alarm_rules_has_threshold CHECK (above IS NOT NULL OR below IS NOT NULL)
);
CREATE INDEX alarm_rules_by_line ON alarm_rules (line_id, tag);

CREATE TABLE ingest_deliveries (
    source_id    uuid NOT NULL REFERENCES ingest_sources (source_id) ON DELETE CASCADE,
    webhook_id   text NOT NULL,
    answer       jsonb NOT NULL,
    received_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (source_id, webhook_id)
);

CREATE TABLE line_live (
    line_id  uuid PRIMARY KEY REFERENCES lines (line_id) ON DELETE CASCADE,
    sent_at  timestamptz NOT NULL
);

ALTER TABLE rate_buckets DROP CONSTRAINT IF EXISTS rate_buckets_kind_check;
ALTER TABLE rate_buckets ADD CONSTRAINT rate_buckets_kind_check
    CHECK (kind IN ('send', 'write', 'ingest'));
"""

DOWNGRADE = r"""
DELETE FROM rate_buckets WHERE kind = 'ingest';
ALTER TABLE rate_buckets DROP CONSTRAINT IF EXISTS rate_buckets_kind_check;
ALTER TABLE rate_buckets ADD CONSTRAINT rate_buckets_kind_check CHECK (kind IN ('send', 'write'));
DROP TABLE IF EXISTS line_live;
DROP TABLE IF EXISTS ingest_deliveries;
DROP TABLE IF EXISTS alarm_rules;
DROP TABLE IF EXISTS readings;
DROP TABLE IF EXISTS ingest_sources;
"""


def upgrade() -> None:
    op.get_bind().exec_driver_sql(UPGRADE)


def downgrade() -> None:
    op.get_bind().exec_driver_sql(DOWNGRADE)
