"""Sending Web Push (RFC 8030/8291/8292): the asynchronous path of issue 19.

A send's ack never waits on a push service: notices go through the push queue
(`warroom.push_queue`) and are sent here, by `functions/push` in the cloud and by the
local stack's background worker. Each notice becomes one encrypted (`aes128gcm`) POST per subscription
of each person, VAPID-signed, with a TTL, `Urgency: high` and a `Topic` per room (so a
later push about the same room replaces an unread one). A 404 or 410 from the push
service deletes that subscription.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from warroom.dal import push as push_dal
from warroom.dal import rooms as rooms_dal
from warroom.db import get_database
from warroom.lazy import Lazy
from warroom.logic.notices import TTL_SECONDS, Notice
from warroom.settings import push_settings

logger = logging.getLogger(__name__)

MAX_TEXT = 140  # characters of the message in a notification (a phone shows about two lines)


# --- the VAPID key ---------------------------------------------------------------------


def _load_vapid() -> Any:
    from py_vapid import Vapid

    from warroom.errors import ConfigurationError

    settings = push_settings()
    if settings.vapid_private_key_file:
        with open(settings.vapid_private_key_file, "rb") as handle:
            pem = handle.read()
    elif settings.vapid_secret_arn:
        import boto3

        secret = boto3.client("secretsmanager").get_secret_value(SecretId=settings.vapid_secret_arn)
        pem = secret["SecretString"].encode()
    else:
        raise ConfigurationError("no VAPID key: set VAPID_PRIVATE_KEY_FILE or VAPID_SECRET_ARN")
    try:
        return Vapid.from_pem(pem)
    except Exception as exc:  # py_vapid raises whatever cryptography raises
        # The stack's placeholder until someone puts the key in (docs/deploy.md)
        raise ConfigurationError("the VAPID secret holds no P-256 private key (PEM)") from exc


_vapid = Lazy(_load_vapid)
vapid = _vapid.get
set_vapid = _vapid.set


def vapid_public_key() -> str:
    """The application server key browsers subscribe with: the uncompressed P-256 point,
    base64url without padding."""
    import base64

    from cryptography.hazmat.primitives import serialization

    point = vapid().public_key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return base64.urlsafe_b64encode(point).rstrip(b"=").decode()


# --- one notice, sent ---------------------------------------------------------------------


def payload(notice: Notice, room_title: str) -> dict[str, Any]:
    """What the service worker shows: the room's title, the sender, the text cut to fit."""
    text = notice.text if len(notice.text) <= MAX_TEXT else notice.text[: MAX_TEXT - 1] + "…"
    return {
        "kind": notice.kind,
        "room_id": str(notice.room_id),
        "title": room_title,
        "sender": notice.sender,
        "text": text,
        "url": f"/#/rooms/{notice.room_id}",
    }


def send_notice(notice: Notice) -> int:
    """Push one notice to every subscription of its people; the number delivered."""
    from pywebpush import WebPushException, webpush

    def read(conn: push_dal.Conn) -> tuple[str, list[push_dal.StoredSubscription]]:
        room = rooms_dal.room(conn, notice.room_id)
        return (room.title if room else ""), push_dal.subscriptions_of(conn, list(notice.user_ids))

    title, subscriptions = get_database().run(read)
    if not subscriptions:
        return 0
    body = json.dumps(payload(notice, title), ensure_ascii=False)
    settings = push_settings()
    delivered = 0
    for sub in subscriptions:
        try:
            webpush(
                subscription_info={
                    "endpoint": sub.endpoint,
                    "keys": {"p256dh": sub.p256dh, "auth": sub.auth},
                },
                data=body,
                vapid_private_key=vapid(),
                vapid_claims={"sub": settings.vapid_subject},  # fresh: webpush fills in aud, exp
                content_encoding="aes128gcm",
                ttl=TTL_SECONDS[notice.kind],
                headers={"Urgency": "high", "Topic": notice.room_id.hex},
                timeout=settings.send_timeout_seconds,
            )
            delivered += 1
        except WebPushException as exc:
            status = exc.response.status_code if exc.response is not None else None
            if status in (404, 410):
                _forget(sub.endpoint)
            else:
                logger.warning("push to %s failed: %s", sub.endpoint.split("/")[2], exc)
        except OSError as exc:  # requests' connection errors are OSErrors
            logger.warning("push to %s failed: %s", sub.endpoint.split("/")[2], exc)
    return delivered


def _forget(endpoint: str) -> None:
    get_database().run(lambda conn: push_dal.forget_endpoint(conn, endpoint=endpoint))
