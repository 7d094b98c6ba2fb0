"""Web Push (issue 19): the VAPID public key, and this device's subscription."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router

from warroom.logic import push
from warroom.routes.common import caller

router = Router()


@router.get("/api/push/vapid-public-key")
def vapid_public_key() -> dict[str, str]:
    caller()
    from warroom.webpush import vapid_public_key as key

    return {"key": key()}


@router.get("/api/push/subscriptions")
def my_subscriptions() -> dict[str, list[str]]:
    return {"endpoints": push.my_endpoints(user_id=caller().user_id)}


@router.post("/api/push/subscriptions")
def subscribe(body: push.SubscriptionDraft) -> Response[Any]:
    created = push.subscribe(user_id=caller().user_id, draft=body)
    return Response(
        status_code=201 if created else 200,
        content_type="application/json",
        body={"endpoint": body.endpoint},
    )


@router.delete("/api/push/subscriptions")
def unsubscribe(body: push.SubscriptionRef) -> Response[str]:
    push.unsubscribe(user_id=caller().user_id, endpoint=body.endpoint)
    return Response(status_code=204, content_type="application/json", body="")
