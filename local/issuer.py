"""A local token issuer: RS256 ID tokens shaped like Cognito's, and their JWKS.

The handlers verify these exactly as they verify Cognito tokens (signature by a JWKS key,
issuer, audience, token_use, expiry); only the issuer URL differs.
"""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

TOKEN_LIFETIME_SECONDS = 12 * 3600


class LocalIssuer:
    def __init__(self, issuer: str, audience: str, key_file: Path) -> None:
        self.issuer = issuer
        self.audience = audience
        self._key = self._load_or_create(key_file)
        self.kid = "local-" + uuid.uuid5(uuid.NAMESPACE_URL, str(key_file)).hex[:12]

    @staticmethod
    def _load_or_create(path: Path) -> rsa.RSAPrivateKey:
        # Kept across restarts so signed-in browsers stay signed in.
        if path.exists():
            key = serialization.load_pem_private_key(path.read_bytes(), password=None)
            assert isinstance(key, rsa.RSAPrivateKey)
            return key
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        path.chmod(0o600)
        return key

    def jwks(self) -> dict[str, Any]:
        public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self._key.public_key()))
        return {"keys": [{**public, "kid": self.kid, "alg": "RS256", "use": "sig"}]}

    def mint(
        self,
        user_id: str,
        display_name: str,
        *,
        lifetime: int = TOKEN_LIFETIME_SECONDS,
        **extra: Any,
    ) -> str:
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": str(uuid.uuid5(uuid.NAMESPACE_URL, user_id)),
            "email": user_id,
            "email_verified": True,  # as Cognito says once the address is confirmed
            "name": display_name,
            "token_use": "id",
            "iat": now,
            "auth_time": now,
            "exp": now + lifetime,
            **extra,
        }
        # A claim given as None is left out (a test's way to drop one).
        claims = {name: value for name, value in claims.items() if value is not None}
        return jwt.encode(claims, self._key, algorithm="RS256", headers={"kid": self.kid})
