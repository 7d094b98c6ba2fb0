"""The one set of rules for client text and JSON (issue 10, item 4), without a network."""

from __future__ import annotations

import json
from typing import Any

import pytest

from warroom import inbound
from warroom.errors import ValidationFailed


@pytest.mark.parametrize(
    ("document", "field"),
    [
        ('{"title": "a\\u0000b"}', "title"),
        ('{"lots": ["ok", "LOT\\u00002"]}', "lots.1"),
        ('{"content": {"note": "\\ud800"}}', "content.note"),
        ('{"content": {"readings": {"t\\u0000": 1}}}', "content.readings"),
        ('{"emoji": "\\udfff"}', "emoji"),
    ],
)
def test_nul_and_lone_surrogates_anywhere_are_refused_naming_the_field(document, field):
    # When a document holds a NUL or a lone surrogate in a value or a key
    with pytest.raises(ValidationFailed) as refused:
        inbound.loads(document)
    # Then the error names where it sits
    assert refused.value.message.startswith(field + ":"), refused.value.message
    assert refused.value.details["field"] == field


def test_ordinary_text_in_any_script_passes_unchanged():
    document = json.dumps(
        {"content": "設備溫度 85°C 👍🏽 — ok", "lots": ["LOT-1"], "n": [1, 2.5, None, True]}
    )
    assert inbound.loads(document) == json.loads(document)


def test_nesting_is_limited_by_depth_not_by_size():
    # Given documents exactly at and one past the depth limit, and one far past it
    at_limit = "[" * inbound.MAX_JSON_DEPTH + "]" * inbound.MAX_JSON_DEPTH
    past_limit = "[" * (inbound.MAX_JSON_DEPTH + 1) + "]" * (inbound.MAX_JSON_DEPTH + 1)
    far_past = "[" * 200_000 + "]" * 200_000
    # Then the first is accepted and the others are VALIDATION, never RecursionError
    assert inbound.loads(at_limit) is not None
    for document in (past_limit, far_past):
        with pytest.raises(ValidationFailed):
            inbound.loads(document)
    # and a wide document is fine however long it is
    assert len(inbound.loads(json.dumps([{"a": "b"}] * 10_000))) == 10_000


def test_not_json_is_left_to_the_caller_to_word():
    with pytest.raises(json.JSONDecodeError):
        inbound.loads("this is not json")


def test_a_frame_on_an_unregistered_connection_learns_nothing_about_its_fields():
    # The router asks who is asking before it reads the frame's fields.
    from warroom.connections import ConnectionStore
    from warroom.realtime import Realtime

    class NoConnections(ConnectionStore):
        def get(self, connection_id: str):  # type: ignore[override]
            return None

    class Silent:
        def post(self, *args: Any, **kwargs: Any) -> None:
            return None

    router = Realtime(NoConnections(), Silent())  # type: ignore[arg-type]
    outcome = router.handle("gone", "message", {"type": "message", "content": 5, "x": "\x00"})
    assert [r["code"] for r in outcome.replies] == ["UNAUTHORIZED"]
    assert outcome.close
