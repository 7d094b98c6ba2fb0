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
from aws_lambda_powertools.utilities.typing import LambdaContext

from warroom.delivery import flush_room
from warroom.flush_scheduler import rooms_in_messages

logger = Logger()


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    failures: list[dict[str, str]] = []
    posts = 0
    for record in event.get("Records", []):
        message_id = str(record.get("messageId", ""))
        try:
            for room_id in rooms_in_messages([str(record.get("body", ""))]):
                posts += flush_room(room_id)
        except Exception:
            logger.exception("presence flush failed", extra={"message_id": message_id})
            failures.append({"itemIdentifier": message_id})
    logger.info("presence flushed", extra={"posts": posts, "failed": len(failures)})
    return {"batchItemFailures": failures}
