"""Domain errors: raised by the logic, translated to a response in one place per transport.

Each error carries a stable `code` (the wire contract's error codes) and a message a
person understands. No driver or AWS exception crosses the data layer unwrapped.
"""

from __future__ import annotations

from typing import Any, ClassVar


class DomainError(Exception):
    code: ClassVar[str] = "INTERNAL"
    http_status: ClassVar[int] = 500

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def wire_fields(self) -> dict[str, Any]:
        """Fields beside code and message that the error frame and HTTP body carry."""
        return {}


class UnauthorizedError(DomainError):
    code = "UNAUTHORIZED"
    http_status = 401


class ForbiddenError(DomainError):
    code = "FORBIDDEN"
    http_status = 403


class NotFoundError(DomainError):
    code = "NOT_FOUND"
    http_status = 404


class ValidationFailed(DomainError):
    code = "VALIDATION"
    http_status = 422


class EditWindowExpired(DomainError):
    code = "EDIT_WINDOW_EXPIRED"
    http_status = 409


class ConflictError(DomainError):
    code = "CONFLICT"
    http_status = 409


class IllegalMove(ConflictError):
    """A lifecycle move the incident's current state does not allow; `allowed` names
    the states it may move to."""

    def __init__(self, message: str, *, allowed: list[str]) -> None:
        super().__init__(message, allowed=allowed)
        self.allowed = allowed

    def wire_fields(self) -> dict[str, Any]:
        return {"allowed": self.allowed}


class PayloadTooLarge(DomainError):
    code = "PAYLOAD_TOO_LARGE"
    http_status = 413


class RateLimited(DomainError):
    """Over the user's token bucket; `retry_after` seconds until a token is back."""

    code = "RATE_LIMITED"
    http_status = 429

    def __init__(self, message: str, *, retry_after: float) -> None:
        super().__init__(message, retry_after=retry_after)
        self.retry_after = retry_after

    def wire_fields(self) -> dict[str, Any]:
        return {"retry_after": self.retry_after}


class ServiceUnavailable(DomainError):
    """The database could not be reached or no connection was free in time."""

    code = "UNAVAILABLE"
    http_status = 503


class ConfigurationError(DomainError):
    code = "INTERNAL"
    http_status = 500
