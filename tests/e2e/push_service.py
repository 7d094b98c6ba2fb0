"""A loopback push service of our own (RFC 8030), for the e2e tests of issue 19.

It hands out subscriptions whose keys the test holds, accepts the push POSTs our
backend sends, checks the VAPID JWT (RFC 8292: ES256, signed by the key in `k`, `aud`
this service's origin, `exp` within 24 hours, a `sub`), and decrypts the payload
(RFC 8291, aes128gcm) with the subscription's private key and auth secret. A
subscription can be told to answer 410 Gone, as a push service does for an
unsubscribed browser.
"""

from __future__ import annotations

import base64
import json
import os
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import http_ece
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class Delivery:
    token: str
    headers: dict[str, str]
    body: bytes
    payload: dict[str, Any]
    claims: dict[str, Any]


@dataclass
class Subscription:
    token: str
    endpoint: str
    private_key: ec.EllipticCurvePrivateKey
    auth: bytes
    answer: int = 201

    def as_json(self) -> dict[str, Any]:
        point = self.private_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return {
            "endpoint": self.endpoint,
            "keys": {"p256dh": b64url(point), "auth": b64url(self.auth)},
        }


@dataclass
class LoopbackPushService:
    origin: str = ""
    subscriptions: dict[str, Subscription] = field(default_factory=dict)
    deliveries: list[Delivery] = field(default_factory=list)
    rejections: list[str] = field(default_factory=list)
    lock: threading.Condition = field(default_factory=threading.Condition)

    def subscription(self, answer: int = 201) -> Subscription:
        token = uuid.uuid4().hex
        sub = Subscription(
            token,
            f"{self.origin}/push/{token}",
            ec.generate_private_key(ec.SECP256R1()),
            os.urandom(16),
            answer,
        )
        self.subscriptions[token] = sub
        return sub

    def to(self, sub: Subscription) -> list[Delivery]:
        with self.lock:
            return [d for d in self.deliveries if d.token == sub.token]

    def wait_for(self, sub: Subscription, count: int = 1, timeout: float = 20.0) -> list[Delivery]:
        """Block until `sub` has had `count` pushes; all of them."""
        deadline = time.monotonic() + timeout
        with self.lock:
            while True:
                found = [d for d in self.deliveries if d.token == sub.token]
                if len(found) >= count:
                    return found
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        f"{count} push(es) to {sub.token} did not arrive; "
                        f"had {len(found)}; rejections {self.rejections}"
                    )
                self.lock.wait(left)

    # --- one POST ------------------------------------------------------------------------
    def receive(self, token: str, headers: dict[str, str], body: bytes) -> int:
        sub = self.subscriptions.get(token)
        if sub is None:
            return 404
        try:
            claims = self._check_vapid(headers.get("authorization", ""))
            if headers.get("content-encoding") != "aes128gcm":
                raise ValueError(f"content-encoding {headers.get('content-encoding')}")
            if "ttl" not in headers:
                raise ValueError("no TTL")
            plain = http_ece.decrypt(
                body, private_key=sub.private_key, auth_secret=sub.auth, version="aes128gcm"
            )
            payload = json.loads(plain)
        except Exception as exc:  # anything wrong is a rejection the test will see
            with self.lock:
                self.rejections.append(f"{type(exc).__name__}: {exc}")
                self.lock.notify_all()
            return 400
        with self.lock:
            self.deliveries.append(Delivery(token, headers, body, payload, claims))
            self.lock.notify_all()
        return sub.answer

    def _check_vapid(self, authorization: str) -> dict[str, Any]:
        scheme, _, rest = authorization.partition(" ")
        if scheme.lower() != "vapid":
            raise ValueError(f"not a VAPID authorization: {authorization[:20]!r}")
        parts = dict(p.strip().split("=", 1) for p in rest.split(","))
        point = unb64url(parts["k"])
        key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
        claims = jwt.decode(parts["t"], key=key, algorithms=["ES256"], audience=self.origin)
        if not str(claims.get("sub", "")).startswith(("mailto:", "https:")):
            raise ValueError("no sub claim")
        if claims["exp"] > time.time() + 24 * 3600:
            raise ValueError("exp more than 24 hours ahead")
        return claims


def start_push_service() -> tuple[LoopbackPushService, ThreadingHTTPServer]:
    service = LoopbackPushService()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            token = self.path.rsplit("/", 1)[-1]
            headers = {k.lower(): v for k, v in self.headers.items()}
            status = service.receive(token, headers, body)
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    service.origin = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return service, server
