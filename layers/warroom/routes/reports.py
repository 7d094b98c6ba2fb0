"""The incident report (Markdown), inline or, when too large for a response, as a
short-lived link to the same document in the attachments bucket."""

from __future__ import annotations

import json
from typing import Annotated, Literal
from uuid import UUID

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Header, Query

from warroom.logic import report
from warroom.logic.report_text import pick_language
from warroom.routes.common import caller
from warroom.routes.incident import eight_d_markdown
from warroom.storage import attachment_store

router = Router()


@router.get("/api/rooms/<room_id>/report")
def incident_report(
    room_id: UUID,
    lang: Annotated[str | None, Query(max_length=35)] = None,
    accept_language: Annotated[str | None, Header(max_length=500)] = None,
    format: Literal["timeline", "8d"] = "timeline",
) -> Response[str]:
    # The reader's language: ?lang=, else the browser's Accept-Language (issue 16).
    language = pick_language(lang, accept_language)
    if format == "8d":  # issue 17: the 8D report, headings in the reader's language
        return eight_d_markdown(room_id, caller().user_id, "zh-TW" if language == "zh-TW" else "en")
    body = report.build_report(room_id=room_id, user_id=caller().user_id, language=language)
    if len(body.encode()) > report.MAX_INLINE_BYTES:
        # Too large for a Lambda response: a short-lived link to the same Markdown.
        url = report.publish_large_report(room_id, body, attachment_store())
        return Response(
            status_code=303,
            content_type="application/json",
            body=json.dumps({"url": url}),
            headers={"Location": url},
        )
    return Response(status_code=200, content_type="text/markdown; charset=utf-8", body=body)
