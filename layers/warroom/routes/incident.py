"""HTTP routes of the incident record (issue 17): lines, the lifecycle, the commander,
production impact, the timeline, follow-ups and the response metrics."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query

from warroom.logic import incident
from warroom.models import (
    CommanderHandover,
    FollowUp,
    FollowUpDraft,
    FollowUpPatch,
    ImpactPatch,
    Line,
    LineDraft,
    LinePatch,
    PinDraft,
    Room,
    RoomMetrics,
    StateMove,
)
from warroom.routes.common import announce, caller


def _json(status: int, body: Any) -> Response[Any]:
    return Response(status_code=status, content_type="application/json", body=body)


router = Router()


def _me() -> str:
    return caller().user_id


@router.get("/api/lines")
def lines() -> dict[str, list[Line]]:
    _me()
    return {"lines": incident.list_lines()}


@router.post("/api/lines")
def create_line(draft: LineDraft) -> Response[Line]:
    return _json(201, incident.create_line(user_id=_me(), draft=draft))


@router.patch("/api/lines/<line_id>")
def update_line(line_id: UUID, patch: LinePatch) -> Line:
    return incident.update_line(line_id=line_id, user_id=_me(), patch=patch)


@router.post("/api/rooms/<room_id>/state")
def move_state(room_id: UUID, move: StateMove) -> Room:
    change = incident.move_state(room_id=room_id, user_id=_me(), move=move)
    announce(change.events)
    assert change.room is not None
    return change.room


@router.put("/api/rooms/<room_id>/commander")
def hand_over(room_id: UUID, body: CommanderHandover) -> Room:
    change = incident.hand_over(room_id=room_id, user_id=_me(), handover=body)
    announce(change.events)
    assert change.room is not None
    return change.room


@router.patch("/api/rooms/<room_id>/impact")
def update_impact(room_id: UUID, patch: ImpactPatch) -> Room:
    change = incident.update_impact(room_id=room_id, user_id=_me(), patch=patch)
    announce(change.events)
    assert change.room is not None
    return change.room


@router.get("/api/rooms/<room_id>/timeline")
def timeline(room_id: UUID) -> dict[str, Any]:
    return {"entries": incident.timeline(room_id=room_id, user_id=_me())}


@router.post("/api/rooms/<room_id>/pins")
def pin(room_id: UUID, body: PinDraft) -> Response[Any]:
    created, entry, events = incident.pin_message(room_id=room_id, user_id=_me(), draft=body)
    announce(events)
    return _json(201 if created else 200, entry)


@router.delete("/api/rooms/<room_id>/pins/<message_id>")
def unpin(room_id: UUID, message_id: UUID) -> Response[str]:
    events = incident.unpin_message(room_id=room_id, user_id=_me(), message_id=message_id)
    announce(events)
    return Response(status_code=204, content_type="application/json", body="")


@router.get("/api/rooms/<room_id>/follow-ups")
def follow_ups(room_id: UUID) -> dict[str, list[FollowUp]]:
    return {"follow_ups": incident.list_follow_ups(room_id=room_id, user_id=_me())}


@router.post("/api/rooms/<room_id>/follow-ups")
def add_follow_up(room_id: UUID, body: FollowUpDraft) -> Response[FollowUp]:
    created, events = incident.add_follow_up(room_id=room_id, user_id=_me(), draft=body)
    announce(events)
    return _json(201, created)


@router.patch("/api/rooms/<room_id>/follow-ups/<follow_up_id>")
def change_follow_up(room_id: UUID, follow_up_id: UUID, body: FollowUpPatch) -> FollowUp:
    changed, events = incident.change_follow_up(
        room_id=room_id, user_id=_me(), follow_up_id=follow_up_id, patch=body
    )
    announce(events)
    return changed


@router.get("/api/rooms/<room_id>/metrics")
def room_metrics(room_id: UUID) -> RoomMetrics:
    return incident.room_metrics(room_id=room_id, user_id=_me())


@router.get("/api/metrics")
def line_metrics(
    line_id: UUID | None = None,
    since: Annotated[datetime | None, Query(alias="from")] = None,
    until: Annotated[datetime | None, Query(alias="to")] = None,
) -> dict[str, Any]:
    weeks = incident.line_metrics(user_id=_me(), line_id=line_id, since=since, until=until)
    return {"weeks": weeks}
