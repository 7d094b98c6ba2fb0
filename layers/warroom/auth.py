"""Token verification: a Cognito JWT checked against the issuer's JWKS.

Checked: RS256 signature by a key of the issuer's JWKS, expiry (with a small leeway),
issuer, `token_use`, the audience (`aud` for ID tokens, `client_id` for access tokens),
and `email_verified` (the e-mail address is the user's identity). Tokens are verified, never trusted: the HTTP API's JWT authorizer and the
WebSocket authorizer do it at the edge, and the handlers do it again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from warroom.errors import ServiceUnavailable, UnauthorizedError
from warroom.lazy import Lazy
from warroom.models import normalize_user_id
from warroom.settings import AuthSettings, auth_settings


@dataclass(frozen=True)
class Identity:
    user_id: str
    display_name: str
    groups: tuple[str, ...] = ()


class TokenVerifier:
    def __init__(self, settings: AuthSettings) -> None:
        import jwt  # here, not at import: PyJWT and cryptography cost a cold start ~40 ms

        self._settings = settings
        # Keys are cached for the life of the container; an unknown `kid` refetches.
        self._jwks = jwt.PyJWKClient(
            settings.resolved_jwks_url, cache_keys=True, lifespan=3600, timeout=5
        )

    def verify(self, token: str | None) -> Identity:
        if not token:
            raise UnauthorizedError("a sign-in token is required")
        import jwt

        s = self._settings
        try:
            key = self._jwks.get_signing_key_from_jwt(token)
            claims: dict[str, Any] = jwt.decode(
                token,
                key.key,
                algorithms=["RS256"],
                issuer=s.issuer,
                leeway=s.leeway_seconds,
                options={"require": ["exp", "iss", "token_use"], "verify_aud": False},
            )
        except jwt.PyJWKClientConnectionError as exc:
            raise ServiceUnavailable("the sign-in keys cannot be fetched right now") from exc
        except (jwt.PyJWTError, jwt.PyJWKClientError) as exc:
            raise UnauthorizedError("the sign-in token is not valid") from exc
        if claims.get("token_use") != s.token_use:
            raise UnauthorizedError(f"a {s.token_use} token is required")
        audience = claims.get("aud") if s.token_use == "id" else claims.get("client_id")
        audiences = audience if isinstance(audience, list) else [audience]
        if s.audience not in audiences:
            raise UnauthorizedError("the sign-in token was issued for another application")
        email = claims.get("email")
        # The e-mail is the identity: only one the provider has verified names a user, or
        # anyone could sign up as (or change their address to) someone else's.
        verified = claims.get("email_verified") in (True, "true")
        if (s.token_use == "id" or email is not None) and not verified:
            raise UnauthorizedError("the sign-in token's e-mail address is not verified")
        try:
            user_id = normalize_user_id(str(email or claims.get("username") or ""))
        except ValueError as exc:
            raise UnauthorizedError("the sign-in token carries no e-mail address") from exc
        name = _printable(str(claims.get("name") or claims.get("preferred_username") or ""))
        name = name[:120] or user_id
        groups = tuple(str(g) for g in claims.get("cognito:groups", []) or [])
        return Identity(user_id=user_id, display_name=name, groups=groups)


def _printable(value: str) -> str:
    """A display name from the token, as text the directory can store: control
    characters and lone surrogates (legal in a JSON claim) dropped."""
    return "".join(
        ch for ch in value if ch.isprintable() and not "\ud800" <= ch <= "\udfff"
    ).strip()


_verifier = Lazy(lambda: TokenVerifier(auth_settings()))
token_verifier = _verifier.get


def reset_token_verifier() -> None:
    """Verify against the environment as it is now (tests change the issuer)."""
    auth_settings.cache_clear()
    _verifier.set(None)


def bearer_token(headers: dict[str, str] | None) -> str | None:
    for name, value in (headers or {}).items():
        if name.lower() == "authorization" and value.lower().startswith("bearer "):
            return value[7:].strip()
    return None
