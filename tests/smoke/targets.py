"""Where the smoke suite runs: the local stack, or a deployed stage.

The suite is the same; a target only says how to reach the APIs and how to get a signed-in
user. `make smoke STAGE=dev` sets WARROOM_SMOKE_STACK=WarRoom-dev: the deployed target
reads the stack's CloudFormation outputs, creates throw-away Cognito users with the admin
API (signed in with AdminInitiateAuth, so their first sign-in runs the user_sync trigger
like anyone's) and deletes them afterwards. Without it, the suite runs against the local
stack of `make dev`, started by the e2e fixtures.
"""

from __future__ import annotations

import json
import secrets
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from typing import Any, Protocol

from websockets.sync.client import ClientConnection, connect

SMOKE_STACK_ENV = "WARROOM_SMOKE_STACK"
# Addresses at a domain reserved for examples: Cognito sends them nothing (SUPPRESS).
SMOKE_EMAIL_DOMAIN = "smoke.example.com"


@dataclass
class Answer:
    status: int
    body: Any
    headers: dict[str, str]


@dataclass
class SignedIn:
    user_id: str
    display_name: str
    token: str


class Target(Protocol):
    name: str

    def sign_in(self, name: str) -> SignedIn: ...

    def request(
        self, method: str, path: str, token: str | None = None, body: Any = None
    ) -> Answer: ...

    def connect(self, token: str, room_id: str | None = None) -> ClientConnection: ...

    def close(self) -> None: ...


def http_request(
    url: str, method: str, token: str | None = None, body: Any = None, timeout: float = 30
) -> Answer:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status, payload, headers = response.status, response.read(), dict(response.headers)
    except urllib.error.HTTPError as err:
        status, payload, headers = err.code, err.read(), dict(err.headers)
    text = payload.decode("utf-8", "replace")
    try:
        parsed = json.loads(text) if text else None
    except json.JSONDecodeError:
        parsed = text
    return Answer(status, parsed, headers)


@dataclass
class LocalTarget:
    """The local stack (tests/e2e/conftest.py's LocalStack): dev login, /ws."""

    stack: Any
    name: str = "local"

    def sign_in(self, name: str) -> SignedIn:
        user_id = f"{name}-{uuid.uuid4().hex[:8]}@{SMOKE_EMAIL_DOMAIN}"
        display_name = f"Smoke {name.title()}"
        return SignedIn(user_id, display_name, self.stack.login(user_id, display_name))

    def request(self, method: str, path: str, token: str | None = None, body: Any = None) -> Answer:
        return http_request(self.stack.base_url + path, method, token, body)

    def connect(self, token: str, room_id: str | None = None) -> ClientConnection:
        return self.stack.connect(token, room_id)  # type: ignore[no-any-return]

    def close(self) -> None:
        """The e2e fixture stops the stack."""


@dataclass
class DeployedTarget:
    """A deployed stage, found by its stack name; AWS credentials from the environment."""

    stack_name: str
    name: str = "deployed"
    outputs: dict[str, str] = field(default_factory=dict)
    _created: list[str] = field(default_factory=list)
    _cognito: Any = None

    def __post_init__(self) -> None:
        import boto3

        stacks = boto3.client("cloudformation").describe_stacks(StackName=self.stack_name)
        self.outputs = {o["OutputKey"]: o["OutputValue"] for o in stacks["Stacks"][0]["Outputs"]}
        self._cognito = boto3.client("cognito-idp")

    def sign_in(self, name: str) -> SignedIn:
        user_id = f"{name}-{uuid.uuid4().hex[:8]}@{SMOKE_EMAIL_DOMAIN}"
        display_name = f"Smoke {name.title()}"
        # Upper, lower, digit and symbol: the pool's password policy.
        password = secrets.token_urlsafe(24) + "aA1!"
        pool = self.outputs["UserPoolId"]
        self._cognito.admin_create_user(
            UserPoolId=pool,
            Username=user_id,
            UserAttributes=[
                {"Name": "email", "Value": user_id},
                {"Name": "email_verified", "Value": "true"},
                {"Name": "name", "Value": display_name},
            ],
            MessageAction="SUPPRESS",
        )
        self._created.append(user_id)
        self._cognito.admin_set_user_password(
            UserPoolId=pool, Username=user_id, Password=password, Permanent=True
        )
        answer = self._cognito.admin_initiate_auth(
            UserPoolId=pool,
            ClientId=self.outputs["UserPoolClientId"],
            AuthFlow="ADMIN_USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": user_id, "PASSWORD": password},
        )
        if "AuthenticationResult" not in answer:
            raise RuntimeError(
                f"sign-in asked for {answer.get('ChallengeName')}: the smoke suite signs in"
                " without MFA, so it runs against a stage that does not require it (dev)"
            )
        return SignedIn(user_id, display_name, answer["AuthenticationResult"]["IdToken"])

    def request(self, method: str, path: str, token: str | None = None, body: Any = None) -> Answer:
        return http_request(self.outputs["HttpApiUrl"].rstrip("/") + path, method, token, body)

    def connect(self, token: str, room_id: str | None = None) -> ClientConnection:
        query = f"?token={token}" + (f"&room_id={room_id}" if room_id else "")
        # A paused dev database resumes in about 15 s on the first connection.
        return connect(self.outputs["WebSocketUrl"] + query, open_timeout=40, max_size=2**21)

    def close(self) -> None:
        """Delete every throw-away user (their tr_users rows stay, as for anyone who left)."""
        for user_id in self._created:
            self._cognito.admin_delete_user(UserPoolId=self.outputs["UserPoolId"], Username=user_id)
        self._created.clear()
