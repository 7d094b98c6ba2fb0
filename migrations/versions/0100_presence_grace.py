"""A departure is announced only after a grace period.

Revision ID: 0100_presence_grace
Revises: 0100_reading_search
Create Date: 2026-12-06

Design notes
- `presence_changes.due_at`: when a pending change may be announced. A join is due at
  once; a departure `PRESENCE_LEAVE_GRACE_MS` (30 s) later, and a join by the same
  person before then deletes it (layers/warroom/dal/presence.py). Stored per row, so
  whichever process flushes the room needs no setting of its own.
"""

from alembic import op

revision = "0100_presence_grace"
down_revision = "0100_reading_search"
branch_labels = None
depends_on = None

UPGRADE = r"""
ALTER TABLE presence_changes ADD COLUMN due_at timestamptz NOT NULL DEFAULT clock_timestamp();
CREATE INDEX presence_changes_due ON presence_changes (due_at);
"""

DOWNGRADE = r"""
DROP INDEX IF EXISTS presence_changes_due;
ALTER TABLE presence_changes DROP COLUMN due_at;
"""


def upgrade() -> None:
    op.get_bind().exec_driver_sql(UPGRADE)


def downgrade() -> None:
    op.get_bind().exec_driver_sql(DOWNGRADE)
