"""The connection table, in PostgreSQL beside the messages: who is connected, to which
room, as whom. SQL in `warroom.dal.connections`; this is the store the WebSocket side and
the broadcaster use.

Rows: connection_id, user_id, display_name, room_id (NULL on a user connection),
connected_at, expires_at. A row is written by `$connect` (membership checked in the same
statement), deleted by `$disconnect`, by a 410 from `@connections` unless it is younger
than the registration grace (the post raced `$connect`), and by the sweep once expired.
"""

from __future__ import annotations

from uuid import UUID

from warroom.dal import connections as dal
from warroom.dal.connections import (
    CONNECTION_TTL_SECONDS,
    REGISTRATION_GRACE_SECONDS,
    ConnectionRow,
    Departure,
    Registration,
)
from warroom.db import Database, get_database
from warroom.lazy import Lazy

ConnectionRecord = ConnectionRow

__all__ = [
    "CONNECTION_TTL_SECONDS",
    "REGISTRATION_GRACE_SECONDS",
    "ConnectionRecord",
    "ConnectionStore",
    "Departure",
    "Registration",
    "connection_store",
    "set_connection_store",
]


class ConnectionStore:
    def __init__(self, db: Database | None = None) -> None:
        self._db = db

    @property
    def db(self) -> Database:
        return self._db if self._db is not None else get_database()

    def register_room(
        self, *, connection_id: str, user_id: str, display_name: str, room_id: UUID
    ) -> Registration:
        return self.db.run(
            lambda conn: dal.register_room_connection(
                conn,
                connection_id=connection_id,
                user_id=user_id,
                display_name=display_name,
                room_id=room_id,
            )
        )

    def register_user(self, *, connection_id: str, user_id: str, display_name: str) -> bool:
        return self.db.run(
            lambda conn: dal.register_user_connection(
                conn, connection_id=connection_id, user_id=user_id, display_name=display_name
            )
        )

    def get(self, connection_id: str) -> ConnectionRecord | None:
        return self.db.run(lambda conn: dal.get(conn, connection_id))

    def delete(self, connection_id: str) -> Departure | None:
        return self.db.run(lambda conn: dal.delete(conn, connection_id))

    def forget_gone(self, connection_id: str) -> bool:
        """A 410 Gone: delete the row unless it is within the registration grace."""
        return self.db.run(lambda conn: dal.delete_gone(conn, connection_id))

    def audience_of(self, room_id: UUID, speaker: str) -> list[ConnectionRecord] | None:
        """The room's connections, or None when the speaker is deactivated."""
        return self.db.run(lambda conn: dal.audience_of(conn, room_id=room_id, speaker=speaker))

    def in_room(self, room_id: str | UUID) -> list[ConnectionRecord]:
        room = room_id if isinstance(room_id, UUID) else UUID(str(room_id))
        return self.db.run(lambda conn: dal.in_room(conn, room))

    def sweep(self) -> int:
        return self.db.run(lambda conn: dal.sweep_expired(conn))


_store = Lazy(ConnectionStore)
connection_store = _store.get
set_connection_store = _store.set
