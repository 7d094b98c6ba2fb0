"""PostgreSQL round trips per write: a send, an edit, a reaction added and removed, and a
delete, each counted from libpq's protocol trace (one `Sync` of the extended protocol or
one simple `Query` sent by us is one round trip), the way
tests/integration/test_delivery_contract.py asserts it through the handlers.

Run: `make bench` (or `.venv/bin/python -m bench.round_trips`).
"""

from __future__ import annotations

import re
import tempfile
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from bench.common import scratch_database
from bench.message_service import _setup_room
from warroom.db import PooledDatabase
from warroom.logic import messages
from warroom.models import MessageDraft
from warroom.settings import DatabaseSettings

T = TypeVar("T")
ROUND_TRIP = re.compile(r"\tF\t\d+\t(?:Sync|Query)\b")


class TracedDatabase:
    """A database whose borrowed connections write libpq's protocol trace to a file."""

    def __init__(self, inner: PooledDatabase, path: Path) -> None:
        self.inner, self.path = inner, path

    def run(self, operation: Callable[[Any], T]) -> T:
        def traced(conn: Any) -> T:
            with self.path.open("a") as out:
                conn.pgconn.trace(out.fileno())
                try:
                    return operation(conn)
                finally:
                    conn.pgconn.untrace()

        return self.inner.run(traced)

    def take_round_trips(self) -> int:
        text = self.path.read_text() if self.path.exists() else ""
        self.path.write_text("")
        return len(ROUND_TRIP.findall(text))


def run() -> list[tuple[str, int]]:
    counts: list[tuple[str, int]] = []
    with scratch_database("warroom_bench_trips") as url, tempfile.TemporaryDirectory() as tmp:
        plain = PooledDatabase(DatabaseSettings(pool_size=2, max_overflow=0), conninfo=url)
        try:
            room, (sender, *_) = _setup_room(plain, 3)
            db = TracedDatabase(plain, Path(tmp) / "trace.log")
            draft = MessageDraft(client_msg_id=uuid.uuid4(), content="reading 19 °C")
            sent = messages.send_message(room_id=room.room_id, sender_id=sender, draft=draft, db=db)  # type: ignore[arg-type]
            counts.append(("send", db.take_round_trips()))
            message_id = sent.message.message_id
            steps: list[tuple[str, Callable[[], Any]]] = [
                ("edit", lambda: messages.edit_message(message_id=message_id, user_id=sender, content="reading 91 °C", db=db)),  # type: ignore[arg-type]
                ("add reaction", lambda: messages.add_reaction(message_id=message_id, user_id=sender, emoji="👍", db=db)),  # type: ignore[arg-type]
                ("remove reaction", lambda: messages.remove_reaction(message_id=message_id, user_id=sender, emoji="👍", db=db)),  # type: ignore[arg-type]
                ("delete", lambda: messages.delete_message(message_id=message_id, user_id=sender, db=db)),  # type: ignore[arg-type]
            ]  # fmt: skip
            for name, step in steps:
                step()
                counts.append((name, db.take_round_trips()))
        finally:
            plain.close()
    return counts


def main() -> None:
    print("== PostgreSQL round trips per write (libpq protocol trace) ==")
    counts = run()
    print("  " + ", ".join(f"{name} {n}" for name, n in counts))
    verdict = "met" if all(n == 1 for _, n in counts) else "MISSED"
    print(f"  one round trip per write, recipients included: {verdict}")


if __name__ == "__main__":
    main()
