"""Tracing for the handlers that costs nothing when it is off.

Powertools' `Tracer()` imports the X-Ray SDK in its constructor (about 100 ms of a cold
start) even with `POWERTOOLS_TRACE_DISABLED=true`. `capture_lambda_handler` here decides
at the first invocation, by Powertools' own rules (disabled by the variable, or outside
Lambda), and builds the Tracer only when tracing is on; otherwise the handler runs as is
and the SDK is never imported.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from warroom.settings import tracing_enabled

Handler = TypeVar("Handler", bound=Callable[[Any, Any], Any])

__all__ = ["capture_lambda_handler", "tracing_enabled"]


def capture_lambda_handler(handler: Handler) -> Handler:
    """Powertools' `Tracer().capture_lambda_handler`, built on first use and only when
    tracing is on."""
    chosen: list[Callable[[Any, Any], Any]] = []

    @functools.wraps(handler)
    def run(event: Any, context: Any) -> Any:
        if not chosen:
            if tracing_enabled():
                from aws_lambda_powertools import Tracer

                chosen.append(Tracer().capture_lambda_handler(handler))
            else:
                chosen.append(handler)
        return chosen[0](event, context)

    return run  # type: ignore[return-value]
