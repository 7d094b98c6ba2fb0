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
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from warroom.paging import on_timer

logger = Logger()


# Each failed record is reported back alone, even when every record of the batch failed.
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


def escalate_record(record: SQSRecord) -> None:
    try:
        on_timer(UUID(json.loads(record.body or "")["room_id"]))
    except Exception:
        logger.exception("escalation failed", extra={"message_id": record.message_id})
        raise


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(
        event=event, record_handler=escalate_record, processor=processor, context=context
    )
