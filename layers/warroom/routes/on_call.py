"""On call and escalation (issue 19): a line's rotation, and "take it"."""

from __future__ import annotations

from uuid import UUID

from aws_lambda_powertools.event_handler.api_gateway import Router

from warroom.logic import oncall
from warroom.models import Room
from warroom.routes.common import announce, caller

router = Router()


@router.get("/api/lines/<line_id>/on-call")
def get_on_call(line_id: UUID) -> oncall.OnCallAnswer:
    caller()
    return oncall.get_on_call(line_id=line_id)


@router.put("/api/lines/<line_id>/on-call")
def set_on_call(line_id: UUID, body: oncall.OnCallDraft) -> oncall.OnCallAnswer:
    return oncall.set_on_call(line_id=line_id, user_id=caller().user_id, draft=body)


@router.post("/api/rooms/<room_id>/take")
def take(room_id: UUID) -> Room:
    change = oncall.take(room_id=room_id, user_id=caller().user_id)
    announce(change.events)
    assert change.room is not None
    return change.room
