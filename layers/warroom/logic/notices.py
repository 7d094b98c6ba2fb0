"""What a person is pushed about (issue 19): a plain description the push worker turns
into an encrypted Web Push message. Nothing here sends; logic only says what to tell."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal
from uuid import UUID

NoticeKind = Literal["mention", "incident", "page"]

# How long a push service keeps an undelivered message (RFC 8030 TTL, seconds): a page is
# stale once the next person is paged; a mention is still worth reading tomorrow.
TTL_SECONDS: dict[str, int] = {"mention": 24 * 3600, "incident": 3600, "page": 900}


@dataclass(frozen=True)
class Notice:
    kind: NoticeKind
    user_ids: tuple[str, ...]
    room_id: UUID
    sender: str
    text: str

    def to_json(self) -> dict[str, Any]:
        found = asdict(self)
        found["user_ids"] = list(self.user_ids)
        found["room_id"] = str(self.room_id)
        return found

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Notice:
        return cls(
            kind=data["kind"],
            user_ids=tuple(data["user_ids"]),
            room_id=UUID(str(data["room_id"])),
            sender=str(data["sender"]),
            text=str(data["text"]),
        )
