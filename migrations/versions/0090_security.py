"""Per-user rate-limit buckets, and a membership version on each room.

Revision ID: 0090_security
Revises: 0004_connections_and_change_log
Create Date: 2026-12-01

Design notes
- `rate_buckets`: one token bucket per user and kind (`send`, `write`), read and
  updated by the write statements themselves (one round trip per write). The row is
  upserted on every attempt: `tokens` holds what was left after it, `refilled_at` when,
  and `consumed` whether the attempt took a token, so a refused attempt also learns the
  newest state (for `retry_after`) from the row it locked.
- `incident_rooms.membership_version` is bumped (by a trigger, whatever path changes
  room_members) whenever a member is added, re-roled or removed. A write that waited for
  the room row's lock compares it with the version it read its role under: a demotion
  that committed in between makes the write store nothing, and the logic runs it again
  against the new role (PostgreSQL re-checks a locked row's own columns, not the rest of
  the statement's snapshot).

Numbered 0090, apart from the schema's own line (0005, 0006, … by the core engineer):
a core migration may chain after this one or branch from 0004 beside it, since
`warroom.db.migrate` upgrades to every head.
"""

from alembic import op

revision = "0090_security"
down_revision = "0004_connections_and_change_log"
branch_labels = None
depends_on = None

UPGRADE = r"""
CREATE TABLE rate_buckets (
    user_id      text NOT NULL,
    kind         text NOT NULL CHECK (kind IN ('send', 'write')),
    tokens       double precision NOT NULL,
    refilled_at  timestamptz NOT NULL,
    consumed     boolean NOT NULL,
    PRIMARY KEY (user_id, kind)
);

ALTER TABLE incident_rooms ADD COLUMN membership_version bigint NOT NULL DEFAULT 0;

CREATE FUNCTION warroom_membership_changed() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
    UPDATE incident_rooms SET membership_version = membership_version + 1
    WHERE room_id = CASE WHEN TG_OP = 'DELETE' THEN OLD.room_id ELSE NEW.room_id END;
    RETURN NULL;
END
$fn$;

CREATE TRIGGER room_members_version
AFTER INSERT OR DELETE OR UPDATE OF role ON room_members
FOR EACH ROW EXECUTE FUNCTION warroom_membership_changed();
"""

DOWNGRADE = r"""
DROP TRIGGER IF EXISTS room_members_version ON room_members;
DROP FUNCTION IF EXISTS warroom_membership_changed();
ALTER TABLE incident_rooms DROP COLUMN IF EXISTS membership_version;
DROP TABLE IF EXISTS rate_buckets;
"""


def upgrade() -> None:
    op.get_bind().exec_driver_sql(UPGRADE)


def downgrade() -> None:
    op.get_bind().exec_driver_sql(DOWNGRADE)
