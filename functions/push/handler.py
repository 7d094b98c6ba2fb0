"""The push queue's consumer (issue 19): each SQS record is one notice (a mention, an
incident on a line, a page), pushed to every subscription of its people.

The send path only enqueues, so a message's ack never waits on a push service. A record
that fails is reported back alone (`batchItemFailures`), so SQS retries just that one
and, after its receive limit, moves it to the dead-letter queue. A 404/410 from the push
service is not a failure: the subscription is deleted (see `warroom.webpush`).
"""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from warroom.logic.notices import Notice
from warroom.webpush import send_notice

logger = Logger()


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    failures: list[dict[str, str]] = []
    for record in event.get("Records", []):
        try:
            delivered = send_notice(Notice.from_json(json.loads(record["body"])))
            logger.info("pushed", extra={"delivered": delivered})
        except Exception:
            logger.exception("push failed")
            failures.append({"itemIdentifier": record["messageId"]})
    return {"batchItemFailures": failures}
