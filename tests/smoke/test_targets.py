"""The deployed target's AWS plumbing, against moto: outputs read from CloudFormation,
a throw-away user created, signed in with the admin API, and deleted afterwards."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import jwt
import pytest
from moto import mock_aws

from tests.smoke.targets import SMOKE_EMAIL_DOMAIN, DeployedTarget

pytestmark = pytest.mark.integration


@pytest.fixture
def deployed_stack(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        cognito = boto3.client("cognito-idp")
        pool = cognito.create_user_pool(PoolName="warroom-dev")["UserPool"]["Id"]
        client = cognito.create_user_pool_client(
            UserPoolId=pool,
            ClientName="warroom-web",
            ExplicitAuthFlows=["ALLOW_ADMIN_USER_PASSWORD_AUTH", "ALLOW_USER_SRP_AUTH"],
        )["UserPoolClient"]["ClientId"]
        outputs = {
            "HttpApiUrl": "https://abc.execute-api.eu-west-1.amazonaws.com",
            "WebSocketUrl": "wss://def.execute-api.eu-west-1.amazonaws.com/dev",
            "UserPoolId": pool,
            "UserPoolClientId": client,
        }
        template = {
            "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}},
            "Outputs": {key: {"Value": value} for key, value in outputs.items()},
        }
        boto3.client("cloudformation").create_stack(
            StackName="WarRoom-dev", TemplateBody=json.dumps(template)
        )
        yield {"cognito": cognito, "pool": pool, **outputs}


def test_a_throw_away_user_signs_in_and_is_deleted_afterwards(
    deployed_stack: dict[str, Any],
) -> None:
    # Given the deployed stage, found by its stack name
    target = DeployedTarget("WarRoom-dev")
    assert target.outputs["UserPoolClientId"] == deployed_stack["UserPoolClientId"]
    # When the suite signs someone in
    person = target.sign_in("owner")
    # Then they got an ID token for their own, verified address, at a reserved domain
    claims = jwt.decode(person.token, options={"verify_signature": False})
    assert person.user_id.endswith(f"@{SMOKE_EMAIL_DOMAIN}")
    assert claims["token_use"] == "id"
    assert person.user_id in claims.values()
    cognito, pool = deployed_stack["cognito"], deployed_stack["pool"]
    user = cognito.admin_get_user(UserPoolId=pool, Username=person.user_id)
    attributes = {a["Name"]: a["Value"] for a in user["UserAttributes"]}
    assert attributes["email_verified"] == "true"
    assert user["UserStatus"] == "CONFIRMED"
    # And the HTTP and WebSocket addresses come from the stack's outputs
    assert target.outputs["WebSocketUrl"].startswith("wss://")
    # When the suite ends
    target.close()
    # Then the user is gone from the pool
    assert cognito.list_users(UserPoolId=pool)["Users"] == []
