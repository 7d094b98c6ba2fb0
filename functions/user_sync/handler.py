"""Cognito trigger (post-confirmation and pre-token-generation): keeps `tr_users` in step
with the user pool.

The user id is the e-mail address in lower case (the pool signs people in by e-mail); the
display name is the `name` attribute, or the address when there is none.

Pre-token generation runs at every sign-in and token refresh. A failed sync must never lock
anyone out in the middle of an incident, so it is logged and counted (`UserSyncFailed`) and
the event goes back unchanged: the next sign-in or refresh tries again.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict, Field

from warroom.logic.users import sync_user
from warroom.settings import database_settings

logger = Logger()
tracer = Tracer()
metrics = Metrics()


class UserAttributes(BaseModel):
    model_config = ConfigDict(extra="ignore")

    email: str | None = None
    name: str | None = None


class TriggerRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")

    user_attributes: UserAttributes = Field(alias="userAttributes")


class CognitoTriggerEvent(BaseModel):
    """The part of every Cognito user-pool trigger event this function reads."""

    model_config = ConfigDict(extra="ignore")

    trigger_source: str = Field(alias="triggerSource")
    request: TriggerRequest


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    trigger = CognitoTriggerEvent.model_validate(event)
    logger.append_keys(trigger_source=trigger.trigger_source)
    attributes = trigger.request.user_attributes
    if not attributes.email:
        logger.warning("user has no e-mail attribute; nothing to sync")
        return event
    try:
        database_settings()  # validated once per container; a bad setting is logged here
        sync_user(
            user_id=attributes.email.lower(),
            display_name=(attributes.name or "").strip() or attributes.email,
        )
    except Exception:
        logger.exception("could not sync the user into tr_users; sign-in goes on")
        metrics.add_metric(name="UserSyncFailed", unit=MetricUnit.Count, value=1)
    return event
