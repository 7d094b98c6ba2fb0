"""The escalation queue's consumer (issue 19): a delayed SQS message per untaken page.

When a message arrives the incident's page is read under a row lock: taken, or
acknowledged another way, it stops; not yet due (an SQS delay is at most 15 minutes),
it is put back for the time left; due, the next person in the rotation (then the line's
owner) is paged and the next message is sent. Never a polling loop.
"""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from warroom.paging import on_timer

logger = Logger()


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    failures: list[dict[str, str]] = []
    for record in event.get("Records", []):
        try:
            on_timer(UUID(json.loads(record["body"])["room_id"]))
        except Exception:
            logger.exception("escalation failed")
            failures.append({"itemIdentifier": record["messageId"]})
    return {"batchItemFailures": failures}
