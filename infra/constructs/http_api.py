"""The HTTP API: every `/api/*` route goes to one function, `functions/history` (named
for the design's first route; it serves all of `/api/*`: rooms, members, messages, files,
reports, search, the caller's record, health and the OpenAPI document).

API Gateway checks the Cognito ID token (JWT authorizer: issuer and audience) before the
function runs; the function verifies it again itself, so a misconfigured route can never
open data. `GET /api/health` and `GET /api/openapi.json` are public. CORS admits the web
client's origin only, and API Gateway answers the preflight requests itself.

A preflight carries no token, and `ANY /api/{proxy+}` has the JWT authorizer: a preflight
matched to that route could be answered 401, which the browser reports as a CORS failure.
`OPTIONS /api/{proxy+}` (more specific than ANY) has no authorizer, so a preflight always
reaches the CORS answer; were it ever passed on, the function answers no data to OPTIONS.
"""

from __future__ import annotations

import json

from aws_cdk import Duration
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_apigatewayv2_authorizers as authorizers
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from infra.constants import (
    HTTP_API_PROXY_ROUTE,
    HTTP_API_PUBLIC_ROUTES,
    HTTP_API_SIGNED_ROUTES,
    SERVICE_NAME,
    StageConfig,
)
from infra.constructs.api_access_logs import stage_access_logs
from infra.constructs.nag import acknowledge

ACCESS_LOG_FORMAT = json.dumps(
    {
        "requestId": "$context.requestId",
        "ip": "$context.identity.sourceIp",
        "requestTime": "$context.requestTime",
        "method": "$context.httpMethod",
        "routeKey": "$context.routeKey",
        "status": "$context.status",
        "responseLength": "$context.responseLength",
        "latencyMs": "$context.responseLatency",
        "integrationError": "$context.integrationErrorMessage",
        "authorizerError": "$context.authorizer.error",
    }
)


class HttpApi(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: StageConfig,
        handler: lambda_.IFunction,
        jwt_issuer: str,
        jwt_audience: str,
        web_origins: list[str],
    ) -> None:
        super().__init__(scope, construct_id)
        self.api = apigwv2.HttpApi(
            self,
            "Api",
            api_name=f"{SERVICE_NAME}-{config.name}-http",
            description="War room REST endpoints under /api",
            create_default_stage=False,
            cors_preflight=apigwv2.CorsPreflightOptions(
                allow_origins=web_origins,
                allow_methods=[
                    apigwv2.CorsHttpMethod.GET,
                    apigwv2.CorsHttpMethod.POST,
                    apigwv2.CorsHttpMethod.PUT,
                    apigwv2.CorsHttpMethod.PATCH,
                    apigwv2.CorsHttpMethod.DELETE,
                ],
                allow_headers=["authorization", "content-type"],
                max_age=Duration.hours(1),
            ),
        )
        self.stage = apigwv2.HttpStage(
            self,
            "Stage",
            http_api=self.api,
            stage_name="$default",
            auto_deploy=True,
            throttle=apigwv2.ThrottleSettings(
                rate_limit=config.http_rate_limit, burst_limit=config.http_burst_limit
            ),
            access_log_settings=stage_access_logs(self, config, ACCESS_LOG_FORMAT),
        )
        self.url = self.stage.url  # https://{api}.execute-api.{region}.amazonaws.com/

        # `functions/history` serves all of /api/* (the id keeps the design's name).
        integration = integrations.HttpLambdaIntegration(
            "History",
            handler,
            payload_format_version=apigwv2.PayloadFormatVersion.VERSION_2_0,
        )
        self.api.add_routes(
            path=HTTP_API_PROXY_ROUTE,
            methods=[apigwv2.HttpMethod.ANY],
            integration=integration,
            authorizer=authorizers.HttpJwtAuthorizer(
                "CognitoJwt",
                jwt_issuer,
                jwt_audience=[jwt_audience],
                identity_source=["$request.header.Authorization"],
            ),
        )
        preflight = self.api.add_routes(
            path=HTTP_API_PROXY_ROUTE,
            methods=[apigwv2.HttpMethod.OPTIONS],
            integration=integration,
            authorizer=apigwv2.HttpNoneAuthorizer(),
        )
        for route in preflight:
            acknowledge(
                route,
                "AwsSolutions-APIG4",
                "CORS preflight (OPTIONS) requests carry no credentials by definition; API"
                " Gateway answers them from the API's CORS configuration.",
            )
        for path in HTTP_API_PUBLIC_ROUTES:
            public_routes = self.api.add_routes(
                path=path,
                methods=[apigwv2.HttpMethod.GET],
                integration=integration,
                authorizer=apigwv2.HttpNoneAuthorizer(),
            )
            for route in public_routes:
                acknowledge(
                    route,
                    "AwsSolutions-APIG4",
                    "The health check and the API description are public by design; every"
                    " other route has the Cognito JWT authorizer.",
                )
        # Machines post readings signed the Standard Webhooks way (issue 18): they hold
        # no Cognito token, so this route has no JWT authorizer and the function checks
        # the signature before anything else. Stage throttling applies as everywhere.
        for path in HTTP_API_SIGNED_ROUTES:
            signed_routes = self.api.add_routes(
                path=path,
                methods=[apigwv2.HttpMethod.POST],
                integration=integration,
                authorizer=apigwv2.HttpNoneAuthorizer(),
            )
            for route in signed_routes:
                acknowledge(
                    route,
                    "AwsSolutions-APIG4",
                    "Machine ingest is authenticated by an HMAC signature (Standard Webhooks)"
                    " over id, timestamp and body, verified in the function before any read"
                    " or write; gateways cannot hold a Cognito token.",
                )
