"""The HTTP resolver keeps each invocation's event to itself, even when several resolvers
(the local stack's warm containers) serve requests in one process at once."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
from aws_lambda_powertools.event_handler.api_gateway import Router

from local.events import http_event
from warroom.auth import Identity
from warroom.errors import UnauthorizedError
from warroom.httpapi import InvocationScopedResolver
from warroom.routes.common import caller, set_caller

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


def _get(path: str) -> dict[str, Any]:
    return http_event(
        method="GET",
        path=path,
        raw_query="",
        query={},
        headers={},
        body=b"",
        source_ip="127.0.0.1",
        domain_name="localhost",
    )


def _signed_in_as(user_id: str) -> Any:
    def middleware(app: Any, next_middleware: Any) -> Any:
        set_caller(Identity(user_id=user_id, display_name=user_id))
        return next_middleware(app)

    return middleware


def test_a_router_shared_by_two_resolvers_serves_each_request_its_own_caller():
    # Given one Router (as each routes/ module has) included by two resolvers, as the
    # local stack's warm containers do, each signing in a different person
    router = Router()
    a, b = InvocationScopedResolver(), InvocationScopedResolver()
    a.use(middlewares=[_signed_in_as("ann@factory.example")])
    b.use(middlewares=[_signed_in_as("bob@factory.example")])
    answers: dict[str, Any] = {}

    @router.get("/api/who")
    def who() -> dict[str, str]:
        me = caller().user_id
        if me == "ann@factory.example":
            # When B serves Bob while Ann's request is still running on A
            answers["b"] = json.loads(b.resolve(_get("/api/who"), None)["body"])
        return {"me": me, "still": caller().user_id}

    a.include_router(router)
    b.include_router(router)  # the router now points at B
    answers["a"] = json.loads(a.resolve(_get("/api/who"), None)["body"])
    # Then each request saw its own caller, before and after the other one
    assert answers["a"] == {"me": "ann@factory.example", "still": "ann@factory.example"}
    assert answers["b"] == {"me": "bob@factory.example", "still": "bob@factory.example"}
    # and nobody is left signed in once the requests are over
    with pytest.raises(UnauthorizedError):
        caller()
