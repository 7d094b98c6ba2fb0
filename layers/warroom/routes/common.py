"""What every route module shares: who is asking, the bounded list answer, and the
announcement of HTTP-made room events.

Route modules are Powertools `Router`s defined once per process and included into every
resolver `build_app` makes (the local stack runs several warm containers, each with its
own resolver, in one process). A `Router` delegates `context` and `current_event` to the
last resolver that included it, so routes never read them: the caller's identity is kept
per request in a context variable that `build_app`'s authentication sets and its resolver
clears (`caller()` below).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from warroom.auth import Identity
from warroom.bounds import MAX_HTTP_RESPONSE_BYTES, fit_messages
from warroom.dal.messages import Recipients
from warroom.errors import UnauthorizedError
from warroom.models import Message

_caller: ContextVar[Identity | None] = ContextVar("warroom_http_caller", default=None)


def caller() -> Identity:
    """The verified identity of the request being served (401 if there is none)."""
    identity = _caller.get()
    if identity is None:
        raise UnauthorizedError("a sign-in token is required")
    return identity


def set_caller(identity: Identity) -> None:
    """Called by the resolver's authentication once the token is verified."""
    _caller.set(identity)


@contextmanager
def request_scope() -> Iterator[None]:
    """No identity before authentication, and none left behind after the request (a
    thread of the local stack serves many)."""
    token = _caller.set(None)
    try:
        yield
    finally:
        _caller.reset(token)


def announce(events: list[tuple[Message, Recipients]]) -> None:
    """HTTP-made changes reach live clients too (see `RoomDelivery.room_events`)."""
    if events:
        from warroom.delivery import room_delivery

        room_delivery().room_events(events)


def bounded(key: str, found: list[Message]) -> dict[str, Any]:
    """A list answer cut by bytes to stay under the HTTP limit, saying `has_more`."""
    kept = fit_messages(found, MAX_HTTP_RESPONSE_BYTES)
    return {key: kept, "has_more": len(kept) < len(found)}
