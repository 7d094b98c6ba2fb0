"""Statement and idle-transaction timeouts set on the database, not per session.

Revision ID: 0002_statement_timeouts
Revises: 0001_core_schema
Create Date: 2026-11-26

A session `SET statement_timeout` would pin every client connection to one backend in
RDS Proxy. Setting the defaults on the database applies them to every new session with
no session state, and DB_STATEMENT_TIMEOUT_MS stays the single knob.
"""

import os

from alembic import op

revision = "0002_statement_timeouts"
down_revision = "0001_core_schema"
branch_labels = None
depends_on = None


def _alter(setting: str, value: str | None) -> str:
    target = "RESET " + setting if value is None else f"SET {setting} = ''{value}''"
    return (
        "DO $fn$ BEGIN EXECUTE 'ALTER DATABASE ' || quote_ident(current_database()) || "
        f"' {target}'; END $fn$;"
    )


def upgrade() -> None:
    timeout_ms = int(os.environ.get("DB_STATEMENT_TIMEOUT_MS", "5000"))
    bind = op.get_bind()
    bind.exec_driver_sql(_alter("statement_timeout", f"{timeout_ms}ms"))
    bind.exec_driver_sql(_alter("idle_in_transaction_session_timeout", "60s"))


def downgrade() -> None:
    bind = op.get_bind()
    bind.exec_driver_sql(_alter("statement_timeout", None))
    bind.exec_driver_sql(_alter("idle_in_transaction_session_timeout", None))
