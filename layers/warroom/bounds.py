"""Replies cut by bytes, not only by count: a `sync` frame fits one 128 KB WebSocket
message, an HTTP answer stays under 1 MB (Lambda allows 6 MB). A cut reply says
`has_more` and its cursor points after the last message it holds.

Progress is guaranteed: the first message always goes in, slimmed when it is too big on
its own (`content: null, content_truncated: true`; if even that is too big, its
reactions without their user lists, `reactions_truncated: true`), so a client paging
through always moves forward, and every loop here is one pass over a finite list.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from warroom.models import Message

MAX_FRAME_BYTES = 128 * 1024
MAX_HTTP_BYTES = 1_000_000
# Room for the envelope around the list (type, has_more, cursors).
ENVELOPE_BYTES = 512


def encoded_size(value: Any) -> int:
    return len(json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str).encode())


def slim(message: dict[str, Any]) -> dict[str, Any]:
    """A message without its content: the client reads it in full over HTTP."""
    return {**message, "content": None, "content_truncated": True}


def slimmest(message: dict[str, Any]) -> dict[str, Any]:
    reactions = [{**r, "user_ids": []} for r in message.get("reactions") or []]
    return {**slim(message), "reactions": reactions, "reactions_truncated": True}


def fit_messages(messages: Sequence[Message], budget: int) -> list[dict[str, Any]]:
    """The messages, dumped for the wire, in order, as many as fit in `budget` bytes
    (never fewer than one when there is one)."""
    kept: list[dict[str, Any]] = []
    used = 2 + ENVELOPE_BYTES
    for message in messages:
        dumped = message.model_dump(mode="json")
        size = encoded_size(dumped) + 1
        if used + size > budget:
            if kept:
                break
            dumped = slim(dumped)
            size = encoded_size(dumped) + 1
            if used + size > budget:
                dumped = slimmest(dumped)
                size = encoded_size(dumped) + 1
        kept.append(dumped)
        used += size
    return kept
