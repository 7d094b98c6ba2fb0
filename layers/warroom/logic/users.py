"""The user directory: kept in step with the identity provider, searched when adding members."""

from __future__ import annotations

from warroom.dal import users as dal
from warroom.db import Database, get_database
from warroom.errors import ForbiddenError, NotFoundError, ValidationFailed
from warroom.models import User, normalize_user_id


def parse_user_id(value: str) -> str:
    """A user id (an e-mail address) from outside, normalized, or a VALIDATION error."""
    try:
        return normalize_user_id(value)
    except ValueError as exc:
        raise ValidationFailed(f"user_id {exc}") from exc


def sync_user(
    user_id: str,
    display_name: str,
    *,
    department: str | None = None,
    job_title: str | None = None,
    is_admin: bool | None = None,
    db: Database | None = None,
) -> User:
    """Create or refresh a directory entry (sign-in, the Cognito trigger, demo data)."""
    uid = parse_user_id(user_id)
    name = (display_name or "").strip()[:120] or uid
    return (db or get_database()).run(
        lambda conn: dal.upsert(
            conn,
            user_id=uid,
            display_name=name,
            department=department,
            job_title=job_title,
            is_admin=is_admin,
        )
    )


def get_user(user_id: str, *, db: Database | None = None) -> User:
    uid = parse_user_id(user_id)
    user = (db or get_database()).run(lambda conn: dal.get(conn, uid))
    if user is None:
        raise NotFoundError(f"no user {uid} in the directory")
    return user


def find_users(query: str, *, limit: int = 20, db: Database | None = None) -> list[User]:
    query = query.strip()
    if len(query) > 100:
        raise ValidationFailed("the directory query is too long")
    limit = max(1, min(limit, 50))
    return (db or get_database()).run(lambda conn: dal.search(conn, query=query, limit=limit))


def require_active(user_id: str, *, db: Database | None = None) -> None:
    """A user marked inactive in the directory is refused everywhere, whatever token
    they still hold (tokens live up to an hour after an account is switched off)."""
    if not (db or get_database()).run(lambda conn: dal.is_active(conn, user_id)):
        raise ForbiddenError("this account is deactivated")
