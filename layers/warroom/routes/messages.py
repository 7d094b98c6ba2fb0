"""A room's messages over HTTP: history pages, changes since a point, the send (for
messages whose frame would pass 32 KB), and the caller's mentions."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query

from warroom.bounds import MAX_HTTP_RESPONSE_BYTES
from warroom.errors import ValidationFailed
from warroom.frames import ack_fields
from warroom.logic import messages
from warroom.models import MessageDraft
from warroom.routes.common import bounded, caller

router = Router()


class OutgoingMessage(MessageDraft):
    """The body of the HTTP send: a `message` frame (`type` optional and ignored)."""

    type: str | None = None


@router.get("/api/rooms/<room_id>/messages")
def history(
    room_id: UUID,
    limit: Annotated[int | None, Query(ge=1)] = None,
    before: datetime | None = None,
    before_seq: Annotated[int | None, Query(ge=0)] = None,
    after_seq: Annotated[int | None, Query(ge=0)] = None,
    changed_after: Annotated[int | None, Query(ge=0)] = None,
) -> dict[str, Any]:
    user_id = caller().user_id
    if changed_after is not None:
        if before is not None or before_seq is not None or after_seq is not None:
            raise ValidationFailed("changed_after goes alone, without other cursors")
        changes = messages.changed_since(
            room_id=room_id,
            user_id=user_id,
            after_change=changed_after,
            limit=limit,
            max_bytes=MAX_HTTP_RESPONSE_BYTES,
        )
        kept, has_more, resume = messages.bounded_changes(changes)
        return {"messages": kept, "has_more": has_more, "next_changed_after": resume}
    page = messages.history(
        room_id=room_id,
        user_id=user_id,
        limit=limit,
        before=before,
        before_seq=before_seq,
        after_seq=after_seq,
        max_bytes=MAX_HTTP_RESPONSE_BYTES,
    )
    return messages.bounded_history(page)


@router.post("/api/rooms/<room_id>/messages")
def send(room_id: UUID, body: OutgoingMessage) -> Response[dict[str, Any]]:
    """The `message` frame's body over HTTP (for messages whose frame would pass
    32 KB): same checks, idempotency, broadcast and badges."""
    user_id = caller().user_id
    sent = messages.send_message(room_id=room_id, sender_id=user_id, draft=body)
    if sent.created:
        from warroom.delivery import room_delivery

        room_delivery().sent(sent)
    return Response(
        status_code=201 if sent.created else 200,
        content_type="application/json",
        body=ack_fields(sent.message, sent.unresolved_mentions),
    )


@router.get("/api/mentions")
def mentions(limit: Annotated[int | None, Query(ge=1)] = None) -> dict[str, Any]:
    found = messages.mentions_of(user_id=caller().user_id, limit=limit)
    return bounded("messages", found)
