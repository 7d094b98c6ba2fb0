"""What happens on the WebSocket: connect, disconnect and each inbound frame.

A small typed dispatcher (Powertools has no WebSocket router): each route names the
pydantic model of its frame and the function that serves it. The functions call the
message service, answer the caller and fan out to the room through the Management API.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ValidationError

from warroom import frames
from warroom.auth import Identity
from warroom.connections import ConnectionRecord, ConnectionStore, new_record
from warroom.errors import ForbiddenError, UnauthorizedError, ValidationFailed
from warroom.fanout import Broadcaster, FanoutReport, encode_frame
from warroom.lazy import Lazy
from warroom.logic import messages, rooms
from warroom.models import Message

logger = logging.getLogger(__name__)


@dataclass
class Outcome:
    """What one event did: frames for the caller and fan-out totals (for metrics)."""

    replies: list[dict[str, Any]] = field(default_factory=list)
    fanout: FanoutReport = field(default_factory=FanoutReport)


class Realtime:
    def __init__(self, store: ConnectionStore, broadcaster: Broadcaster) -> None:
        self.store = store
        self.broadcaster = broadcaster
        self._routes: dict[
            str, tuple[type[BaseModel], Callable[[ConnectionRecord, Any], Outcome]]
        ] = {
            "message": (frames.SendFrame, self._send),
            "edit_message": (frames.EditFrame, self._edit),
            "delete_message": (frames.DeleteFrame, self._delete),
            "add_reaction": (frames.ReactionFrame, self._add_reaction),
            "remove_reaction": (frames.ReactionFrame, self._remove_reaction),
            "typing": (frames.TypingFrame, self._typing),
            "ping": (frames.EmptyFrame, self._ping),
            "sync": (frames.SyncFrame, self._sync),
            "presence": (frames.EmptyFrame, self._presence),
        }

    # --- connection lifecycle -------------------------------------------------
    def connect(
        self, *, identity: Identity, connection_id: str, room_id: str | None, connected_at: str
    ) -> Outcome:
        """Membership is checked before the connection is stored: 403 otherwise. The
        directory is kept in step by the sign-in trigger (dev login locally) and by
        GET /api/me, not by a write on every connect."""
        if room_id is not None:
            try:
                room_uuid = UUID(room_id)
            except ValueError as exc:
                raise ValidationFailed("room_id is not a valid id") from exc
            rooms.member_role(room_id=room_uuid, user_id=identity.user_id)  # 403 / 404
            room_id = str(room_uuid)
        already_here = room_id is not None and any(
            r.user_id == identity.user_id for r in self.store.in_room(room_id)
        )
        self.store.put(
            new_record(
                connection_id=connection_id,
                user_id=identity.user_id,
                display_name=identity.display_name,
                room_id=room_id,
                connected_at=connected_at,
            )
        )
        outcome = Outcome()
        if room_id is not None and not already_here:
            outcome.fanout = self.broadcaster.to_room(
                room_id,
                frames.system_frame(
                    "user_joined", identity.user_id, display_name=identity.display_name
                ),
                exclude=connection_id,
            )
        return outcome

    def disconnect(self, connection_id: str) -> Outcome:
        record = self.store.delete(connection_id)
        outcome = Outcome()
        if record is None or record.room_id is None:
            return outcome
        still_here = any(r.user_id == record.user_id for r in self.store.in_room(record.room_id))
        if not still_here:
            outcome.fanout = self.broadcaster.to_room(
                record.room_id,
                frames.system_frame("user_left", record.user_id, display_name=record.display_name),
            )
        return outcome

    def connection(self, connection_id: str) -> ConnectionRecord:
        record = self.store.get(connection_id)
        if record is None:
            raise UnauthorizedError("this connection is not registered; reconnect")
        return record

    # --- frames ---------------------------------------------------------------
    def handle(self, connection_id: str, route: str, payload: Any) -> Outcome:
        if route not in self._routes:
            kind = payload.get("type") if isinstance(payload, dict) else None
            raise ValidationFailed(
                f"unknown frame type '{kind}'"
                if kind
                else "a frame must be a JSON object with a 'type'"
            )
        model, serve = self._routes[route]
        try:
            frame = model.model_validate(payload)
        except ValidationError as exc:
            err = exc.errors()[0]
            where = ".".join(str(p) for p in err["loc"]) or "frame"
            raise ValidationFailed(f"{where}: {err['msg']}") from exc
        record = self.connection(connection_id)
        if record.room_id is None and route not in ("ping",):
            raise ForbiddenError("a user connection only receives notifications; open a room")
        return serve(record, frame)

    def _room(self, record: ConnectionRecord) -> UUID:
        assert record.room_id is not None
        return UUID(record.room_id)

    def _send(self, record: ConnectionRecord, frame: frames.SendFrame) -> Outcome:
        result = messages.send_message(
            room_id=self._room(record), sender_id=record.user_id, draft=frame
        )
        message = result.message
        if not result.created:
            # A resend: the room already had it; the sender may have missed it.
            return Outcome(replies=[frames.ack_frame(message), frames.message_frame(message)])
        # The sender hears first: the ack settles its outbox before the room is told.
        outcome = Outcome(
            fanout=self.broadcaster.post(record.connection_id, frames.ack_frame(message))
        )
        outcome.fanout.merge(
            self.broadcaster.to_room(record.room_id or "", frames.message_frame(message))
        )
        outcome.fanout.merge(self.notify_members(message, exclude=record.user_id))
        return outcome

    def notify_members(self, message: Message, *, exclude: str | None = None) -> FanoutReport:
        """Room-list badges: a notification on every member's user connections."""
        listening = [r for r in self.store.user_connections() if r.user_id != exclude]
        if not listening:
            return FanoutReport()
        members = set(rooms.room_member_ids(room_id=message.room_id))
        mention_ids = [
            r.connection_id
            for r in listening
            if r.user_id in members and r.user_id in message.mentions
        ]
        other_ids = [
            r.connection_id
            for r in listening
            if r.user_id in members and r.user_id not in message.mentions
        ]
        report = self.broadcaster.to_connections(
            mention_ids, frames.notification_frame("mention", message)
        )
        return report.merge(
            self.broadcaster.to_connections(
                other_ids, frames.notification_frame("message", message)
            )
        )

    def _edit(self, record: ConnectionRecord, frame: frames.EditFrame) -> Outcome:
        message = messages.edit_message(
            message_id=frame.message_id,
            user_id=record.user_id,
            content=frame.content,
            mentions=frame.mentions,
        )
        return Outcome(
            fanout=self.broadcaster.to_room(str(message.room_id), frames.edited_frame(message))
        )

    def _delete(self, record: ConnectionRecord, frame: frames.DeleteFrame) -> Outcome:
        message = messages.delete_message(message_id=frame.message_id, user_id=record.user_id)
        return Outcome(
            fanout=self.broadcaster.to_room(str(message.room_id), frames.deleted_frame(message))
        )

    def _react(self, record: ConnectionRecord, frame: frames.ReactionFrame, add: bool) -> Outcome:
        change = messages.add_reaction if add else messages.remove_reaction
        result = change(message_id=frame.message_id, user_id=record.user_id, emoji=frame.emoji)
        return Outcome(
            fanout=self.broadcaster.to_room(str(result.room_id), frames.reactions_frame(result))
        )

    def _add_reaction(self, record: ConnectionRecord, frame: frames.ReactionFrame) -> Outcome:
        return self._react(record, frame, True)

    def _remove_reaction(self, record: ConnectionRecord, frame: frames.ReactionFrame) -> Outcome:
        return self._react(record, frame, False)

    def _typing(self, record: ConnectionRecord, frame: frames.TypingFrame) -> Outcome:
        typing = {
            "type": "typing",
            "user_id": record.user_id,
            "display_name": record.display_name,
            "is_typing": frame.is_typing,
        }
        return Outcome(
            fanout=self.broadcaster.to_room(
                record.room_id or "", typing, exclude=record.connection_id
            )
        )

    def _ping(self, record: ConnectionRecord, frame: frames.EmptyFrame) -> Outcome:
        return Outcome(replies=[{"type": "pong"}])

    def _sync(self, record: ConnectionRecord, frame: frames.SyncFrame) -> Outcome:
        page = messages.history(
            room_id=self._room(record),
            user_id=record.user_id,
            after_seq=frame.after_seq,
            limit=frame.limit or 200,
        )
        return Outcome(replies=[sync_frame(page.messages, page.has_more)])

    def _presence(self, record: ConnectionRecord, frame: frames.EmptyFrame) -> Outcome:
        # Presence is also a read of the room: a member removed since connecting is refused.
        rooms.member_role(room_id=self._room(record), user_id=record.user_id)
        online: dict[str, str] = {}
        for r in self.store.in_room(record.room_id or ""):
            online.setdefault(r.user_id, r.display_name)
        return Outcome(
            replies=[
                {
                    "type": "presence",
                    "online": [
                        {"user_id": u, "display_name": n} for u, n in sorted(online.items())
                    ],
                }
            ]
        )

    def remove_from_room(self, room_id: UUID, user_id: str) -> None:
        """A member removed from a room loses its live connections to it at once."""
        for record in self.store.in_room(str(room_id)):
            if record.user_id == user_id:
                self.store.delete(record.connection_id)
                self.broadcaster.close(record.connection_id)


def _realtime_from_settings() -> Realtime:
    from warroom.connections import connection_store
    from warroom.fanout import broadcaster

    return Realtime(connection_store(), broadcaster())


_realtime = Lazy(_realtime_from_settings)
realtime = _realtime.get
set_realtime = _realtime.set


def sync_frame(found: list[Message], has_more: bool) -> dict[str, Any]:
    """A `sync` reply that fits in one 128 KB frame: fewer messages (has_more tells the
    client to ask again), and a message too big on its own goes as a pointer
    (`content_truncated`) that the client reads over HTTP."""
    dumped = [m.model_dump(mode="json") for m in found]
    while True:
        reply = {"type": "sync", "messages": dumped, "has_more": has_more}
        if encode_frame(reply) is not None:
            return reply
        if len(dumped) > 1:
            dumped, has_more = dumped[: len(dumped) // 2], True
        else:
            dumped = [{**dumped[0], "content": None, "content_truncated": True}]
