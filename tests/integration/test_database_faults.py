"""Faults in the database connection lose no acknowledged message, and a busy pool says so."""

from __future__ import annotations

import threading
import uuid

import pytest

from warroom.db import PooledDatabase, SingleConnectionDatabase
from warroom.errors import ServiceUnavailable
from warroom.logic import messages
from warroom.models import MessageDraft
from warroom.settings import DatabaseSettings

pytestmark = pytest.mark.integration


def _send(db, room, sender, text, client_msg_id=None):
    draft = MessageDraft(client_msg_id=client_msg_id or uuid.uuid4(), content=text)
    return messages.send_message(room_id=room.room_id, sender_id=sender, draft=draft, db=db)


def _kill_backends(sql, application_name="warroom"):
    sql.execute(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        "WHERE application_name = %s AND datname = current_database() AND pid <> pg_backend_pid()",
        (application_name,),
    )


@pytest.mark.parametrize("kind", ["single", "pool"])
def test_a_dropped_connection_is_replaced_and_the_send_goes_through(
    database_url, make_user, make_room, sql, kind
):
    # Given a warm connection (Lambda's single one, or a pool's) that has served a send
    owner = make_user("owner")
    room = make_room(owner)
    settings = DatabaseSettings(pool_size=1, max_overflow=0, pool_timeout=5)
    db = (
        SingleConnectionDatabase(settings, database_url)
        if kind == "single"
        else PooledDatabase(settings, database_url)
    )
    try:
        first = _send(db, room, owner, "before the drop")
        # When the server drops it (a failover, a proxy restart)
        _kill_backends(sql)
        # Then the next send reconnects and succeeds, numbered right after the first
        second = _send(db, room, owner, "after the drop")
        assert (
            second.created and second.message.sequence_number == first.message.sequence_number + 1
        )
    finally:
        db.close()


def test_a_retried_send_after_an_ambiguous_failure_is_not_stored_twice(db, make_user, make_room):
    # Given a send whose reply was lost: the client retries with the same client_msg_id
    owner = make_user("owner")
    room = make_room(owner)
    client_msg_id = uuid.uuid4()
    original = _send(db, room, owner, "pump tripped", client_msg_id)
    # When the retry arrives
    retry = _send(db, room, owner, "pump tripped", client_msg_id)
    # Then it is the same message: acknowledged once, stored once
    assert not retry.created and retry.message.message_id == original.message.message_id


def test_a_busy_pool_gives_a_clear_error_after_its_timeout(database_url, make_user, make_room):
    # Given a pool of one connection, held by a slow operation
    owner = make_user("owner")
    room = make_room(owner)
    db = PooledDatabase(
        DatabaseSettings(pool_size=1, max_overflow=0, pool_timeout=0.5), database_url
    )
    holding, release = threading.Event(), threading.Event()

    def hold(conn):
        holding.set()
        release.wait(10)

    worker = threading.Thread(target=db.run, args=(hold,))
    worker.start()
    holding.wait(5)
    try:
        # When another operation needs a connection
        with pytest.raises(ServiceUnavailable) as refused:
            _send(db, room, owner, "waiting")
        # Then it fails after the timeout with a message a person understands
        assert "no database connection was free within 0.5 s" in refused.value.message
    finally:
        release.set()
        worker.join()
        db.close()
