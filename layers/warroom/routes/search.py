"""Search: full text over the caller's rooms, and a room's readings by field and range."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query

from warroom.bounds import MAX_HTTP_RESPONSE_BYTES, fit_messages
from warroom.logic import messages
from warroom.routes.common import bounded, caller

router = Router()


@router.get("/api/search")
def search(
    q: Annotated[str, Query(min_length=1, max_length=200)],
    room_id: UUID | None = None,
    limit: Annotated[int | None, Query(ge=1)] = None,
) -> dict[str, Any]:
    hits = messages.search(user_id=caller().user_id, query=q, room_id=room_id, limit=limit)
    kept = fit_messages([h.message for h in hits], MAX_HTTP_RESPONSE_BYTES)
    return {
        "results": [
            {"message": m, "highlight": h.highlight} for m, h in zip(kept, hits, strict=False)
        ],
        "has_more": len(kept) < len(hits),
    }


@router.get("/api/rooms/<room_id>/incident-data")
def incident_data(
    room_id: UUID,
    field: Annotated[str, Query(min_length=1, max_length=63)],
    min: float | None = None,
    max: float | None = None,
    limit: Annotated[int | None, Query(ge=1)] = None,
) -> dict[str, Any]:
    found = messages.incident_readings(
        room_id=room_id,
        user_id=caller().user_id,
        field=field,
        minimum=min,
        maximum=max,
        limit=limit,
    )
    return bounded("messages", found)
