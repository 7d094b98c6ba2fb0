"""A version number on each message's reactions.

Revision ID: 0003_reaction_versions
Revises: 0002_statement_timeouts
Create Date: 2026-11-26

Reaction updates fan out from concurrent invocations and can reach a client out of
order; the version (bumped under the message's row lock with every change) lets a client
keep the newest totals and drop a stale frame.
"""

from alembic import op

revision = "0003_reaction_versions"
down_revision = "0002_statement_timeouts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.get_bind().exec_driver_sql(
        "ALTER TABLE messages ADD COLUMN reactions_version bigint NOT NULL DEFAULT 0"
    )


def downgrade() -> None:
    op.get_bind().exec_driver_sql("ALTER TABLE messages DROP COLUMN reactions_version")
