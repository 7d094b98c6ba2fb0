"""Web Push subscriptions (issue 19): one per device, at most ten per user.

Push is not a way into our network: an endpoint must be HTTPS on a known push service's
host (FCM, Mozilla, Apple, Windows), or — in `make dev` only — loopback HTTP, so tests
can run a push service of their own. Otherwise any user could make us POST anywhere.
"""

from __future__ import annotations

import base64
import binascii
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field

from warroom.dal import push as dal
from warroom.db import Database, get_database
from warroom.errors import NotFoundError, ValidationFailed
from warroom.settings import push_settings

# Host names of the push services browsers use; a subdomain of one counts too.
PUSH_HOSTS = (
    "fcm.googleapis.com",  # Chrome, Edge on Android, Samsung Internet
    "android.googleapis.com",
    "push.services.mozilla.com",  # Firefox (updates.push.services.mozilla.com)
    "push.apple.com",  # Safari (web.push.apple.com)
    "notify.windows.com",  # Edge on Windows (wns2-*.notify.windows.com)
)


class SubscriptionKeys(BaseModel):
    p256dh: str = Field(min_length=1, max_length=128)
    auth: str = Field(min_length=1, max_length=64)


class SubscriptionDraft(BaseModel):
    """A browser's `PushSubscription.toJSON()` (`expirationTime` is ignored)."""

    model_config = ConfigDict(extra="ignore")

    endpoint: str = Field(min_length=1, max_length=2048)
    keys: SubscriptionKeys


class SubscriptionRef(BaseModel):
    model_config = ConfigDict(extra="forbid")

    endpoint: str = Field(min_length=1, max_length=2048)


def _b64url(value: str, field: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError) as exc:
        raise ValidationFailed(f"keys.{field}: not base64url") from exc


def check_endpoint(endpoint: str) -> None:
    parts = urlsplit(endpoint)
    host = (parts.hostname or "").lower()
    if push_settings().allow_loopback and parts.scheme == "http" and host == "127.0.0.1":
        return
    known = any(host == h or host.endswith("." + h) for h in PUSH_HOSTS)
    if parts.scheme != "https" or not known or parts.port not in (None, 443) or parts.username:
        raise ValidationFailed(
            "endpoint: not a known push service (FCM, Mozilla, Apple or Windows over HTTPS)"
        )


def check_keys(keys: SubscriptionKeys) -> None:
    """RFC 8291: p256dh is an uncompressed P-256 point, auth a 16-byte secret."""
    from cryptography.hazmat.primitives.asymmetric import ec

    point = _b64url(keys.p256dh, "p256dh")
    if len(point) != 65 or point[0] != 4:
        raise ValidationFailed("keys.p256dh: not an uncompressed P-256 public key")
    try:
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
    except ValueError as exc:
        raise ValidationFailed("keys.p256dh: not a point on P-256") from exc
    if len(_b64url(keys.auth, "auth")) != 16:
        raise ValidationFailed("keys.auth: must be 16 bytes")


def subscribe(*, user_id: str, draft: SubscriptionDraft, db: Database | None = None) -> bool:
    """Store this device's subscription; True when it is new. The oldest beyond ten goes."""
    check_endpoint(draft.endpoint)
    check_keys(draft.keys)

    def operation(conn: dal.Conn) -> bool:
        with conn.transaction():
            return dal.save_subscription(
                conn,
                user_id=user_id,
                endpoint=draft.endpoint,
                p256dh=draft.keys.p256dh,
                auth=draft.keys.auth,
            )

    return (db or get_database()).run(operation)


def unsubscribe(*, user_id: str, endpoint: str, db: Database | None = None) -> None:
    found = (db or get_database()).run(
        lambda conn: dal.delete_subscription(conn, user_id=user_id, endpoint=endpoint)
    )
    if not found:
        raise NotFoundError("no such push subscription of yours")


def my_endpoints(*, user_id: str, db: Database | None = None) -> list[str]:
    return (db or get_database()).run(lambda conn: dal.endpoints_of(conn, user_id))
