"""A version of each room's membership, bumped by every role change and removal.

Revision ID: 0005_members_version
Revises: 0004_connections_and_change_log
Create Date: 2026-12-01

A write is one statement whose snapshot is taken when it starts; the room row's lock is
taken later, and PostgreSQL re-reads only the locked row, not `room_members`. A member
demoted (or removed) while their send waits for that lock would pass a role check read
from the older snapshot. Role changes and removals therefore bump
`incident_rooms.members_version` under the same lock, and every write requires the
version it read to still be the room's: a demotion in between makes the write find
nothing to do, and the service runs it again, now seeing the new role.
"""

from alembic import op

revision = "0005_members_version"
down_revision = "0004_connections_and_change_log"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.get_bind().exec_driver_sql(
        "ALTER TABLE incident_rooms ADD COLUMN members_version bigint NOT NULL DEFAULT 0"
    )


def downgrade() -> None:
    op.get_bind().exec_driver_sql("ALTER TABLE incident_rooms DROP COLUMN members_version")
