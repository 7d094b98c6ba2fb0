"""The 8D report of an incident, in Traditional Chinese or English: the record gathered
once (`gather`), then written as Markdown here or as a PDF by `warroom.report_pdf`.

Where each discipline comes from:
- D1 team: the members with their roles, the commander marked.
- D2 problem: line, machine, stop reason, severity, downtime, and the readings summarised
  (count, min, max, last per reading; charted in the PDF).
- D3 containment: lots on hold and the containment milestone (its time and note).
- D4 root cause: the pinned messages (the evidence the team curated) and the note of the
  move to resolved.
- D5/D6 corrective actions: the follow-ups, overdue ones flagged.
- D7 prevention: the follow-ups done, and the closing note.
- D8 closure: the closing milestone, the response metrics and the whole timeline.
Times are GMT+8, as in the timeline report.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal
from uuid import UUID

from warroom.dal import files as files_dal
from warroom.dal import incident as incident_dal
from warroom.dal import messages as messages_dal
from warroom.dal import rooms as rooms_dal
from warroom.dal.messages import Conn
from warroom.db import Database, get_database
from warroom.logic.access import require_member, require_room
from warroom.logic.readings import readings_of
from warroom.logic.report import GMT8, MAX_ENTRY_CHARS, _cell, _inline
from warroom.models import (
    FollowUp,
    FollowUpStatus,
    Line,
    Member,
    MessageType,
    Room,
    RoomMetrics,
    TimelineEntry,
)

Lang = Literal["zh-TW", "en"]
_PAGE = 500

TEXT: dict[str, dict[str, str]] = {
    "en": {
        "title": "8D report",
        "d1": "D1 Team",
        "d2": "D2 Problem description",
        "d3": "D3 Containment",
        "d4": "D4 Root cause",
        "d56": "D5/D6 Corrective actions",
        "d7": "D7 Prevention",
        "d8": "D8 Closure",
        "line": "Line",
        "machine": "Machine",
        "stop_reason": "Stop reason",
        "severity": "Severity",
        "state": "State",
        "downtime": "Downtime",
        "minutes": "min",
        "declared": "Declared",
        "readings": "Readings",
        "no_readings": "No readings were posted.",
        "lots": "Lots on hold",
        "none": "none",
        "contained_at": "Contained",
        "not_contained": "Not contained yet.",
        "pinned": "Pinned evidence",
        "photos": "Pinned photos",
        "resolution_note": "Resolution note",
        "no_actions": "No follow-ups.",
        "overdue": "OVERDUE",
        "owner": "owner",
        "due": "due",
        "done_actions": "Actions done",
        "closing_note": "Closing note",
        "closed_at": "Closed",
        "not_closed": "Not closed yet.",
        "tta": "Time to acknowledge",
        "ttc": "Time to contain",
        "ttr": "Time to resolve",
        "timeline": "Timeline (GMT+8)",
        "commander": "commander",
        "count": "count",
        "min": "min",
        "max": "max",
        "last": "last",
        "milestone": "moved to",
        "severity_change": "severity",
        "handover": "command handed to",
        "pin": "pinned",
        "open": "open",
        "done": "done",
        "cancelled": "cancelled",
        "declared_state": "declared",
        "acknowledged": "acknowledged",
        "contained": "contained",
        "resolved": "resolved",
        "closed": "closed",
    },
    "zh-TW": {
        "title": "8D 報告",
        "d1": "D1 團隊",
        "d2": "D2 問題描述",
        "d3": "D3 圍堵措施",
        "d4": "D4 根本原因",
        "d56": "D5/D6 矯正措施",
        "d7": "D7 預防再發",
        "d8": "D8 結案",
        "line": "產線",
        "machine": "機台",
        "stop_reason": "停機原因",
        "severity": "嚴重度",
        "state": "狀態",
        "downtime": "停機時間",
        "minutes": "分鐘",
        "declared": "通報時間",
        "readings": "量測數據",
        "no_readings": "沒有量測數據。",
        "lots": "暫停批號",
        "none": "無",
        "contained_at": "圍堵完成",
        "not_contained": "尚未圍堵。",
        "pinned": "釘選的證據",
        "photos": "釘選的照片",
        "resolution_note": "解決說明",
        "no_actions": "沒有後續行動。",
        "overdue": "逾期",
        "owner": "負責人",
        "due": "期限",
        "done_actions": "已完成的行動",
        "closing_note": "結案說明",
        "closed_at": "結案時間",
        "not_closed": "尚未結案。",
        "tta": "確認時間",
        "ttc": "圍堵時間",
        "ttr": "解決時間",
        "timeline": "時間軸（GMT+8）",
        "commander": "指揮官",
        "count": "筆數",
        "min": "最小",
        "max": "最大",
        "last": "最新",
        "milestone": "狀態改為",
        "severity_change": "嚴重度",
        "handover": "指揮權交給",
        "pin": "釘選",
        "open": "進行中",
        "done": "已完成",
        "cancelled": "已取消",
        "declared_state": "已通報",
        "acknowledged": "已確認",
        "contained": "已圍堵",
        "resolved": "已解決",
        "closed": "已結案",
    },
}


@dataclass(frozen=True)
class Photo:
    file_id: UUID
    object_key: str
    filename: str
    content_type: str
    size_bytes: int
    event_time: datetime
    caption: str


@dataclass
class EightD:
    room: Room
    line: Line | None
    members: list[Member]
    timeline: list[TimelineEntry]
    follow_ups: list[FollowUp]
    metrics: RoomMetrics
    # reading name -> [(time, value)], in the order posted; and each reading's unit
    readings: dict[str, list[tuple[datetime, float]]] = field(default_factory=dict)
    units: dict[str, str] = field(default_factory=dict)
    photos: list[Photo] = field(default_factory=list)

    def name(self, user_id: str) -> str:
        for m in self.members:
            if m.user_id == user_id:
                return m.display_name
        return user_id

    def milestone(self, state: str) -> TimelineEntry | None:
        found = [e for e in self.timeline if e.kind == "milestone" and e.state == state]
        return found[-1] if found else None


def gather(*, room_id: UUID, user_id: str, db: Database | None = None) -> EightD:
    def operation(conn: Conn) -> EightD:
        require_member(conn, room_id, user_id)
        room = require_room(rooms_dal.room(conn, room_id), room_id)
        report = EightD(
            room=room,
            line=incident_dal.line(conn, room.line_id) if room.line_id else None,
            members=rooms_dal.members(conn, room_id),
            timeline=incident_dal.timeline(conn, room_id=room_id),
            follow_ups=incident_dal.follow_ups(conn, room_id=room_id),
            metrics=incident_dal.room_metrics(conn, room_id=room_id),
        )
        after = 0
        while True:
            page = messages_dal.page_after(
                conn, room_id=room_id, after_seq=after, limit=_PAGE, content_chars=1
            ).messages
            for message in page:
                if (
                    message.message_type is MessageType.INCIDENT_DATA
                    and message.deleted_at is None
                    and isinstance(message.content, dict)
                ):
                    units = message.content.get("units") or {}
                    for key, value in readings_of(message.content).items():
                        report.readings.setdefault(key, []).append(
                            (message.created_at, float(value))
                        )
                        if key in units:
                            report.units[key] = str(units[key])
            if len(page) < _PAGE:
                break
            after = page[-1].sequence_number
        stored = {row["file_id"]: row for row in files_dal.of_room(conn, room_id)}
        for entry in report.timeline:
            pinned = entry.message
            if (
                entry.kind == "pin"
                and pinned is not None
                and pinned.message_type is MessageType.IMAGE_REF
                and pinned.file_id in stored
            ):
                row = stored[pinned.file_id]
                report.photos.append(
                    Photo(
                        file_id=row["file_id"],
                        object_key=row["object_key"],
                        filename=row["filename"],
                        content_type=row["content_type"],
                        size_bytes=row["size_bytes"],
                        event_time=entry.event_time,
                        caption=pinned.content if isinstance(pinned.content, str) else "",
                    )
                )
        return report

    return (db or get_database()).run(operation)


def _time(value: datetime | None) -> str:
    return "—" if value is None else value.astimezone(GMT8).strftime("%Y-%m-%d %H:%M")


def _duration(seconds: float | None, t: dict[str, str]) -> str:
    if seconds is None:
        return "—"
    return f"{seconds / 60:.1f} {t['minutes']}"


def downtime_text(report: EightD, t: dict[str, str]) -> str:
    minutes = report.metrics.downtime_minutes
    return "—" if minutes is None else f"{minutes:.1f} {t['minutes']}"


def stop_reason_label(report: EightD, lang: Lang) -> str:
    code = report.room.stop_reason
    if report.line is not None:
        for reason in report.line.stop_reasons:
            if reason.get("code") == code:
                return reason.get(lang, code)
    return code


def line_label(report: EightD, lang: Lang) -> str:
    if report.line is None:
        return TEXT[lang]["none"]
    label = report.line.label_zh if lang == "zh-TW" else report.line.label_en
    return label or report.line.name


def state_label(state: str | None, t: dict[str, str]) -> str:
    if state is None:
        return ""
    return t["declared_state"] if state == "declared" else t.get(state, state)


def entry_text(report: EightD, entry: TimelineEntry, lang: Lang) -> str:
    """One timeline entry as a line of text in the reader's language."""
    t = TEXT[lang]
    who = report.name(entry.by)
    if entry.kind == "milestone":
        text = f"{who} {t['milestone']} {state_label(entry.state, t)}"
        return text + (f": {entry.note}" if entry.note else "")
    if entry.kind == "severity":
        return f"{who} {t['severity_change']} {entry.from_severity} → {entry.severity}"
    if entry.kind == "handover":
        return f"{who} {t['handover']} {report.name(entry.commander_id or '')}"
    message = entry.message
    content = ""
    if message is not None:
        if isinstance(message.content, dict):
            readings = readings_of(message.content)
            content = ", ".join(f"{k} {v:g}" for k, v in readings.items())
        elif message.file is not None:
            content = f"📎 {message.file.filename} {message.content or ''}".strip()
        else:
            content = str(message.content or "")
    if len(content) > MAX_ENTRY_CHARS:
        content = content[:MAX_ENTRY_CHARS] + "…"
    return f"{who} {t['pin']}: {content}"


def reading_summary(values: list[tuple[datetime, float]]) -> tuple[int, float, float, float]:
    numbers = [v for _, v in values]
    return len(numbers), min(numbers), max(numbers), numbers[-1]


def follow_up_text(report: EightD, item: FollowUp, t: dict[str, str]) -> str:
    flag = f" **{t['overdue']}**" if item.overdue else ""
    return (
        f"{_inline(item.title)} — {t['owner']} {_inline(report.name(item.owner_id))}, "
        f"{t['due']} {item.due.isoformat()}, {t[item.status.value]}{flag}"
    )


def render_markdown(report: EightD, lang: Lang) -> str:
    t = TEXT[lang]
    room = report.room
    commander = report.name(room.commander_id)
    out: list[str] = [f"# {t['title']}: {_inline(room.title)}", ""]
    out += [f"## {t['d1']}", ""]
    for m in report.members:
        mark = f" ({t['commander']})" if m.user_id == room.commander_id else ""
        out.append(f"- {_inline(m.display_name)} ({_inline(m.user_id)}) — {m.role.value}{mark}")
    out += ["", f"## {t['d2']}", "", "| | |", "|---|---|"]
    out += [
        f"| {t['line']} | {_cell(line_label(report, lang))} |",
        f"| {t['machine']} | {_cell(room.machine or t['none'])} |",
        f"| {t['stop_reason']} | {_cell(stop_reason_label(report, lang) or t['none'])} |",
        f"| {t['severity']} | {_cell(room.severity.value)} |",
        f"| {t['state']} | {_cell(state_label(room.state.value, t))} |",
        f"| {t['declared']} | {_time(room.created_at)} |",
        f"| {t['downtime']} | {downtime_text(report, t)} |",
        "",
        f"### {t['readings']}",
        "",
    ]
    if report.readings:
        out.append(f"| {t['readings']} | {t['count']} | {t['min']} | {t['max']} | {t['last']} |")
        out.append("|---|---|---|---|---|")
        for key, values in report.readings.items():
            n, low, high, last = reading_summary(values)
            unit = report.units.get(key, "")
            out.append(
                f"| {_cell(key)} {_cell(unit)} | {n} | {low:g} | {high:g} | {last:g} |".replace(
                    "  |", " |"
                )
            )
    else:
        out.append(t["no_readings"])
    contained = report.milestone("contained")
    out += ["", f"## {t['d3']}", "", f"- {t['lots']}: {_inline(', '.join(room.lots) or t['none'])}"]
    if contained is not None:
        note = f" — {_inline(contained.note)}" if contained.note else ""
        out.append(f"- {t['contained_at']}: {_time(contained.event_time)}{note}")
    else:
        out.append(f"- {t['not_contained']}")
    out += ["", f"## {t['d4']}", "", f"### {t['pinned']}", ""]
    pins = [e for e in report.timeline if e.kind == "pin"]
    out += [f"- {_time(e.event_time)} {_inline(entry_text(report, e, lang))}" for e in pins] or [
        f"- {t['none']}"
    ]
    out += ["", f"### {t['photos']}", ""]
    out += [
        f"- {_time(p.event_time)} {_inline(p.filename)}"
        + (f" — {_inline(p.caption)}" if p.caption else "")
        for p in report.photos
    ] or [f"- {t['none']}"]
    resolved = report.milestone("resolved")
    if resolved is not None and resolved.note:
        out += ["", f"{t['resolution_note']}: {_inline(resolved.note)}"]
    out += ["", f"## {t['d56']}", ""]
    out += [f"- {follow_up_text(report, f, t)}" for f in report.follow_ups] or [t["no_actions"]]
    out += ["", f"## {t['d7']}", ""]
    done = [f for f in report.follow_ups if f.status is FollowUpStatus.DONE]
    out.append(
        f"- {t['done_actions']}: " + (", ".join(_inline(f.title) for f in done) or t["none"])
    )
    closed = report.milestone("closed")
    if closed is not None and closed.note:
        out.append(f"- {t['closing_note']}: {_inline(closed.note)}")
    out += ["", f"## {t['d8']}", ""]
    out.append(
        f"- {t['closed_at']}: {_time(closed.event_time)}"
        if closed is not None
        else f"- {t['not_closed']}"
    )
    out += [
        f"- {t['commander']}: {_inline(commander)}",
        f"- {t['tta']}: {_duration(report.metrics.time_to_acknowledge_s, t)}",
        f"- {t['ttc']}: {_duration(report.metrics.time_to_contain_s, t)}",
        f"- {t['ttr']}: {_duration(report.metrics.time_to_resolve_s, t)}",
        "",
        f"### {t['timeline']}",
        "",
    ]
    out += [
        f"- **{_time(e.event_time)}** {_inline(entry_text(report, e, lang))}"
        for e in report.timeline
    ]
    return "\n".join(out) + "\n"


def report_filename(report: EightD, lang: Lang, ext: str) -> str:
    return f"8d-{report.room.room_id}-{lang}.{ext}"
