"""The caller's own record and the user directory."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query

from warroom.logic import users
from warroom.models import User
from warroom.routes.common import caller

router = Router()


@router.get("/api/me")
def me() -> User:
    identity = caller()
    return users.sync_user(identity.user_id, identity.display_name)


@router.get("/api/users")
def directory(q: Annotated[str, Query(max_length=100)] = "") -> dict[str, list[User]]:
    caller()
    return {"users": users.find_users(q)}
