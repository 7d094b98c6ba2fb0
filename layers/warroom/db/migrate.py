"""Apply the Alembic migrations (`make migrate`, the test fixtures, the deploy-time
custom resource). Alembic is a tool dependency, imported only here."""

from __future__ import annotations

import argparse
from pathlib import Path

from warroom.settings import tool_settings


def migrations_dir() -> Path:
    configured = tool_settings().migrations_dir
    if configured:
        return Path(configured)
    for base in (Path.cwd(), *Path(__file__).resolve().parents):
        candidate = base / "migrations"
        if (candidate / "env.py").exists():
            return candidate
    raise FileNotFoundError("cannot find the migrations folder; set WARROOM_MIGRATIONS_DIR")


def upgrade(database_url: str | None = None, revision: str = "heads") -> None:
    """Up to every head: the schema's own line (0002, 0003, …) and the security line
    (0090_*) may both branch from one revision while they are written in parallel."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    config.attributes["database_url"] = database_url
    command.upgrade(config, revision)


def main() -> None:
    parser = argparse.ArgumentParser(description="Apply database migrations")
    parser.add_argument("--revision", default="heads")
    args = parser.parse_args()
    upgrade(tool_settings().database_url, args.revision)
    print(f"migrations applied up to {args.revision}")


if __name__ == "__main__":
    main()
