"""Counting the answers that say "our fault", so that an outage raises an alarm.

The handlers turn every exception into an error frame or a 500, so a database outage never
shows in Lambda's Errors metric. Wherever an error answer is built, `count_error_answer`
counts INTERNAL and UNAVAILABLE ones as `ServerErrorAnswers` (namespace and `service`
dimension from Powertools' settings); the CDK stack alarms on it (infra/constructs/
monitoring.py). Powertools' Metrics instances share one metric set, so the handler's own
`@metrics.log_metrics` flushes it with the invocation's other metrics.
"""

from __future__ import annotations

from typing import Final

SERVER_ERROR_ANSWERS: Final = "ServerErrorAnswers"
SERVER_ERROR_CODES: Final = frozenset({"INTERNAL", "UNAVAILABLE"})


def count_error_answer(code: str) -> None:
    """Count one answer with error `code` if it is a server-side failure."""
    if code not in SERVER_ERROR_CODES:
        return
    from aws_lambda_powertools import Metrics  # the handlers have loaded it already
    from aws_lambda_powertools.metrics import MetricUnit

    Metrics().add_metric(name=SERVER_ERROR_ANSWERS, unit=MetricUnit.Count, value=1)
