"""The WebSocket router: connect, disconnect and each inbound frame.

A small typed dispatcher (Powertools has no WebSocket router): the route table in
`warroom.frames.ROUTE_FRAMES` names each route's frame model; each route here is served
by one method. Domain errors and faults become an `error` frame in one place
(`handle`). Who hears of a change is the room-delivery service's job
(`warroom.delivery`), shared with the HTTP routes.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ValidationError

from warroom import frames, inbound
from warroom.auth import Identity
from warroom.bounds import MAX_MESSAGE_BYTES, fit_messages
from warroom.connections import ConnectionRecord, ConnectionStore
from warroom.delivery import RoomDelivery
from warroom.errors import (
    DomainError,
    ForbiddenError,
    NotFoundError,
    UnauthorizedError,
    ValidationFailed,
)
from warroom.fanout import Broadcaster, FanoutReport
from warroom.lazy import Lazy
from warroom.logic import messages, rooms
from warroom.models import Message

logger = logging.getLogger(__name__)

NOT_REGISTERED = "this connection is not registered; reconnect"
SYNC_BUDGET = MAX_MESSAGE_BYTES


@dataclass
class Outcome:
    """What one event did: frames for the caller, fan-out totals (for metrics), and
    whether the caller's socket is to be closed after the replies."""

    replies: list[dict[str, Any]] = field(default_factory=list)
    fanout: FanoutReport = field(default_factory=FanoutReport)
    close: bool = False


class _KnownConnections:
    """Connection rows this process has read. A row never changes while it exists, and a
    frame can only come from a live socket, so a cached row is never wrong in a way that
    matters: the write statements check membership and role themselves. A frame's usual
    path then costs no lookup, and a send is one round trip."""

    def __init__(self, size: int = 20_000) -> None:
        self._rows: OrderedDict[str, ConnectionRecord] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def get(self, connection_id: str) -> ConnectionRecord | None:
        with self._lock:
            return self._rows.get(connection_id)

    def put(self, record: ConnectionRecord) -> None:
        with self._lock:
            self._rows[record.connection_id] = record
            while len(self._rows) > self._size:
                self._rows.popitem(last=False)

    def drop(self, connection_id: str) -> None:
        with self._lock:
            self._rows.pop(connection_id, None)


Route = Callable[[ConnectionRecord, Any], Outcome]


class Realtime:
    def __init__(
        self, store: ConnectionStore, broadcaster: Broadcaster, delivery: RoomDelivery | None = None
    ) -> None:
        self.store = store
        self.broadcaster = broadcaster
        self.delivery = delivery or RoomDelivery(broadcaster)
        self._known = _KnownConnections()
        self._routes: dict[str, Route] = {
            "message": self._send,
            "edit_message": self._edit,
            "delete_message": self._delete,
            "add_reaction": self._add_reaction,
            "remove_reaction": self._remove_reaction,
            "typing": self._typing,
            "ping": self._ping,
            "sync": self._sync,
            "presence": self._presence,
        }
        assert set(self._routes) == set(frames.ROUTE_FRAMES), "every route is served"

    # --- connection lifecycle -------------------------------------------------
    def connect(
        self, *, identity: Identity, connection_id: str, room_id: str | None, connected_at: str
    ) -> Outcome:
        """Membership is checked and the row written in one statement: 403 / 404
        otherwise. A user's first connection to the room is announced (coalesced)."""
        if room_id is None:
            stored = self.store.register_user(
                connection_id=connection_id,
                user_id=identity.user_id,
                display_name=identity.display_name,
            )
            if not stored:
                raise ForbiddenError("this account is deactivated")
            return Outcome()
        try:
            room_uuid = UUID(room_id)
        except ValueError as exc:
            raise ValidationFailed("room_id is not a valid id") from exc
        registration = self.store.register_room(
            connection_id=connection_id,
            user_id=identity.user_id,
            display_name=identity.display_name,
            room_id=room_uuid,
        )
        if not registration.room_exists:
            raise NotFoundError(f"incident room {room_uuid} does not exist")
        if not registration.active:
            raise ForbiddenError("this account is deactivated")
        if registration.role is None:
            raise ForbiddenError("you are not a member of this incident room")
        outcome = Outcome()
        if not registration.already_here:
            outcome.fanout = self.delivery.presence_changed(
                room_uuid,
                user_id=identity.user_id,
                display_name=identity.display_name,
                event="user_joined",
            )
        return outcome

    def disconnect(self, connection_id: str) -> Outcome:
        self._known.drop(connection_id)
        departure = self.store.delete(connection_id)
        outcome = Outcome()
        if departure is None or departure.connection.room_id is None or departure.still_here:
            return outcome
        record = departure.connection
        assert record.room_id is not None
        outcome.fanout = self.delivery.presence_changed(
            record.room_id,
            user_id=record.user_id,
            display_name=record.display_name,
            event="user_left",
        )
        return outcome

    def connection(self, connection_id: str) -> ConnectionRecord:
        record = self._known.get(connection_id)
        if record is None:
            record = self.store.get(connection_id)
            if record is None:
                raise UnauthorizedError(NOT_REGISTERED)
            self._known.put(record)
        return record

    # --- frames ---------------------------------------------------------------
    def handle(self, connection_id: str, route: str, payload: Any) -> Outcome:
        """Serve one frame. Every refusal and fault becomes an `error` frame here; a frame
        from a connection that is not registered also closes the socket, so the client
        reconnects at once instead of waiting for its heartbeat."""
        echo = payload.get("client_msg_id") if isinstance(payload, dict) else None
        # Echoed in the error frame, so only a string that encodes.
        client_msg_id = echo if isinstance(echo, str) and not inbound.text_problem(echo) else None
        try:
            return self._dispatch(connection_id, route, payload)
        except UnauthorizedError as exc:
            return Outcome(
                replies=[frames.error_frame(exc.code, exc.message, client_msg_id)], close=True
            )
        except DomainError as exc:
            if exc.http_status >= 500:
                logger.exception("frame failed", extra={"route": route})
            return Outcome(
                replies=[
                    frames.error_frame(exc.code, exc.message, client_msg_id, **exc.wire_fields())
                ]
            )
        except Exception:
            # Never a stack trace to the client; the log has it under the correlation id.
            logger.exception("unexpected error", extra={"route": route})
            return Outcome(
                replies=[
                    frames.error_frame(
                        "INTERNAL", "something went wrong on our side; try again", client_msg_id
                    )
                ]
            )

    def respond(self, connection_id: str, outcome: Outcome) -> None:
        """Post the replies to the caller, then close its socket if the outcome says so."""
        for reply in outcome.replies:
            outcome.fanout.merge(self.broadcaster.post(connection_id, reply))
        if outcome.close:
            self._known.drop(connection_id)
            self.broadcaster.close(connection_id)

    def _dispatch(self, connection_id: str, route: str, payload: Any) -> Outcome:
        # Who is asking comes first: an unregistered connection learns nothing about its
        # frame's fields (a cached row on the usual path, so no round trip).
        record = self.connection(connection_id)
        # NUL, lone surrogates, nesting: VALIDATION naming the field (warroom.inbound).
        inbound.check_tree(payload)
        serve = self._routes.get(route)
        if serve is None:
            kind = payload.get("type") if isinstance(payload, dict) else None
            raise ValidationFailed(
                f"unknown frame type '{kind}'"
                if kind
                else "a frame must be a JSON object with a 'type'"
            )
        model: type[BaseModel] = frames.ROUTE_FRAMES[route]
        try:
            frame = model.model_validate(payload)
        except ValidationError as exc:
            err = exc.errors()[0]
            where = ".".join(str(p) for p in err["loc"]) or "frame"
            raise ValidationFailed(f"{where}: {err['msg']}") from exc
        if record.room_id is None and route != "ping":
            raise ForbiddenError("a user connection only receives notifications; open a room")
        return serve(record, frame)

    @staticmethod
    def _room(record: ConnectionRecord) -> UUID:
        assert record.room_id is not None
        return record.room_id

    def _send(self, record: ConnectionRecord, frame: frames.SendFrame) -> Outcome:
        sent = messages.send_message(
            room_id=self._room(record), sender_id=record.user_id, draft=frame
        )
        if not sent.created:
            # A resend: the room already had it; the sender may have missed it.
            return Outcome(
                replies=[frames.ack_frame(sent.message), frames.message_frame(sent.message)]
            )
        return Outcome(fanout=self.delivery.sent(sent, sender_connection=record.connection_id))

    def _edit(self, record: ConnectionRecord, frame: frames.EditFrame) -> Outcome:
        changed = messages.edit_message(
            message_id=frame.message_id,
            user_id=record.user_id,
            content=frame.content,
            mentions=frame.mentions,
        )
        return Outcome(fanout=self.delivery.edited(changed))

    def _delete(self, record: ConnectionRecord, frame: frames.DeleteFrame) -> Outcome:
        changed = messages.delete_message(message_id=frame.message_id, user_id=record.user_id)
        if not changed.recipients.room:  # deleted before: only the caller hears again
            return Outcome(replies=[frames.deleted_frame(changed.message)])
        return Outcome(fanout=self.delivery.deleted(changed))

    def _react(self, record: ConnectionRecord, frame: frames.ReactionFrame, add: bool) -> Outcome:
        change = messages.add_reaction if add else messages.remove_reaction
        reacted = change(message_id=frame.message_id, user_id=record.user_id, emoji=frame.emoji)
        return Outcome(fanout=self.delivery.reacted(reacted))

    def _add_reaction(self, record: ConnectionRecord, frame: frames.ReactionFrame) -> Outcome:
        return self._react(record, frame, True)

    def _remove_reaction(self, record: ConnectionRecord, frame: frames.ReactionFrame) -> Outcome:
        return self._react(record, frame, False)

    def _typing(self, record: ConnectionRecord, frame: frames.TypingFrame) -> Outcome:
        typing = frames.typing_frame(record.user_id, record.display_name, frame.is_typing)
        # The audience read also tells whether the typist is still active: no extra trip.
        audience = self.store.audience_of(self._room(record), record.user_id)
        if audience is None:
            raise ForbiddenError("this account is deactivated")
        return Outcome(
            fanout=self.broadcaster.to_connections(
                (r.connection_id for r in audience if r.connection_id != record.connection_id),
                typing,
            )
        )

    def _ping(self, record: ConnectionRecord, frame: frames.EmptyFrame) -> Outcome:
        return Outcome(replies=[frames.pong_frame()])

    def _sync(self, record: ConnectionRecord, frame: frames.SyncFrame) -> Outcome:
        if frame.after_change is not None:
            page = messages.changed_since(
                room_id=self._room(record),
                user_id=record.user_id,
                after_change=frame.after_change,
                limit=frame.limit or 200,
                max_bytes=SYNC_BUDGET,
            )
            return Outcome(
                replies=[
                    changes_sync_frame(
                        page.messages, page.has_more, frame.after_change, page.change_seq
                    )
                ]
            )
        assert frame.after_seq is not None
        history = messages.history(
            room_id=self._room(record),
            user_id=record.user_id,
            after_seq=frame.after_seq,
            limit=frame.limit or 200,
            max_bytes=SYNC_BUDGET,
        )
        return Outcome(replies=[sync_frame(history.messages, history.has_more)])

    def _presence(self, record: ConnectionRecord, frame: frames.EmptyFrame) -> Outcome:
        # Presence is also a read of the room: a member removed since connecting is refused.
        room_id = self._room(record)
        rooms.member_role(room_id=room_id, user_id=record.user_id)
        online: dict[str, str] = {}
        for r in self.store.in_room(room_id):
            online.setdefault(r.user_id, r.display_name)
        return Outcome(replies=[frames.online_frame(online)])

    def close_connections(self, connection_ids: list[str]) -> None:
        """Close sockets whose rows are already gone (a member removed from a room)."""
        for connection_id in connection_ids:
            self._known.drop(connection_id)
            self.broadcaster.close(connection_id)


def _realtime_from_settings() -> Realtime:
    from warroom.connections import connection_store
    from warroom.delivery import room_delivery
    from warroom.fanout import broadcaster

    return Realtime(connection_store(), broadcaster(), room_delivery())


_realtime = Lazy(_realtime_from_settings)
realtime = _realtime.get
set_realtime = _realtime.set


def sync_frame(found: list[Message], has_more: bool) -> dict[str, Any]:
    """A `sync` reply (by number) that fits in one 128 KB frame: fewer messages (has_more
    tells the client to ask again from the last number), and a message too big on its
    own goes as a pointer (`content_truncated`) that the client reads over HTTP. One
    pass; it always ends and always holds at least one message when there is one."""
    kept = fit_messages(found, SYNC_BUDGET)
    return frames.sync_reply(kept, has_more or len(kept) < len(found))


def changes_sync_frame(
    found: list[Message], has_more: bool, after_change: int, resume: int
) -> dict[str, Any]:
    """A `sync` reply by change number, cut by bytes the same way; `change_seq` is where
    to resume (the last change included when cut)."""
    kept = fit_messages(found, SYNC_BUDGET)
    if len(kept) < len(found):
        has_more, resume = True, found[len(kept) - 1].change_seq
    return frames.sync_reply(kept, has_more, after_change=after_change, change_seq=resume)
