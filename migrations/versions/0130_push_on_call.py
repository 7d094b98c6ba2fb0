"""Web Push subscriptions, on-call rotations per line, and pages (issue 19).

Revision ID: 0130_push_on_call
Revises: 0110_incident_record
Create Date: 2026-12-06

Design notes
- `push_subscriptions`: one row per device (its push service `endpoint` is unique; a
  device signed in by someone else moves to them). At most 10 per user: the data layer
  drops the oldest when an 11th arrives. A 404/410 from the push service deletes a row.
- `line_on_call`: the line's rotation (ordered user ids) and the escalation delay.
- `pages`: one escalation per incident room. `targets` is fixed when the incident opens
  (the rotation, then the line's owner); `step` is the index of the person paged last,
  `due_at` when the next one is paged unless someone takes the incident first
  (`taken_by`/`taken_at`). `due_at` NULL: nobody is left to page, or it was taken.
- Every page is a timeline entry of the new kind `page`.
"""

from alembic import op

revision = "0130_push_on_call"
down_revision = "0110_incident_record"
branch_labels = None
depends_on = None

UPGRADE = r"""
CREATE TABLE push_subscriptions (
    subscription_id  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id          text NOT NULL,
    endpoint         text NOT NULL UNIQUE CHECK (length(endpoint) <= 2048),
    p256dh           text NOT NULL CHECK (length(p256dh) <= 128),
    auth             text NOT NULL CHECK (length(auth) <= 64),
    created_at       timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX push_subscriptions_by_user ON push_subscriptions (user_id, created_at);

CREATE TABLE line_on_call (
    line_id                 uuid PRIMARY KEY REFERENCES lines (line_id) ON DELETE CASCADE,
    rotation                text[] NOT NULL,
    escalate_after_seconds  integer NOT NULL DEFAULT 300
        CHECK (escalate_after_seconds BETWEEN 1 AND 86400),
    updated_by              text NOT NULL,
    updated_at              timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE pages (
    room_id                 uuid PRIMARY KEY REFERENCES incident_rooms (room_id) ON DELETE CASCADE,
    line_id                 uuid NOT NULL REFERENCES lines (line_id),
    targets                 text[] NOT NULL,
    step                    integer NOT NULL DEFAULT 0,
    escalate_after_seconds  integer NOT NULL,
    due_at                  timestamptz,
    taken_by                text,
    taken_at                timestamptz,
    created_at              timestamptz NOT NULL DEFAULT now()
);

ALTER TABLE incident_timeline DROP CONSTRAINT incident_timeline_kind_check;
ALTER TABLE incident_timeline ADD CONSTRAINT incident_timeline_kind_check
    CHECK (kind IN ('milestone', 'severity', 'handover', 'pin', 'page'));
"""

DOWNGRADE = r"""
DELETE FROM incident_timeline WHERE kind = 'page';
ALTER TABLE incident_timeline DROP CONSTRAINT incident_timeline_kind_check;
ALTER TABLE incident_timeline ADD CONSTRAINT incident_timeline_kind_check
    CHECK (kind IN ('milestone', 'severity', 'handover', 'pin'));
DROP TABLE IF EXISTS pages;
DROP TABLE IF EXISTS line_on_call;
DROP TABLE IF EXISTS push_subscriptions;
"""


def upgrade() -> None:
    op.get_bind().exec_driver_sql(UPGRADE)


def downgrade() -> None:
    op.get_bind().exec_driver_sql(DOWNGRADE)
