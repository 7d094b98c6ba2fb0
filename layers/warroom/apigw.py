"""API Gateway's WebSocket events as plain pydantic models of the fields the handlers
read. Powertools' parser models would do, but importing one of them imports them all
(about 75 ms of a cold start)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class WebSocketRequestContext(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="ignore")

    route_key: str = Field(alias="routeKey")
    event_type: str = Field(alias="eventType")  # CONNECT, MESSAGE, DISCONNECT
    connection_id: str = Field(alias="connectionId", min_length=1)
    request_id: str = Field(alias="requestId")
    # Set by our $connect authorizer at the edge, never by the client.
    authorizer: dict[str, Any] | None = None


class WebSocketEvent(BaseModel):
    """A $connect, $disconnect or message event."""

    model_config = ConfigDict(populate_by_name=True, extra="ignore")

    request_context: WebSocketRequestContext = Field(alias="requestContext")
    query_string_parameters: dict[str, str] | None = Field(None, alias="queryStringParameters")
    body: str | None = None
    is_base64_encoded: bool = Field(False, alias="isBase64Encoded")
