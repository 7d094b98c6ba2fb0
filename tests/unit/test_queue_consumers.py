"""The SQS consumers (presence flush, push, escalation) answer SQS's partial batch
response: a record that cannot be handled is reported back alone, so SQS retries that one
(and, after its receive limit, sets it aside in the dead-letter queue)."""

from __future__ import annotations

from typing import Any

import pytest

from functions.escalate import handler as escalate
from functions.presence_flush import handler as presence_flush
from functions.push import handler as push
from tests.integration.conftest import ctx

pytestmark = pytest.mark.unit

CONSUMERS = [
    pytest.param(presence_flush.lambda_handler, id="presence_flush"),
    pytest.param(push.handler, id="push"),
    pytest.param(escalate.handler, id="escalate"),
]


def _event(*bodies: str) -> dict[str, Any]:
    return {
        "Records": [
            {"messageId": f"m{i}", "body": body, "eventSource": "aws:sqs"}
            for i, body in enumerate(bodies)
        ]
    }


@pytest.mark.parametrize("consume", CONSUMERS)
def test_every_malformed_record_is_reported_back_alone(consume):
    # Given a batch whose every record is malformed (nothing reaches the database)
    event = _event("not json", '{"neither": "a room nor a notice"}')
    # When the consumer receives it
    result = consume(event, ctx("consumer"))
    # Then each record is reported as failed by its id (the batch is not raised whole)
    assert result == {"batchItemFailures": [{"itemIdentifier": "m0"}, {"itemIdentifier": "m1"}]}
