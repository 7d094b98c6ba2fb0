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
from warroom.logic.report_text import DEFAULT_LANGUAGE, Words
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


def _inline(text: str, words: Words | None = None) -> str:
    """One line of user text inside a list item: no headings, no raw HTML blocks."""
    if len(text) > MAX_ENTRY_CHARS:
        text = text[:MAX_ENTRY_CHARS] + (words or Words(DEFAULT_LANGUAGE))("cut")
    text = re.sub(r"\s*\n\s*", " ", text.strip())
    return text.replace("<", "&lt;").replace(">", "&gt;")


def _label(text: str) -> str:
    """User text inside a link's or an image's [label]: brackets would end it early."""
    return re.sub(r"([\[\]\\])", r"\\\1", _inline(text))


def _number(value: Any, unit: str = "") -> str:
    text = f"{value:g}" if isinstance(value, int | float) else str(value)
    return f"{text} {unit}".strip()


_USER_ID = re.compile(r"[^\s@]+@[^\s@]+\.[^\s@,;:]+")


def _named(text: str, names: dict[str, str]) -> str:
    """People by the names the app shows, not by their e-mail ids."""
    return _USER_ID.sub(lambda m: names.get(m.group(0).lower(), m.group(0)), text)


def file_path(room_id: UUID, file_id: UUID) -> str:
    """A room file's API path: the preview loads it as an image for a member, and the
    web client turns it into a link to the room's file when the report is saved."""
    return f"/api/rooms/{room_id}/files/{file_id}"


def _reading_name(name: str, words: Words) -> str:
    return words.optional(f"reading.{name}", name.replace("_", " "))


def _system_line(message: Message, names: dict[str, str], words: Words) -> str:
    content = message.content if isinstance(message.content, dict) else {}
    event = str(content.get("event", ""))

    def who(user_id: Any) -> str:
        return names.get(str(user_id).lower(), str(user_id))

    actor, member = who(message.sender_id), who(content.get("user_id", ""))
    role = words.optional(f"role.{content.get('role')}", str(content.get("role", "")))
    if event == "member_removed" and str(content.get("user_id", "")).lower() == (
        message.sender_id.lower()
    ):
        event = "member_left"
    if event == "room_status_changed":
        old, new = content.get("old_status"), content.get("status")
        text = words(
            "system.room_status_changed",
            actor=actor,
            **{
                "from": words.optional(f"status.{old}", str(old)),
                "to": words.optional(f"status.{new}", str(new)),
            },
        )
    elif event in ("member_added", "member_removed", "member_left"):
        text = words(f"system.{event}", actor=actor, member=member, role=role)
    else:
        text = _named(str(content.get("text", "")), names)
    return f"_{_inline(text, words)}_"


def _describe(message: Message, names: dict[str, str], words: Words) -> str:
    if message.deleted_at is not None:
        return f"_{words('deleted')}_"
    if message.message_type is MessageType.INCIDENT_DATA and isinstance(message.content, dict):
        readings = readings_of(message.content)
        units = message.content.get("units") or {}
        shown = ", ".join(
            f"{_reading_name(k, words)} {_number(v, units.get(k, ''))}" for k, v in readings.items()
        )
        where = " · ".join(
            str(message.content[k]) for k in ("machine_id", "line") if message.content.get(k)
        )
        head = words("readings_on", machine=where) if where else words("readings_entry")
        note = message.content.get("note")
        return f"📈 {_inline(head, words)}: {_inline(shown, words)}" + (
            f" — {_inline(str(note), words)}" if note else ""
        )
    if message.message_type in (MessageType.IMAGE_REF, MessageType.FILE_REF):
        name = message.file.filename if message.file else words("attachment")
        caption = (
            f" — {_inline(message.content, words)}"
            if isinstance(message.content, str) and message.content
            else ""
        )
        if message.file is None:
            return f"📎 {_inline(name, words)}{caption}"
        path = file_path(message.room_id, message.file.file_id)
        if message.message_type is MessageType.IMAGE_REF:
            # an image, shown in the preview; its own line so Markdown renders it
            return f"📷 {_label(name)}{caption}\n\n  ![{_label(name)}]({path})\n"
        return f"📎 [{_label(name)}]({path}){caption}"
    if message.message_type is MessageType.SYSTEM:
        return _system_line(message, names, words)
    text = _inline(str(message.content or ""), words)
    return text + (f" _{words('edited')}_" if message.edited_at else "")


@dataclass(frozen=True)
class _Reading:
    """A readings-table row: kept instead of the message, so memory follows the report's
    size, not the room's."""

    at: datetime
    machine: Any
    line: Any
    values: dict[str, Any]
    units: dict[str, Any]
    note: Any
    by: str


def build_report(
    *, room_id: UUID, user_id: str, language: str = DEFAULT_LANGUAGE, db: Database | None = None
) -> str:
    """The room read 500 messages at a time; each message is rendered to its (bounded)
    timeline line as it is read and not kept. In the reader's language (report_text)."""
    words = Words(language)

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
                    f"{_inline(message.sender_display_name)}: {_describe(message, names, words)}"
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
                            message.content.get("line", ""),
                            readings_of(message.content),
                            dict(message.content.get("units") or {}),
                            message.content.get("note", ""),
                            message.sender_display_name,
                        )
                    )
            if len(page) < _PAGE:
                break
            after = page[-1].sequence_number
        files = files_dal.of_room(conn, room_id)
        return _render(room, members, timeline, readings, files, names, words)

    return (db or get_database()).run(operation)


def _render(
    room: Room,
    members: list[Member],
    timeline: list[str],
    readings: list[_Reading],
    files: list[dict[str, Any]],
    names: dict[str, str] | None = None,
    words: Words | None = None,
) -> str:
    known = names or {}
    w = words or Words(DEFAULT_LANGUAGE)

    def name(user_id: str) -> str:
        return known.get(str(user_id).lower(), str(user_id))

    status = w.optional(f"status.{room.status.value}", room.status.value)
    severity = w.optional(f"severity.{room.severity.value}", room.severity.value)
    opened = w("opened_by", time=_time(room.created_at), name=_cell(name(room.created_by)))
    lines = [
        f"# {w('title', title=_inline(room.title))}",
        "",
        "| | |",
        "|---|---|",
        f"| {w('status')} | {_cell(status)} |",
        f"| {w('severity')} | {_cell(severity)} |",
        f"| {w('location')} | {_cell(room.location)} |",
        f"| {w('lots')} | {_cell(', '.join(room.lots) or '—')} |",
        f"| {w('opened')} | {opened} |",
        f"| {w('last_activity')} | {_time(room.last_activity_at)} GMT+8 |",
        f"| {w('messages')} | {room.last_seq} |",
        "",
        f"## {w('participants')}",
        "",
    ]
    lines += [
        f"- {_inline(m.display_name)} ({_inline(m.user_id)}) — "
        f"{w.optional(f'role.{m.role.value}', m.role.value)}"
        for m in members
    ]
    lines += ["", f"## {w('timeline')}", "", *timeline]
    lines += ["", f"## {w('readings')}", ""]
    if readings:
        fields = list(dict.fromkeys(f for r in readings for f in r.values))
        lines.append(
            f"| {w('time')} | {w('machine')} | {w('line')} | "
            + " | ".join(_cell(_reading_name(f, w)) for f in fields)
            + f" | {w('note')} | {w('by')} |"
        )
        lines.append("|---" * (len(fields) + 5) + "|")
        for r in readings:
            cells = [
                _cell(_number(r.values[f], r.units.get(f, ""))) if f in r.values else ""
                for f in fields
            ]
            lines.append(
                f"| {_time(r.at)} | {_cell(r.machine)} | {_cell(r.line)} | "
                + " | ".join(cells)
                + f" | {_cell(_inline(str(r.note or ''), w))} | {_cell(r.by)} |"
            )
    else:
        lines.append(f"_{w('no_readings')}_")
    lines += ["", f"## {w('attachments')}", ""]
    if files:
        lines += [
            f"- [{_label(f['filename'])}]({file_path(room.room_id, f['file_id'])}) "
            f"({f['content_type']}, {w('bytes', size=format(f['size_bytes'], ','))}) — "
            f"{_inline(name(f['uploaded_by']))}, {_time(f['created_at'])}"
            for f in files
        ]
    else:
        lines.append(f"_{w('no_attachments')}_")
    return "\n".join(lines) + "\n"


def publish_large_report(room_id: UUID, body: str, store: AttachmentStore) -> str:
    """A report too large for a response: written to the attachments bucket (the
    caller's `store`) under `reports/` and handed out as a 5-minute presigned link."""
    key = f"reports/{room_id}/{uuid4()}.md"
    store.put(key, body.encode(), content_type="text/markdown; charset=utf-8")
    return store.presigned_download(
        key, content_type="text/markdown", expires_in=REPORT_LINK_SECONDS
    )
