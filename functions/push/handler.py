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
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from warroom.logic.notices import Notice
from warroom.webpush import send_notice

logger = Logger()


# Each failed record is reported back alone, even when every record of the batch failed.
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


def push_record(record: SQSRecord) -> int:
    try:
        delivered = send_notice(Notice.from_json(json.loads(record.body or "")))
    except Exception:
        logger.exception("push failed", extra={"message_id": record.message_id})
        raise
    logger.info("pushed", extra={"delivered": delivered})
    return delivered


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(
        event=event, record_handler=push_record, processor=processor, context=context
    )
