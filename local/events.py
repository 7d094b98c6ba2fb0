"""API Gateway event shapes, as API Gateway sends them: WebSocket ($connect, messages,
$disconnect), the REQUEST authorizer of $connect, and HTTP API payload format 2.0."""

from __future__ import annotations

import base64
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

API_ID = "local"
STAGE = "local"
ACCOUNT = "000000000000"
REGION = "us-east-1"


def _request_time(now: float) -> str:
    return datetime.fromtimestamp(now, UTC).strftime("%d/%b/%Y:%H:%M:%S +0000")


@dataclass
class WsConnection:
    connection_id: str
    domain_name: str
    source_ip: str
    user_agent: str
    headers: dict[str, str]
    query: dict[str, str]
    connected_at_ms: int = field(default_factory=lambda: int(time.time() * 1000))
    authorizer: dict[str, Any] | None = None
    last_active_ms: int = field(default_factory=lambda: int(time.time() * 1000))

    def _context(self, route_key: str, event_type: str) -> dict[str, Any]:
        now = time.time()
        context: dict[str, Any] = {
            "routeKey": route_key,
            "eventType": event_type,
            "extendedRequestId": str(uuid.uuid4()),
            "requestTime": _request_time(now),
            "messageDirection": "IN",
            "stage": STAGE,
            "connectedAt": self.connected_at_ms,
            "requestTimeEpoch": int(now * 1000),
            "identity": {"sourceIp": self.source_ip, "userAgent": self.user_agent},
            "requestId": str(uuid.uuid4()),
            "domainName": self.domain_name,
            "connectionId": self.connection_id,
            "apiId": API_ID,
        }
        if self.authorizer is not None:
            context["authorizer"] = self.authorizer
        return context

    def _headers(self) -> dict[str, Any]:
        return {
            "headers": dict(self.headers),
            "multiValueHeaders": {k: [v] for k, v in self.headers.items()},
        }

    def authorizer_event(self) -> dict[str, Any]:
        return {
            "type": "REQUEST",
            "methodArn": f"arn:aws:execute-api:{REGION}:{ACCOUNT}:{API_ID}/{STAGE}/$connect",
            **self._headers(),
            "queryStringParameters": dict(self.query),
            "multiValueQueryStringParameters": {k: [v] for k, v in self.query.items()},
            "stageVariables": {},
            "requestContext": self._context("$connect", "CONNECT"),
        }

    def connect_event(self) -> dict[str, Any]:
        return {
            **self._headers(),
            "queryStringParameters": dict(self.query) or None,
            "multiValueQueryStringParameters": {k: [v] for k, v in self.query.items()} or None,
            "requestContext": self._context("$connect", "CONNECT"),
            "isBase64Encoded": False,
        }

    def message_event(self, route_key: str, body: str) -> dict[str, Any]:
        context = self._context(route_key, "MESSAGE")
        context["messageId"] = base64.b64encode(uuid.uuid4().bytes[:9]).decode()
        return {"requestContext": context, "body": body, "isBase64Encoded": False}

    def disconnect_event(self, status_code: int, reason: str) -> dict[str, Any]:
        context = self._context("$disconnect", "DISCONNECT")
        context["disconnectStatusCode"] = status_code
        context["disconnectReason"] = reason
        return {**self._headers(), "requestContext": context, "isBase64Encoded": False}


TEXT_TYPES = ("application/json", "text/", "application/x-www-form-urlencoded")


def is_text_type(content_type: str) -> bool:
    """Whether the HTTP API hands the body to the function as text (else base64)."""
    return any(content_type.startswith(t) for t in TEXT_TYPES)


def http_event(
    *,
    method: str,
    path: str,
    raw_query: str,
    query: dict[str, str],
    headers: dict[str, str],
    body: bytes,
    source_ip: str,
    domain_name: str,
) -> dict[str, Any]:
    """HTTP API payload format 2.0 for the route `ANY /api/{proxy+}`. A text body must be
    UTF-8 (the gateway answers 400 before building an event for one that is not)."""
    now = time.time()
    is_text = not body or is_text_type(headers.get("content-type", ""))
    lowered = {k.lower(): v for k, v in headers.items()}
    return {
        "version": "2.0",
        "routeKey": "ANY /api/{proxy+}",
        "rawPath": path,
        "rawQueryString": raw_query,
        "cookies": [c.strip() for c in lowered.get("cookie", "").split(";") if c.strip()] or None,
        "headers": lowered,
        "queryStringParameters": query or None,
        "pathParameters": {"proxy": path.removeprefix("/api/")},
        "requestContext": {
            "accountId": ACCOUNT,
            "apiId": API_ID,
            "domainName": domain_name,
            "domainPrefix": domain_name.split(".")[0],
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": lowered.get("user-agent", ""),
            },
            "requestId": str(uuid.uuid4()),
            "routeKey": "ANY /api/{proxy+}",
            "stage": "$default",
            "time": _request_time(now),
            "timeEpoch": int(now * 1000),
        },
        "body": (body.decode() if is_text else base64.b64encode(body).decode()) if body else None,
        "isBase64Encoded": bool(body) and not is_text,
    }


@dataclass
class LambdaContext:
    """What Lambda passes as `context`, enough for Powertools."""

    function_name: str
    memory_limit_in_mb: int = 512
    function_version: str = "$LATEST"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    log_group_name: str = "/aws/lambda/local"
    log_stream_name: str = "local"
    deadline_ms: int = field(default_factory=lambda: int(time.time() * 1000) + 30_000)

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, self.deadline_ms - int(time.time() * 1000))
