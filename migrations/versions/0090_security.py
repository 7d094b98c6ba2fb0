"""Per-user rate-limit buckets.

Revision ID: 0090_security
Revises: 0005_members_version
Create Date: 2026-12-01

Design notes
- `rate_buckets`: one token bucket per user and kind (`send`, `write`), read and
  updated by the write statements themselves (one round trip per write). The row is
  upserted on every attempt: `tokens` holds what was left after it, `refilled_at` when,
  and `consumed` whether the attempt took a token, so a refused attempt also learns the
  newest state (for `retry_after`) from the row it locked.

Numbered 0090, apart from the schema's own line (0002, 0003, … by the core engineer);
it follows 0005 here, and `warroom.db.migrate` upgrades to every head, so a core
migration that branches beside it still applies.
"""

from alembic import op

revision = "0090_security"
down_revision = "0005_members_version"
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
"""

DOWNGRADE = r"""
DROP TABLE IF EXISTS rate_buckets;
"""


def upgrade() -> None:
    op.get_bind().exec_driver_sql(UPGRADE)


def downgrade() -> None:
    op.get_bind().exec_driver_sql(DOWNGRADE)
