"""Every size limit of the wire, each under one name that means one thing everywhere
(the local gateway, fan-out, the replies here, and the web client, whose generated
`web/src/generated/protocol.ts` carries the same names and values).

Replies are cut by bytes, not only by count: a `sync` frame fits one 128 KB WebSocket
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
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from warroom.models import Message

#: One WebSocket frame from a client (API Gateway's frame size): over it, 1009.
MAX_CLIENT_FRAME_BYTES = 32 * 1024
#: One WebSocket message either way: a client's (reassembled) message, and one
#: `@connections` post (so every frame the server sends, a `sync` reply included).
MAX_MESSAGE_BYTES = 128 * 1024
#: A message's content in UTF-8 bytes (text, or incident data as compact JSON).
MAX_CONTENT_BYTES = 64 * 1024
#: The project's cap on one HTTP answer holding messages (history, search, mentions).
MAX_HTTP_RESPONSE_BYTES = 1_000_000
#: Lambda's synchronous response payload limit (the local gateway enforces it too).
MAX_LAMBDA_RESPONSE_BYTES = 6 * 1024 * 1024
# Room for the envelope around the list (type, has_more, cursors).
ENVELOPE_BYTES = 512

#: The limits the web client shares, by name (written into the generated TypeScript).
SHARED_WITH_CLIENT = ("MAX_CLIENT_FRAME_BYTES", "MAX_MESSAGE_BYTES", "MAX_CONTENT_BYTES")


def encode(value: Any) -> bytes:
    """The bytes a JSON value goes on the wire as (compact, UTF-8)."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str).encode()


def encoded_size(value: Any) -> int:
    return len(encode(value))


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
