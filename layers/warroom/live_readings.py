"""The live chart (issue 18): after a batch is stored, the rooms of the line's open
incidents get one `readings` frame carrying each machine's tag's latest value, at most
once a second per line across every container (the slot is a row in `line_live`). A
batch inside the second sends nothing: the next batch's frame carries its values, since
each frame reads the latest values when it is sent, not the batch."""

from __future__ import annotations

from uuid import UUID

from warroom import frames
from warroom.dal import ingest as dal
from warroom.db import Database, get_database
from warroom.fanout import Broadcaster, FanoutReport

INTERVAL_SECONDS = 1.0


def publish_latest(
    line_id: UUID, *, broadcaster: Broadcaster | None = None, db: Database | None = None
) -> FanoutReport:
    database = db if db is not None else get_database()

    def operation(conn: dal.Conn) -> tuple[list[str], list[dict[str, object]]] | None:
        with conn.transaction():
            if not dal.claim_live_slot(conn, line_id=line_id, interval_seconds=INTERVAL_SECONDS):
                return None
            connections = dal.live_connections_of_line(conn, line_id)
            if not connections:
                return None
            latest = dal.latest_readings(conn, line_id=line_id)
        return connections, [r.model_dump(mode="json", exclude_none=True) for r in latest]

    found = database.run(operation)
    if found is None:
        return FanoutReport()
    if broadcaster is None:
        from warroom.fanout import broadcaster as shared

        broadcaster = shared()
    connections, points = found
    return broadcaster.to_connections(connections, frames.readings_frame(str(line_id), points))
