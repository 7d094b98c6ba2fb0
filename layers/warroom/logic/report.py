"""The incident report: a Markdown document a person can paste into a ticket or an 8D.

Times are in GMT+8 (Asia/Taipei has no daylight saving, so a fixed offset is exact and
needs no time-zone database on Lambda). User text is escaped where Markdown would
otherwise reinterpret it (table cells, headings); the client sanitizes the rendered HTML.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any
from uuid import UUID, uuid4

from warroom.dal import files as files_dal
from warroom.dal import messages as messages_dal
from warroom.dal import rooms as rooms_dal
from warroom.dal.messages import Conn
from warroom.db import Database, get_database
from warroom.logic.access import require_member, require_room
from warroom.logic.files import AttachmentStore
from warroom.logic.readings import readings_of
from warroom.models import Member, Message, MessageType, Room

GMT8 = timezone(timedelta(hours=8), "GMT+8")
_PAGE = 500
# One timeline entry shows at most this much of a message: the report is a summary that
# must fit a response whatever the room holds (the history has every word).
MAX_ENTRY_CHARS = 2000
# Over this the report is written to S3 and handed out by a short-lived link (Lambda
# answers at most 6 MB).
MAX_INLINE_BYTES = 5 * 1024 * 1024
REPORT_LINK_SECONDS = 300


def _time(value: datetime) -> str:
    return value.astimezone(GMT8).strftime("%Y-%m-%d %H:%M")


def _cell(value: Any) -> str:
    text = "" if value is None else str(value)
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\r", " ").replace("\n", " ")


def _inline(text: str) -> str:
    """One line of user text inside a list item: no headings, no raw HTML blocks."""
    if len(text) > MAX_ENTRY_CHARS:
        text = text[:MAX_ENTRY_CHARS] + "… (cut; the full text is in the history)"
    text = re.sub(r"\s*\n\s*", " ", text.strip())
    return text.replace("<", "&lt;").replace(">", "&gt;")


def _number(value: Any, unit: str = "") -> str:
    text = f"{value:g}" if isinstance(value, int | float) else str(value)
    return f"{text} {unit}".strip()


_USER_ID = re.compile(r"[^\s@]+@[^\s@]+\.[^\s@,;:]+")


def _named(text: str, names: dict[str, str]) -> str:
    """People by the names the app shows, not by their e-mail ids."""
    return _USER_ID.sub(lambda m: names.get(m.group(0).lower(), m.group(0)), text)


def _describe(message: Message, names: dict[str, str] | None = None) -> str:
    if message.deleted_at is not None:
        return "_(message deleted)_"
    if message.message_type is MessageType.INCIDENT_DATA and isinstance(message.content, dict):
        readings = readings_of(message.content)
        units = message.content.get("units", {})
        shown = ", ".join(f"{k} {_number(v, units.get(k, ''))}" for k, v in readings.items())
        machine = message.content.get("machine_id")
        return f"📈 readings{f' on {_inline(machine)}' if machine else ''}: {_inline(shown)}"
    if message.message_type in (MessageType.IMAGE_REF, MessageType.FILE_REF):
        name = message.file.filename if message.file else "attachment"
        caption = (
            f" — {_inline(message.content)}"
            if isinstance(message.content, str) and message.content
            else ""
        )
        return f"📎 {_inline(name)}{caption}"
    if message.message_type is MessageType.SYSTEM and isinstance(message.content, dict):
        return f"_{_inline(_named(str(message.content.get('text', '')), names or {}))}_"
    text = _inline(str(message.content or ""))
    return text + (" _(edited)_" if message.edited_at else "")


@dataclass(frozen=True)
class _Reading:
    """A readings-table row: kept instead of the message, so memory follows the report's
    size, not the room's."""

    at: datetime
    machine: Any
    values: dict[str, Any]
    units: dict[str, Any]
    by: str


def build_report(*, room_id: UUID, user_id: str, db: Database | None = None) -> str:
    """The room read 500 messages at a time; each message is rendered to its (bounded)
    timeline line as it is read and not kept."""

    def operation(conn: Conn) -> str:
        require_member(conn, room_id, user_id)
        room = require_room(rooms_dal.room(conn, room_id), room_id)
        members = rooms_dal.members(conn, room_id)
        names = {m.user_id.lower(): m.display_name for m in members}
        timeline: list[str] = []
        readings: list[_Reading] = []
        after = 0
        while True:
            page = messages_dal.page_after(
                conn,
                room_id=room_id,
                after_seq=after,
                limit=_PAGE,
                # read no more of a message than an entry shows (+1 to know it was cut)
                content_chars=MAX_ENTRY_CHARS + 1,
            ).messages
            for message in page:
                names.setdefault(message.sender_id.lower(), message.sender_display_name)
                timeline.append(
                    f"- **{_time(message.created_at)}** #{message.sequence_number} "
                    f"{_inline(message.sender_display_name)}: {_describe(message, names)}"
                )
                if (
                    message.message_type is MessageType.INCIDENT_DATA
                    and message.deleted_at is None
                    and isinstance(message.content, dict)
                ):
                    readings.append(
                        _Reading(
                            message.created_at,
                            message.content.get("machine_id", ""),
                            readings_of(message.content),
                            dict(message.content.get("units") or {}),
                            message.sender_display_name,
                        )
                    )
            if len(page) < _PAGE:
                break
            after = page[-1].sequence_number
        files = files_dal.of_room(conn, room_id)
        return _render(room, members, timeline, readings, files, names)

    return (db or get_database()).run(operation)


def _render(
    room: Room,
    members: list[Member],
    timeline: list[str],
    readings: list[_Reading],
    files: list[dict[str, Any]],
    names: dict[str, str] | None = None,
) -> str:
    known = names or {}

    def name(user_id: str) -> str:
        return known.get(str(user_id).lower(), str(user_id))

    lines = [
        f"# Incident report: {_inline(room.title)}",
        "",
        "| | |",
        "|---|---|",
        f"| Status | {_cell(room.status.value)} |",
        f"| Severity | {_cell(room.severity.value)} |",
        f"| Location | {_cell(room.location)} |",
        f"| Lots | {_cell(', '.join(room.lots) or '—')} |",
        f"| Opened | {_time(room.created_at)} GMT+8 by {_cell(name(room.created_by))} |",
        f"| Last activity | {_time(room.last_activity_at)} GMT+8 |",
        f"| Messages | {room.last_seq} |",
        "",
        "## Participants",
        "",
    ]
    lines += [
        f"- {_inline(m.display_name)} ({_inline(m.user_id)}) — {m.role.value}" for m in members
    ]
    lines += ["", "## Timeline (GMT+8)", "", *timeline]
    lines += ["", "## Machine readings", ""]
    if readings:
        fields = list(dict.fromkeys(f for r in readings for f in r.values))
        lines.append(
            "| Time (GMT+8) | Machine | " + " | ".join(_cell(f) for f in fields) + " | By |"
        )
        lines.append("|---" * (len(fields) + 3) + "|")
        for r in readings:
            cells = [
                _cell(_number(r.values[f], r.units.get(f, ""))) if f in r.values else ""
                for f in fields
            ]
            lines.append(
                f"| {_time(r.at)} | {_cell(r.machine)} | "
                + " | ".join(cells)
                + f" | {_cell(r.by)} |"
            )
    else:
        lines.append("_No readings were posted._")
    lines += ["", "## Attachments", ""]
    if files:
        lines += [
            f"- {_inline(f['filename'])} ({f['content_type']}, {f['size_bytes']:,} bytes) — "
            f"{_inline(name(f['uploaded_by']))}, {_time(f['created_at'])}"
            for f in files
        ]
    else:
        lines.append("_No attachments._")
    return "\n".join(lines) + "\n"


def publish_large_report(room_id: UUID, body: str, store: AttachmentStore) -> str:
    """A report too large for a response: written to the attachments bucket (the
    caller's `store`) under `reports/` and handed out as a 5-minute presigned link."""
    key = f"reports/{room_id}/{uuid4()}.md"
    store.put(key, body.encode(), content_type="text/markdown; charset=utf-8")
    return store.presigned_download(
        key, content_type="text/markdown", expires_in=REPORT_LINK_SECONDS
    )
