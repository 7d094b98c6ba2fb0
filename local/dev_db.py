"""`make dev` groundwork: start the database, apply migrations, load the demo room."""

from __future__ import annotations

import os

from local.demo import load_demo
from warroom.db import get_database
from warroom.db.migrate import upgrade


def prepare() -> None:
    upgrade(os.environ.get("DATABASE_URL") or None)
    loaded = load_demo(get_database())
    print("demo data loaded" if loaded else "demo data already present")


if __name__ == "__main__":
    prepare()
