"""The delayed flush of a room's pending joins and departures (SQS → this function).

A join or departure left pending inside its room's announcement window sends one message
with a delay of the window (warroom/flush_scheduler.py). When it comes due, this function
announces whatever the room still has pending. A body that is not a flush message, or a
room whose flush fails, is reported as a batch item failure: SQS retries that message
alone and, after the queue's receive limit, moves it to the dead-letter queue.
"""

from __future__ import annotations

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

from warroom.delivery import flush_room
from warroom.flush_scheduler import rooms_in_messages

logger = Logger()


# Powertools' batch processor reports each failed record back alone; with the whole
# batch failed it still answers (rather than raise), so SQS retries each record alone.
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


def flush_record(record: SQSRecord) -> int:
    try:
        return sum(flush_room(room_id) for room_id in rooms_in_messages([record.body or ""]))
    except Exception:
        logger.exception("presence flush failed", extra={"message_id": record.message_id})
        raise


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(
        event=event, record_handler=flush_record, processor=processor, context=context
    )
