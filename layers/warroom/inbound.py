"""Rules every piece of client text obeys, in one place, before any model sees it.

PostgreSQL cannot store a NUL character in `text` or `json`, and a lone surrogate (legal
in a JSON `\\ud800` escape, not in UTF-8) cannot be encoded for the driver at all: both
used to surface as a 500 / INTERNAL from deep in the data layer. A JSON document nested
thousands deep made `json.loads` raise RecursionError (a 500 over HTTP, no answer at all
over the WebSocket). Here each becomes a VALIDATION error naming the field.

`loads` is the one JSON loader of the HTTP body (Powertools' `json_body_deserializer`)
and of WebSocket frames; `check_text` serves query and path parameters.
"""

from __future__ import annotations

import json
from typing import Any

from warroom.errors import ValidationFailed

# Deep enough for every request and frame the contract defines (an incident reading is
# four levels down), shallow enough that nothing recursive downstream gets near Python's
# recursion limit.
MAX_JSON_DEPTH = 16


def text_problem(value: str) -> str | None:
    """Why a string cannot be stored, or None. Cheap on the common path: `in` and
    `isascii` run in C, and only non-ASCII text is test-encoded."""
    if "\x00" in value:
        return "must not contain NUL characters"
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return "is not valid Unicode text (it holds a lone surrogate)"
    return None


def check_text(value: str, field: str) -> str:
    problem = text_problem(value)
    if problem is not None:
        raise ValidationFailed(f"{field}: {problem}", field=field)
    return value


def _path(parts: tuple[str | int, ...]) -> str:
    return ".".join(str(p) for p in parts) or "body"


def check_tree(value: Any, *, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """Walk a decoded JSON value without recursion: every key and string must be
    storable, and nothing may nest deeper than `max_depth`."""
    stack: list[tuple[Any, tuple[str | int, ...]]] = [(value, ())]
    while stack:
        node, where = stack.pop()
        if isinstance(node, str):
            problem = text_problem(node)
            if problem is not None:
                raise ValidationFailed(f"{_path(where)}: {problem}", field=_path(where))
        elif isinstance(node, dict | list):
            if len(where) >= max_depth:
                raise ValidationFailed(
                    f"{_path(where)}: JSON nested deeper than {max_depth} levels",
                    field=_path(where),
                )
            if isinstance(node, dict):
                for key, item in node.items():
                    problem = text_problem(key)
                    if problem is not None:
                        raise ValidationFailed(
                            f"{_path(where)}: a key {problem}", field=_path(where)
                        )
                    stack.append((item, (*where, key)))
            else:
                stack.extend((item, (*where, i)) for i, item in enumerate(node))
    return value


def decode(document: str | bytes | bytearray) -> Any:
    """`json.loads` that answers VALIDATION instead of RecursionError; a document that
    is not JSON still raises `json.JSONDecodeError`, for the caller to word."""
    try:
        return json.loads(document)
    except RecursionError as exc:
        raise ValidationFailed(
            f"body: JSON nested deeper than {MAX_JSON_DEPTH} levels", field="body"
        ) from exc


def loads(document: str | bytes | bytearray) -> Any:
    return check_tree(decode(document))
