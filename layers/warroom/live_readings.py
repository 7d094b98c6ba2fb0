"""The live chart (issue 18): after a batch is stored, the rooms of the line's open
incidents get one `readings` frame with the batch's latest value of each machine's tag,
at most once a second per line across every container (the slot is a row in
`line_live`).

The frame carries the batch's own values, not a read of the table: the latest value per
tag over a line's recent rows would scan every row of the last minutes on each frame. A
batch that finds the slot taken sends nothing; its points are stored and charted by the
next read, and the next frame carries the then-newest values. At most MAX_POINTS points
go in a frame, newest first, so it stays far below the 128 KB message limit."""

from __future__ import annotations

from uuid import UUID

from warroom import frames
from warroom.dal import ingest as dal
from warroom.db import Database, get_database
from warroom.fanout import Broadcaster, FanoutReport
from warroom.ingest_models import ReadingPoint
from warroom.models import iso_z

INTERVAL_SECONDS = 1.0
MAX_POINTS = 400


def publish_latest(
    line_id: UUID,
    latest: list[ReadingPoint],
    *,
    broadcaster: Broadcaster | None = None,
    db: Database | None = None,
) -> FanoutReport:
    database = db if db is not None else get_database()

    def operation(conn: dal.Conn) -> list[str] | None:
        with conn.transaction():
            if not dal.claim_live_slot(conn, line_id=line_id, interval_seconds=INTERVAL_SECONDS):
                return None
            return dal.live_connections_of_line(conn, line_id)

    connections = database.run(operation)
    if not connections:
        return FanoutReport()
    if broadcaster is None:
        from warroom.fanout import broadcaster as shared

        broadcaster = shared()
    newest = sorted(latest, key=lambda r: r.ts, reverse=True)[:MAX_POINTS]
    points = [
        {"machine_id": p.machine_id, "tag": p.tag, "ts": iso_z(p.ts), "value": p.value,
         "unit": p.unit, "quality": p.quality, "origin": "machine"}
        for p in newest
    ]  # fmt: skip
    return broadcaster.to_connections(connections, frames.readings_frame(str(line_id), points))
