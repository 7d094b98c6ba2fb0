"""Trailing joins through the local stack: a join left pending inside its room's window
is announced by the delayed flush it scheduled (the cloud's SQS delay queue, here the
in-process timer), with nothing polling and no other activity in the room."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import frames_until, of_type

pytestmark = pytest.mark.e2e


def _pending(sql: Any, room_id: str) -> list[str]:
    rows = sql.execute(
        "SELECT user_id FROM presence_changes WHERE room_id = %s ORDER BY at", (room_id,)
    ).fetchall()
    return [r["user_id"] for r in rows]


def test_a_join_inside_the_window_is_announced_within_about_two_seconds(local_stack, incident, sql):
    owner, editor, viewer = incident["owner"], incident["editor"], incident["viewer"]
    room = incident["room_id"]
    # Given the owner watching, and the editor's join, which opens the room's one-second
    # announcement window
    with (
        local_stack.connect(owner.token, room) as watcher,
        local_stack.connect(editor.token, room),
    ):
        frames_until(watcher, of_type("system", event="user_joined", user_id=editor.user_id))
        # When the viewer joins inside that window, and nothing else happens in the room
        with local_stack.connect(viewer.token, room):
            # Then the join was left pending rather than announced at once
            assert _pending(sql, room) == [viewer.user_id]
            # And the delayed flush announces it within about two seconds
            announced = frames_until(watcher, of_type("system", event="user_joined"), timeout=2.5)
            assert [u["user_id"] for u in announced[-1]["users"]] == [viewer.user_id]
            # And nothing is left pending
            assert _pending(sql, room) == []
