"""Alembic environment: the same connection rules as the application (psycopg 3, IAM
tokens when configured, the embedded server when DATABASE_URL is unset)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, pool

from warroom.db.connections import migration_connect

config = context.config


def run_migrations_online() -> None:
    url = config.attributes.get("database_url")
    engine = create_engine(
        "postgresql+psycopg://",
        creator=lambda: migration_connect(url),
        poolclass=pool.NullPool,
    )
    with engine.connect() as connection:
        context.configure(connection=connection, transaction_per_migration=True)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("offline SQL generation is not supported: run against a database")
run_migrations_online()
