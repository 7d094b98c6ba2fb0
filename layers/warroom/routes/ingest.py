"""HTTP routes of machine readings (issue 18): ingest sources, the signed ingest, a
line's readings and its alarm rules.

`POST /api/ingest/{source_id}/readings` is the one route without a bearer token (no JWT
authorizer in the cloud either): the Standard Webhooks signature, checked in
`logic.ingest`, is its authentication. The rest are a person's routes as everywhere.

`build_router(app)` gives each resolver its own Router: the ingest route reads the raw
body and headers from that resolver's own current event (a module-level Router would
hand it the event of whichever resolver included it last). The caller of the other
routes is `routes.common.caller()`, as everywhere.
"""

from __future__ import annotations

import base64
import logging
from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query

from warroom import paging
from warroom.ingest_models import (
    AlarmRule,
    AlarmRuleDraft,
    AlarmRulePatch,
    IngestSource,
    SourceDraft,
)
from warroom.logic import ingest
from warroom.routes import common

logger = logging.getLogger(__name__)

SIGNED_PREFIX = "/api/ingest/"


def is_signed_path(path: str) -> bool:
    """Routes authenticated by a signature, not a bearer token."""
    return path.startswith(SIGNED_PREFIX)


def _json(status: int, body: Any) -> Response[Any]:
    return Response(status_code=status, content_type="application/json", body=body)


def _after_store(stored: ingest.Ingested) -> None:
    """Alarm messages to the rooms, then the live chart (never fails the answer: the
    readings are stored)."""
    try:
        if stored.events:
            from warroom.delivery import room_delivery

            room_delivery().room_events(stored.events)
        if stored.line_id is not None and stored.latest:
            from warroom.live_readings import publish_latest

            publish_latest(stored.line_id, stored.latest)
    except Exception:
        logger.exception("announcing an ingest failed")
    for page in stored.paged:  # an alarm's incident pages the line's on-call (issue 19)
        paging.dispatch(page)


def build_router(app: APIGatewayHttpResolver) -> Router:
    router = Router()

    def caller() -> str:
        return common.caller().user_id

    @router.post("/api/ingest/<source_id>/readings")
    def post_readings(source_id: str) -> Response[Any]:
        event = app.current_event
        # The signature covers the body's bytes exactly as sent: base64 for a binary
        # content type, else the text as API Gateway passed it (never decoded as text,
        # so a body that is not UTF-8 is a 401 or a 422, not a crash).
        body = event.raw_event.get("body") or ""
        raw = base64.b64decode(body) if event.raw_event.get("isBase64Encoded") else body.encode()
        stored = ingest.ingest(source_id=source_id, body=raw, headers=dict(event.headers or {}))
        if stored.stored:
            _after_store(stored)
        return _json(200, stored.answer)

    @router.post("/api/lines/<line_id>/ingest-sources")
    def create_source(line_id: UUID, body: SourceDraft) -> Response[Any]:
        made = ingest.create_source(line_id=line_id, user_id=caller(), draft=body)
        return _json(201, made.model_dump(mode="json"))

    @router.get("/api/lines/<line_id>/ingest-sources")
    def sources(line_id: UUID) -> dict[str, list[IngestSource]]:
        return {"sources": ingest.list_sources(line_id=line_id, user_id=caller())}

    @router.delete("/api/lines/<line_id>/ingest-sources/<source_id>")
    def revoke_source(line_id: UUID, source_id: UUID) -> Response[str]:
        ingest.revoke_source(line_id=line_id, source_id=source_id, user_id=caller())
        return Response(status_code=204, content_type="application/json", body="")

    @router.get("/api/lines/<line_id>/readings")
    def readings(
        line_id: UUID,
        tag: Annotated[str | None, Query(max_length=100)] = None,
        machine_id: Annotated[str | None, Query(max_length=100)] = None,
        since: Annotated[datetime | None, Query(alias="from")] = None,
        until: Annotated[datetime | None, Query(alias="to")] = None,
    ) -> dict[str, Any]:
        page = ingest.line_readings(
            line_id=line_id,
            user_id=caller(),
            tag=tag,
            machine_id=machine_id,
            since=since,
            until=until,
        )
        return {
            "points": [p.model_dump(mode="json", exclude_none=True) for p in page.points],
            "downsampled": page.downsampled,
            "bucket_seconds": page.bucket_seconds,
        }

    @router.post("/api/lines/<line_id>/alarm-rules")
    def create_rule(line_id: UUID, body: AlarmRuleDraft) -> Response[AlarmRule]:
        return _json(201, ingest.create_rule(line_id=line_id, user_id=caller(), draft=body))

    @router.get("/api/lines/<line_id>/alarm-rules")
    def rules(line_id: UUID) -> dict[str, list[AlarmRule]]:
        return {"rules": ingest.list_rules(line_id=line_id, user_id=caller())}

    @router.patch("/api/lines/<line_id>/alarm-rules/<rule_id>")
    def change_rule(line_id: UUID, rule_id: UUID, body: AlarmRulePatch) -> AlarmRule:
        return ingest.change_rule(line_id=line_id, rule_id=rule_id, user_id=caller(), patch=body)

    @router.delete("/api/lines/<line_id>/alarm-rules/<rule_id>")
    def delete_rule(line_id: UUID, rule_id: UUID) -> Response[str]:
        ingest.delete_rule(line_id=line_id, rule_id=rule_id, user_id=caller())
        return Response(status_code=204, content_type="application/json", body="")

    return router
