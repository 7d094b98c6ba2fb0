"""HTTP routes of the incident record (issue 17): lines, the lifecycle, the commander,
production impact, the timeline, follow-ups and the response metrics."""

from __future__ import annotations

import logging
import urllib.request
from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Header, Query

from warroom.errors import DomainError
from warroom.logic import eightd, incident
from warroom.logic.report_text import pick_language
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
from warroom.storage import attachment_store

logger = logging.getLogger(__name__)

# Pinned photos read for the PDF: at most this many, each at most this large.
MAX_PHOTOS = 12
MAX_PHOTO_BYTES = 15 * 1024 * 1024


def _json(status: int, body: Any) -> Response[Any]:
    return Response(status_code=status, content_type="application/json", body=body)


def eight_d_markdown(room_id: UUID, user_id: str, lang: eightd.Lang) -> Response[str]:
    """`GET /api/rooms/{id}/report?format=8d`: the 8D report as Markdown."""
    found = eightd.gather(room_id=room_id, user_id=user_id)
    return Response(
        status_code=200,
        content_type="text/markdown; charset=utf-8",
        body=eightd.render_markdown(found, lang),
    )


def _photo_bytes(report: eightd.EightD) -> dict[str, bytes]:
    """The pinned photos' bytes, by object key, read through short-lived presigned links
    (the one way objects are read, here and by the local stack's S3 proxy); a photo that
    is too large or cannot be read is listed in the report without its image."""
    store = attachment_store()
    found: dict[str, bytes] = {}
    for photo in report.photos[:MAX_PHOTOS]:
        if photo.size_bytes > MAX_PHOTO_BYTES:
            continue
        try:
            url = store.presigned_download(
                photo.object_key, content_type=photo.content_type, expires_in=60
            )
            with urllib.request.urlopen(url, timeout=10) as answer:  # our bucket's link
                found[photo.object_key] = answer.read(MAX_PHOTO_BYTES + 1)
        except (DomainError, OSError) as exc:  # URLError is an OSError
            # a missing object leaves the photo out, not the report
            logger.warning("pinned photo %s could not be read: %s", photo.object_key, exc)
    return found


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


# No return annotation: with one, Powertools' response validation would serialize the
# PDF's bytes as JSON; without, a non-JSON body is sent as it is (base64 on the wire).
@router.get("/api/rooms/<room_id>/report.pdf")
def report_pdf(
    room_id: UUID,
    lang: Annotated[str | None, Query(max_length=35)] = None,
    accept_language: Annotated[str | None, Header(max_length=500)] = None,
):
    from warroom.report_pdf import render_pdf

    # The reader's language as the Markdown reports pick it: ?lang=, Accept-Language, English.
    language: eightd.Lang = "zh-TW" if pick_language(lang, accept_language) == "zh-TW" else "en"
    found = eightd.gather(room_id=room_id, user_id=_me())
    body = render_pdf(found, language, _photo_bytes(found))
    return Response(
        status_code=200,
        content_type="application/pdf",
        body=body,
        headers={
            "Content-Disposition": (
                f'attachment; filename="{eightd.report_filename(found, language, "pdf")}"'
            )
        },
    )


@router.get("/api/metrics")
def line_metrics(
    line_id: UUID | None = None,
    since: Annotated[datetime | None, Query(alias="from")] = None,
    until: Annotated[datetime | None, Query(alias="to")] = None,
) -> dict[str, Any]:
    weeks = incident.line_metrics(user_id=_me(), line_id=line_id, since=since, until=until)
    return {"weeks": weeks}
