"""Room delivery: who hears of a change, and in what order. Used by the WebSocket router
and by the HTTP routes alike.

- A new message: the sender's ack first (its outbox is settled before the room is told),
  then the room, then room-list badges on members' user connections. The recipients
  come back from the write statement itself: no separate read of the connection table.
- Edits, deletes, reactions: the room.
- HTTP-made room events (status, membership): the numbered system message, the system
  event, and badges.
- Joins and departures: coalesced per room (at most one announcement per window; see
  docs/design.md "Joins and departures"), without waiting in any invocation; one left
  pending schedules its room's flush (warroom/flush_scheduler.py: an SQS delay queue in
  the cloud, an in-process timer locally), and the scheduled sweep flushes any left over.
"""

from __future__ import annotations

import logging
from uuid import UUID

from warroom import frames
from warroom.dal import presence as presence_dal
from warroom.dal.messages import Recipients
from warroom.db import Database, get_database
from warroom.fanout import Broadcaster, FanoutReport
from warroom.flush_scheduler import FlushScheduler, scheduler_from_settings
from warroom.lazy import Lazy
from warroom.logic.messages import Changed, Reacted, Sent
from warroom.models import Message
from warroom.settings import presence_settings


def join_window_seconds() -> float:
    """At most one join (and one departure) announcement per room per this many seconds."""
    return presence_settings().join_window_seconds


class RoomDelivery:
    def __init__(
        self,
        broadcaster: Broadcaster,
        *,
        db: Database | None = None,
        join_window: float | None = None,
        leave_grace: float | None = None,
    ) -> None:
        self.broadcaster = broadcaster
        self._db = db
        self.join_window = join_window if join_window is not None else join_window_seconds()
        # A departure is announced only if the person is not back within this many
        # seconds (a reload or a short signal loss is not "left").
        self.leave_grace = (
            leave_grace if leave_grace is not None else presence_settings().leave_grace_seconds
        )

    @property
    def db(self) -> Database:
        return self._db if self._db is not None else get_database()

    # --- messages ----------------------------------------------------------------
    def sent(self, sent: Sent, *, sender_connection: str | None = None) -> FanoutReport:
        """Ack (WebSocket senders; the HTTP send answers with it), room, badges."""
        message = sent.message
        report = FanoutReport()
        if sender_connection is not None:
            report.merge(
                self.broadcaster.post(
                    sender_connection, frames.ack_frame(message, sent.unresolved_mentions)
                )
            )
        report.merge(
            self.broadcaster.to_connections(sent.recipients.room, frames.message_frame(message))
        )
        report.merge(self.badges(message, sent.recipients))
        self.push_mentions(message)
        if sent.presence_pending:  # joins or departures waiting for the room's window
            report.merge(self.flush_presence(message.room_id))
        return report

    def push_mentions(self, message: Message) -> None:
        """Issue 19: the people a message mentions hear of it on their devices too, via
        the push queue (the ack has gone already, and nothing here waits on a push)."""
        mentioned = tuple(m for m in message.mentions if m != message.sender_id)
        if not mentioned:
            return
        from warroom.logic.notices import Notice
        from warroom.push_queue import push_queue

        text = message.content if isinstance(message.content, str) else ""
        notice = Notice("mention", mentioned, message.room_id, message.sender_display_name, text)
        try:
            push_queue().enqueue([notice])
        except Exception:  # the message is stored and told; a lost push is only logged
            logging.getLogger(__name__).exception("mention push could not be queued")

    def badges(self, message: Message, recipients: Recipients) -> FanoutReport:
        report = self.broadcaster.to_connections(
            recipients.mentioned, frames.notification_frame("mention", message)
        )
        return report.merge(
            self.broadcaster.to_connections(
                recipients.badges, frames.notification_frame("message", message)
            )
        )

    def edited(self, changed: Changed) -> FanoutReport:
        return self.broadcaster.to_connections(
            changed.recipients.room, frames.edited_frame(changed.message)
        )

    def deleted(self, changed: Changed) -> FanoutReport:
        return self.broadcaster.to_connections(
            changed.recipients.room, frames.deleted_frame(changed.message)
        )

    def reacted(self, reacted: Reacted) -> FanoutReport:
        return self.broadcaster.to_connections(
            reacted.recipients.room, frames.reactions_frame(reacted.change)
        )

    def room_events(self, events: list[tuple[Message, Recipients]]) -> FanoutReport:
        """HTTP-made changes reach live clients too: the numbered system message (so no
        client sees a gap), the system event, and room-list badges (a member just added
        is a member by then, so their room list hears of the room too)."""
        report = FanoutReport()
        for event, recipients in events:
            content = event.content if isinstance(event.content, dict) else {}
            room = str(event.room_id)
            report.merge(
                self.broadcaster.to_connections(recipients.room, frames.message_frame(event))
            )
            report.merge(
                self.broadcaster.to_connections(
                    recipients.room,
                    frames.system_frame(
                        str(content.get("event")),
                        str(content.get("user_id")),
                        room_id=room,
                        change_seq=event.change_seq,
                    ),
                )
            )
            report.merge(self.badges(event, recipients))
        return report

    # --- joins and departures ------------------------------------------------------
    def presence_changed(
        self, room_id: UUID, *, user_id: str, display_name: str, event: str
    ) -> FanoutReport:
        """A join or a departure, announced now with whatever is pending if the room has
        not announced within the window, else left pending (one statement either way).
        Nothing here waits: pending changes are announced by the room's next claim — the
        next join or departure, the next message sent in the room, or the flush the
        pending change scheduled for the end of the window (flush_scheduler.py)."""
        change = presence_dal.PresenceChange(user_id, display_name, event)
        return self._claim(room_id, change)

    def flush_presence(self, room_id: UUID) -> FanoutReport:
        return self._claim(room_id, None)

    def _claim(self, room_id: UUID, change: presence_dal.PresenceChange | None) -> FanoutReport:
        claim = self.db.run(
            lambda conn: presence_dal.claim(
                conn,
                room_id=room_id,
                window_seconds=self.join_window,
                change=change,
                leave_grace_seconds=self.leave_grace,
            )
        )
        if claim.changes is None:
            if change is not None:  # left pending: its room is flushed once it is due
                flush_scheduler().schedule(room_id, self._due_in(change))
            return FanoutReport()
        return self._announce(claim.changes, claim.connections)

    def _due_in(self, change: presence_dal.PresenceChange) -> float:
        """When a change left pending can be announced: a join once the room's window has
        passed; a departure once its grace has (it is recorded due then, and a flush
        at the window would find nothing due and schedule nothing more)."""
        if change.event == "user_left" and self.leave_grace > 0:
            return max(self.leave_grace, self.join_window)
        return self.join_window

    def flush_due_presence(self) -> FanoutReport:
        """Announce every room's pending joins and departures whose window has passed."""
        report = FanoutReport()
        due = self.db.run(
            lambda conn: presence_dal.rooms_due(conn, window_seconds=self.join_window)
        )
        for room_id in due:
            report.merge(self.flush_presence(room_id))
        return report

    def _announce(
        self, changes: list[presence_dal.PresenceChange], connections: list[str]
    ) -> FanoutReport:
        last: dict[str, presence_dal.PresenceChange] = {}
        for change in changes:  # a person's last change in the window wins
            last.pop(change.user_id, None)
            last[change.user_id] = change
        report = FanoutReport()
        for event in ("user_joined", "user_left"):
            users = [(c.user_id, c.display_name) for c in last.values() if c.event == event]
            if users:
                report.merge(
                    self.broadcaster.to_connections(
                        connections, frames.presence_frame(event, users)
                    )
                )
        return report


def _delivery_from_settings() -> RoomDelivery:
    from warroom.fanout import broadcaster

    return RoomDelivery(broadcaster())


_delivery = Lazy(_delivery_from_settings)
room_delivery = _delivery.get
set_room_delivery = _delivery.set


def flush_room(room_id: UUID) -> int:
    """Announce the room's pending joins and departures, if any (the delayed flush a
    pending change scheduled: SQS's functions/presence_flush, or the local timer). A room
    with nothing pending is left alone: claiming it would only delay its next join."""
    delivery = room_delivery()
    if not delivery.db.run(lambda conn: presence_dal.has_pending(conn, room_id=room_id)):
        return 0
    return delivery.flush_presence(room_id).delivered


_scheduler: Lazy[FlushScheduler] = Lazy(lambda: scheduler_from_settings(flush_room))
flush_scheduler = _scheduler.get
set_flush_scheduler = _scheduler.set
