"""REQUEST authorizer of the WebSocket `$connect` route: checks the Cognito token from
the `token` query parameter and hands the verified identity to $connect as context.

API Gateway answers 401 when an authorizer raises `Exception("Unauthorized")`.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from warroom.auth import token_verifier
from warroom.errors import UnauthorizedError

logger = Logger()


@logger.inject_lambda_context(correlation_id_path="requestContext.requestId")
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    token = (event.get("queryStringParameters") or {}).get("token")
    try:
        identity = token_verifier().verify(token)
    except UnauthorizedError as exc:
        logger.info("connection refused at the authorizer", extra={"reason": exc.message})
        raise Exception("Unauthorized") from None  # the exact text API Gateway expects
    return {
        "principalId": identity.user_id,
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [
                {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": event["methodArn"]}
            ],
        },
        "context": {"user_id": identity.user_id, "display_name": identity.display_name},
    }
