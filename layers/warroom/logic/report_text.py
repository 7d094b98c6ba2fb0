"""The report's words in each language it is read in (English, Traditional Chinese).

A reader's language comes from `?lang=` or the browser's Accept-Language
(`pick_language`). Both catalogues hold the same keys and the same `{placeholders}`
(tests/unit/test_report_text.py); room values (status, severity, role) and the
known reading names use the same words as the web client's catalogues.
"""

from __future__ import annotations

from typing import Final

LANGUAGES: Final = ("en", "zh-TW")
DEFAULT_LANGUAGE: Final = "en"

EN: Final[dict[str, str]] = {
    "title": "Incident report: {title}",
    "status": "Status",
    "severity": "Severity",
    "location": "Location",
    "lots": "Lots",
    "opened": "Opened",
    "opened_by": "{time} GMT+8 by {name}",
    "last_activity": "Last activity",
    "messages": "Messages",
    "participants": "Participants",
    "timeline": "Timeline (GMT+8)",
    "readings": "Machine readings",
    "time": "Time (GMT+8)",
    "machine": "Machine",
    "line": "Line",
    "note": "Note",
    "by": "By",
    "no_readings": "No readings were posted.",
    "attachments": "Attachments",
    "no_attachments": "No attachments.",
    "attachment": "attachment",
    "bytes": "{size} bytes",
    "deleted": "(message deleted)",
    "edited": "(edited)",
    "cut": "… (cut; the full text is in the history)",
    "readings_entry": "readings",
    "readings_on": "readings on {machine}",
    "status.active": "active",
    "status.resolved": "resolved",
    "status.archived": "archived",
    "severity.low": "low",
    "severity.medium": "medium",
    "severity.high": "high",
    "severity.critical": "critical",
    "role.OWNER": "owner",
    "role.EDITOR": "editor",
    "role.VIEWER": "viewer",
    "system.room_status_changed": "{actor} changed the status from {from} to {to}",
    "system.member_added": "{actor} added {member} as {role}",
    "system.member_removed": "{actor} removed {member}",
    "system.member_left": "{member} left the room",
    "reading.temperature": "temperature",
    "reading.pressure": "pressure",
    "reading.production_rate": "production rate",
    "reading.humidity": "humidity",
    "reading.spindle_rpm": "spindle rpm",
}

ZH_TW: Final[dict[str, str]] = {
    "title": "事故報告：{title}",
    "status": "狀態",
    "severity": "嚴重度",
    "location": "地點",
    "lots": "批號",
    "opened": "開立",
    "opened_by": "{time} GMT+8，由 {name} 開立",
    "last_activity": "最後活動",
    "messages": "訊息數",
    "participants": "參與者",
    "timeline": "時間軸（GMT+8）",
    "readings": "機台讀數",
    "time": "時間（GMT+8）",
    "machine": "機台",
    "line": "產線",
    "note": "備註",
    "by": "記錄者",
    "no_readings": "沒有張貼任何讀數。",
    "attachments": "附件",
    "no_attachments": "沒有附件。",
    "attachment": "附件",
    "bytes": "{size} 位元組",
    "deleted": "（訊息已刪除）",
    "edited": "（已編輯）",
    "cut": "…（已截斷；完整內容請見歷史訊息）",
    "readings_entry": "讀數",
    "readings_on": "{machine} 讀數",
    "status.active": "處理中",
    "status.resolved": "已解決",
    "status.archived": "已封存",
    "severity.low": "低",
    "severity.medium": "中",
    "severity.high": "高",
    "severity.critical": "緊急",
    "role.OWNER": "擁有者",
    "role.EDITOR": "編輯者",
    "role.VIEWER": "檢視者",
    "system.room_status_changed": "{actor} 將狀態從「{from}」改為「{to}」",
    "system.member_added": "{actor} 將 {member} 加入為{role}",
    "system.member_removed": "{actor} 移除了 {member}",
    "system.member_left": "{member} 離開了房間",
    "reading.temperature": "溫度",
    "reading.pressure": "壓力",
    "reading.production_rate": "產量",
    "reading.humidity": "濕度",
    "reading.spindle_rpm": "主軸轉速",
}

CATALOGUES: Final[dict[str, dict[str, str]]] = {"en": EN, "zh-TW": ZH_TW}


def pick_language(requested: str | None, accept_language: str | None = None) -> str:
    """`?lang=` when it names a language we have, else the first Accept-Language we
    have (any zh-* reads Traditional Chinese), else English."""
    for candidate in [requested or "", *_accepted(accept_language or "")]:
        tag = candidate.strip().lower()
        if tag.startswith("zh"):
            return "zh-TW"
        if tag.startswith("en"):
            return "en"
    return DEFAULT_LANGUAGE


def _accepted(header: str) -> list[str]:
    weighted = []
    for i, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        if tag:
            weighted.append((-q, i, tag))
    return [tag for _, _, tag in sorted(weighted)]


class Words:
    """One language's words for a report."""

    def __init__(self, language: str) -> None:
        self.language = language if language in CATALOGUES else DEFAULT_LANGUAGE
        self._words = CATALOGUES[self.language]

    def __call__(self, key: str, **params: object) -> str:
        text = self._words.get(key, EN.get(key, key))
        for name, value in params.items():
            text = text.replace("{" + name + "}", str(value))
        return text

    def optional(self, key: str, fallback: str) -> str:
        """A known word (a status, a role, a reading name), else the value as it is."""
        return self._words.get(key, fallback)
