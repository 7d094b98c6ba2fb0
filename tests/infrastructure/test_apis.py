"""The WebSocket API and the HTTP API, as synthesized for the dev stage."""

from __future__ import annotations

import json

import pytest
from aws_cdk.assertions import Match

from infra.constants import (
    FN_AUTHORIZER,
    FN_CONNECT,
    FN_HISTORY,
    FN_MESSAGE,
    WS_AUTH_IDENTITY_SOURCE,
    WS_MESSAGE_ROUTES,
    WS_PING_ROUTE,
)
from tests.infrastructure.conftest import Synthesized

pytestmark = pytest.mark.infrastructure


def _routes(synth: Synthesized, api_type: str) -> dict[str, dict]:
    apis = {
        k: v for k, v in synth.of_type("AWS::ApiGatewayV2::Api").items()
        if v["Properties"]["ProtocolType"] == api_type
    }  # fmt: skip
    (api_logical_id,) = apis
    return {
        route["Properties"]["RouteKey"]: route["Properties"]
        for route in synth.of_type("AWS::ApiGatewayV2::Route").values()
        if route["Properties"]["ApiId"] == {"Ref": api_logical_id}
    }


def _integration_function(synth: Synthesized, route: dict) -> str:
    """The logical id of the Lambda function a route's integration invokes."""
    integration_id = route["Target"]["Fn::Join"][1][1]["Ref"]
    uri = synth.resources[integration_id]["Properties"]["IntegrationUri"]
    parts = uri["Fn::Join"][1] if isinstance(uri, dict) and "Fn::Join" in uri else [uri]
    for part in parts:
        if isinstance(part, dict) and "Fn::GetAtt" in part:
            return str(part["Fn::GetAtt"][0])
    raise AssertionError(f"no function in {uri}")


def test_websocket_routes_select_on_the_frame_type(dev: Synthesized) -> None:
    # Given the synthesized dev stack
    # When reading the WebSocket API
    # Then the route comes from the frame's `type`
    dev.template.has_resource_properties(
        "AWS::ApiGatewayV2::Api",
        {"ProtocolType": "WEBSOCKET", "RouteSelectionExpression": "$request.body.type"},
    )
    # And there is exactly one route per message type (ping included), plus the three
    # special ones
    routes = _routes(dev, "WEBSOCKET")
    assert set(routes) == {"$connect", "$disconnect", "$default", "ping", *WS_MESSAGE_ROUTES}
    assert WS_PING_ROUTE not in WS_MESSAGE_ROUTES


def test_websocket_routes_reach_the_right_functions(dev: Synthesized) -> None:
    # Given the WebSocket routes
    routes = _routes(dev, "WEBSOCKET")
    connect = dev.function_id(FN_CONNECT.service)
    message = dev.function_id(FN_MESSAGE.service)
    # When following each route but ping to its integration
    targets = {
        key: _integration_function(dev, route) for key, route in routes.items() if key != "ping"
    }
    # Then $connect/$disconnect go to the connect function and every other to message
    assert targets.pop("$connect") == connect
    assert targets.pop("$disconnect") == connect
    assert set(targets.values()) == {message}


def test_ping_is_answered_by_api_gateway_without_a_lambda(dev: Synthesized) -> None:
    # Given the ping route
    ping = _routes(dev, "WEBSOCKET")["ping"]
    integration_id = ping["Target"]["Fn::Join"][1][1]["Ref"]
    integration = dev.resources[integration_id]["Properties"]
    # Then its integration is a MOCK (no function, no database, no NAT round trip)
    assert integration["IntegrationType"] == "MOCK"
    assert "IntegrationUri" not in integration
    assert integration["RequestTemplates"] == {"$default": '{"statusCode": 200}'}
    # And the mock's response is the pong frame of the wire contract
    (response,) = [
        r["Properties"] for r in dev.of_type("AWS::ApiGatewayV2::IntegrationResponse").values()
        if r["Properties"]["IntegrationId"] == {"Ref": integration_id}
    ]  # fmt: skip
    assert response["IntegrationResponseKey"] == "$default"
    assert json.loads(response["ResponseTemplates"]["$default"]) == {"type": "pong"}
    # And the route sends it back to the asker (a two-way route with a $default response)
    assert ping["RouteResponseSelectionExpression"] == "$default"
    (route_id,) = [
        k for k, v in dev.of_type("AWS::ApiGatewayV2::Route").items() if v["Properties"] is ping
    ]
    (route_response,) = [
        r["Properties"] for r in dev.of_type("AWS::ApiGatewayV2::RouteResponse").values()
        if r["Properties"]["RouteId"] == {"Ref": route_id}
    ]  # fmt: skip
    assert route_response["RouteResponseKey"] == "$default"
    # And it needs no authorizer of its own (the connection was authorized at $connect)
    assert ping.get("AuthorizationType", "NONE") == "NONE"


def test_connect_route_has_the_token_authorizer(dev: Synthesized) -> None:
    # Given the $connect route
    routes = _routes(dev, "WEBSOCKET")
    connect = routes["$connect"]
    # When looking at its authorization
    assert connect["AuthorizationType"] == "CUSTOM"
    authorizer = dev.resources[connect["AuthorizerId"]["Ref"]]["Properties"]
    # Then a REQUEST authorizer reads ?token= and runs the authorizer function
    assert authorizer["AuthorizerType"] == "REQUEST"
    assert authorizer["IdentitySource"] == [WS_AUTH_IDENTITY_SOURCE]
    uri_parts = authorizer["AuthorizerUri"]["Fn::Join"][1]
    assert {"Fn::GetAtt": [dev.function_id(FN_AUTHORIZER.service), "Arn"]} in uri_parts
    authorizer_fn = dev.resources[dev.function_id(FN_AUTHORIZER.service)]["Properties"]
    assert authorizer_fn["Handler"] == "authorizer.lambda_handler"
    # And no other route carries an authorizer (they ride on the authorized connection)
    others = {k: v.get("AuthorizationType", "NONE") for k, v in routes.items() if k != "$connect"}
    assert set(others.values()) == {"NONE"}


def test_websocket_stage_throttles_and_logs(dev: Synthesized) -> None:
    # Given the dev stage's limits
    config = dev.config
    # When reading the WebSocket stage
    # Then it is named after the stage, throttled and writes JSON access logs
    dev.template.has_resource_properties(
        "AWS::ApiGatewayV2::Stage",
        {
            "StageName": config.name,
            "AutoDeploy": True,
            "DefaultRouteSettings": Match.object_like(
                {
                    "ThrottlingRateLimit": config.ws_rate_limit,
                    "ThrottlingBurstLimit": config.ws_burst_limit,
                    "LoggingLevel": "ERROR",
                }
            ),
            "AccessLogSettings": {
                "DestinationArn": Match.any_value(),
                "Format": Match.string_like_regexp(r"\$context\.connectionId"),
            },
        },
    )
    # And API Gateway has the account-level role it needs to write WebSocket logs
    dev.template.has_resource_properties(
        "AWS::ApiGateway::Account", {"CloudWatchRoleArn": Match.any_value()}
    )


def test_http_api_routes_and_jwt_authorizer(dev: Synthesized) -> None:
    # Given the HTTP API's routes
    routes = _routes(dev, "HTTP")
    # Then everything under /api goes through the Cognito JWT authorizer
    proxy = routes["ANY /api/{proxy+}"]
    assert proxy["AuthorizationType"] == "JWT"
    authorizer = dev.resources[proxy["AuthorizerId"]["Ref"]]["Properties"]
    assert authorizer["AuthorizerType"] == "JWT"
    assert authorizer["IdentitySource"] == ["$request.header.Authorization"]
    issuer = authorizer["JwtConfiguration"]["Issuer"]["Fn::Join"][1]
    assert issuer[0] == "https://cognito-idp."
    audience = authorizer["JwtConfiguration"]["Audience"]
    assert len(audience) == 1
    assert dev.resources[audience[0]["Ref"]]["Type"] == "AWS::Cognito::UserPoolClient"
    # And only the health check, the API description and CORS preflights are public
    assert routes["GET /api/health"].get("AuthorizationType", "NONE") == "NONE"
    assert routes["GET /api/openapi.json"].get("AuthorizationType", "NONE") == "NONE"
    assert set(routes) == {
        "ANY /api/{proxy+}",
        "OPTIONS /api/{proxy+}",
        "GET /api/health",
        "GET /api/openapi.json",
        "POST /api/ingest/{source_id}/readings",
    }
    # And all of them reach the history function with payload format 2.0
    history = dev.function_id(FN_HISTORY.service)
    for route in routes.values():
        assert _integration_function(dev, route) == history
    dev.template.has_resource_properties(
        "AWS::ApiGatewayV2::Integration",
        {"IntegrationType": "AWS_PROXY", "PayloadFormatVersion": "2.0"},
    )


def test_cors_preflight_never_meets_the_jwt_authorizer(dev: Synthesized) -> None:
    # Given the HTTP API's routes and its CORS configuration
    routes = _routes(dev, "HTTP")
    (api,) = [
        v for v in dev.of_type("AWS::ApiGatewayV2::Api").values()
        if v["Properties"]["ProtocolType"] == "HTTP"
    ]  # fmt: skip
    # When a browser sends a preflight (OPTIONS, no Authorization header) to /api/...
    preflight = routes["OPTIONS /api/{proxy+}"]
    # Then it matches a route with no authorizer, more specific than ANY's JWT route
    assert preflight.get("AuthorizationType", "NONE") == "NONE"
    assert "AuthorizerId" not in preflight
    # And the API's CORS configuration answers it for the web origin's methods and headers
    cors = api["Properties"]["CorsConfiguration"]
    assert {"GET", "POST", "PATCH", "DELETE"} <= set(cors["AllowMethods"])
    assert {"authorization", "content-type"} <= {h.lower() for h in cors["AllowHeaders"]}


def test_http_api_cors_admits_the_web_origin(dev: Synthesized) -> None:
    # Given the HTTP API
    (api,) = [
        v for v in dev.of_type("AWS::ApiGatewayV2::Api").values()
        if v["Properties"]["ProtocolType"] == "HTTP"
    ]  # fmt: skip
    cors = api["Properties"]["CorsConfiguration"]
    # Then CORS names the CloudFront origin (and, on dev, the local Vite server), not "*"
    origins = cors["AllowOrigins"]
    assert "*" not in origins
    assert any(
        isinstance(o, dict) and "WebDistribution" in str(o) and "https://" in str(o)
        for o in origins
    )
    assert "http://localhost:5173" in origins
    assert {"authorization", "content-type"} <= {h.lower() for h in cors["AllowHeaders"]}
    # And the $default stage is throttled with access logs
    dev.template.has_resource_properties(
        "AWS::ApiGatewayV2::Stage",
        {
            "StageName": "$default",
            "DefaultRouteSettings": {
                "ThrottlingRateLimit": dev.config.http_rate_limit,
                "ThrottlingBurstLimit": dev.config.http_burst_limit,
            },
            "AccessLogSettings": Match.object_like({"DestinationArn": Match.any_value()}),
        },
    )


def test_the_signed_ingest_route_has_no_jwt_authorizer_and_its_key_is_the_http_functions(
    dev: Synthesized,
) -> None:
    # Given the HTTP API's routes
    routes = _routes(dev, "HTTP")
    # Then machines post readings without a Cognito token (the function checks the
    # Standard Webhooks signature), on the same function as every other route
    ingest = routes["POST /api/ingest/{source_id}/readings"]
    assert ingest.get("AuthorizationType", "NONE") == "NONE"
    assert "AuthorizerId" not in ingest
    assert _integration_function(dev, ingest) == dev.function_id(FN_HISTORY.service)
    # And the sources' secrets are sealed under a rotating KMS key named in the
    # function's environment, which may make and unwrap data keys and nothing more
    history = dev.resources[dev.function_id(FN_HISTORY.service)]["Properties"]
    named = history["Environment"]["Variables"]["INGEST_KMS_KEY_ID"]
    key_id = named["Fn::GetAtt"][0]
    assert named == {"Fn::GetAtt": [key_id, "Arn"]}
    assert dev.resources[key_id]["Type"] == "AWS::KMS::Key"
    assert dev.resources[key_id]["Properties"]["EnableKeyRotation"] is True
    statements = [
        st
        for policy in dev.of_type("AWS::IAM::Policy").values()
        for st in policy["Properties"]["PolicyDocument"]["Statement"]
        if st.get("Resource") == {"Fn::GetAtt": [key_id, "Arn"]}
    ]
    actions = {
        a
        for st in statements
        for a in ([st["Action"]] if isinstance(st["Action"], str) else st["Action"])
    }
    assert actions == {"kms:GenerateDataKey", "kms:Decrypt"}
