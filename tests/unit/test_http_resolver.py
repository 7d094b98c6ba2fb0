"""The HTTP resolver keeps each invocation's event to itself, even when several resolvers
(the local stack's warm containers) serve requests in one process at once."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver

from local.events import http_event
from warroom.httpapi import InvocationScopedResolver

pytestmark = pytest.mark.unit


def _post(path: str, body: dict[str, Any]) -> dict[str, Any]:
    return http_event(
        method="POST",
        path=path,
        raw_query="",
        query={},
        headers={"content-type": "application/json"},
        body=json.dumps(body).encode(),
        source_ip="127.0.0.1",
        domain_name="localhost",
    )


def _interleaved(resolver: type[APIGatewayHttpResolver]) -> dict[str, Any]:
    """Container A is mid-request when container B serves a request of its own."""
    a, b = resolver(), resolver()

    @b.post("/api/b")
    def serve_b() -> dict[str, Any]:
        return {"b": b.current_event.json_body}

    @a.post("/api/a")
    def serve_a() -> dict[str, Any]:
        b.resolve(_post("/api/b", {"from": "b"}), None)
        return {"a_still_sees": a.current_event.json_body}

    return json.loads(a.resolve(_post("/api/a", {"from": "a"}), None)["body"])


def test_a_request_still_sees_its_own_body_after_another_resolver_served_one():
    # Given two resolvers in one process, as two warm containers of the local stack
    # When one serves a request while the other is in the middle of its own
    answer = _interleaved(InvocationScopedResolver)
    # Then the first still reads its own request's body
    assert answer == {"a_still_sees": {"from": "a"}}


def test_powertools_own_resolver_shares_the_event_across_instances():
    # Why the subclass exists: with Powertools' resolver the same interleaving reads the
    # other request's body (the event is kept on the BaseRouter class)
    assert _interleaved(APIGatewayHttpResolver) == {"a_still_sees": {"from": "b"}}
