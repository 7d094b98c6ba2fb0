"""The incident record: production lines, lifecycle states, the commander, the timeline
(milestones, severity changes, handovers, pins), production impact and follow-ups.

Revision ID: 0110_incident_record
Revises: 0100_presence_grace
Create Date: 2026-12-06

Design notes
- `lines`: a plant's production lines, each with bilingual labels and its own list of
  stop reasons (`[{"code", "zh-TW", "en"}]`), editable by the line's owner.
- `incident_rooms.state` is the lifecycle (`declared → acknowledged → contained →
  resolved → closed`, reopened to `acknowledged`); `status` stays as it was and is kept
  in step by the same UPDATE (declared/acknowledged/contained → active, resolved →
  resolved, closed → archived), so every existing check of `status` still holds.
- `commander_id` is never NULL: the creator by default, changed only by a handover.
- `incident_timeline` holds milestones, severity changes, handovers and pins. Each entry
  names the numbered system message that announced it (`system_message_id`), so the
  change reaches live clients and resumes through the change log like any message.
  `event_time` is when it happened (a pin may backfill it), `recorded_at` when it was
  written. One pin per message (partial unique index).
- Downtime defaults to declared → resolved; `downtime_start`/`downtime_end` override.
- `follow_ups`: the corrective actions; overdue = open and past `due`.
"""

from alembic import op

revision = "0110_incident_record"
down_revision = "0100_presence_grace"
branch_labels = None
depends_on = None

UPGRADE = r"""
CREATE TABLE lines (
    line_id       uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name          text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    location      text NOT NULL DEFAULT '' CHECK (length(location) <= 200),
    owner_id      text NOT NULL,
    label_zh      text NOT NULL DEFAULT '' CHECK (length(label_zh) <= 100),
    label_en      text NOT NULL DEFAULT '' CHECK (length(label_en) <= 100),
    stop_reasons  jsonb NOT NULL DEFAULT '[]',
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);

ALTER TABLE incident_rooms
    ADD COLUMN line_id uuid REFERENCES lines (line_id),
    ADD COLUMN state text NOT NULL DEFAULT 'declared'
        CHECK (state IN ('declared', 'acknowledged', 'contained', 'resolved', 'closed')),
    ADD COLUMN commander_id text,
    ADD COLUMN machine text NOT NULL DEFAULT '' CHECK (length(machine) <= 100),
    ADD COLUMN stop_reason text NOT NULL DEFAULT '' CHECK (length(stop_reason) <= 100),
    ADD COLUMN downtime_start timestamptz,
    ADD COLUMN downtime_end timestamptz;
UPDATE incident_rooms SET commander_id = created_by,
       state = CASE status WHEN 'resolved' THEN 'resolved' WHEN 'archived' THEN 'closed'
                           ELSE 'declared' END;
ALTER TABLE incident_rooms ALTER COLUMN commander_id SET NOT NULL;
CREATE INDEX incident_rooms_by_line ON incident_rooms (line_id, created_at) WHERE line_id IS NOT NULL;

CREATE TABLE incident_timeline (
    entry_id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    room_id            uuid NOT NULL REFERENCES incident_rooms (room_id) ON DELETE CASCADE,
    kind               text NOT NULL CHECK (kind IN ('milestone', 'severity', 'handover', 'pin')),
    event_time         timestamptz NOT NULL,
    recorded_at        timestamptz NOT NULL DEFAULT clock_timestamp(),
    by_user            text NOT NULL,
    message_id         uuid REFERENCES messages (message_id) ON DELETE CASCADE,
    system_message_id  uuid REFERENCES messages (message_id) ON DELETE SET NULL,
    data               jsonb NOT NULL DEFAULT '{}',
    CONSTRAINT incident_timeline_pin_has_message CHECK ((kind = 'pin') = (message_id IS NOT NULL))
);
CREATE INDEX incident_timeline_by_room ON incident_timeline (room_id, event_time);
CREATE UNIQUE INDEX incident_timeline_one_pin ON incident_timeline (room_id, message_id)
    WHERE kind = 'pin';
-- Every room so far was declared when it was created.
INSERT INTO incident_timeline (room_id, kind, event_time, recorded_at, by_user, data)
SELECT room_id, 'milestone', created_at, created_at, created_by,
       jsonb_build_object('state', 'declared', 'from_state', NULL)
FROM incident_rooms;

CREATE TABLE follow_ups (
    follow_up_id  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    room_id       uuid NOT NULL REFERENCES incident_rooms (room_id) ON DELETE CASCADE,
    title         text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    owner_id      text NOT NULL,
    due           date NOT NULL,
    status        text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'done', 'cancelled')),
    created_by    text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX follow_ups_by_room ON follow_ups (room_id, due);
"""

DOWNGRADE = r"""
DROP TABLE IF EXISTS follow_ups;
DROP TABLE IF EXISTS incident_timeline;
ALTER TABLE incident_rooms
    DROP COLUMN IF EXISTS line_id,
    DROP COLUMN IF EXISTS state,
    DROP COLUMN IF EXISTS commander_id,
    DROP COLUMN IF EXISTS machine,
    DROP COLUMN IF EXISTS stop_reason,
    DROP COLUMN IF EXISTS downtime_start,
    DROP COLUMN IF EXISTS downtime_end;
DROP TABLE IF EXISTS lines;
"""


def upgrade() -> None:
    op.get_bind().exec_driver_sql(UPGRADE)


def downgrade() -> None:
    op.get_bind().exec_driver_sql(DOWNGRADE)
