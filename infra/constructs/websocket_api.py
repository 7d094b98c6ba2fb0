"""The WebSocket API: one route per message type, an authorizer on `$connect`.

`$request.body.type` selects the route, so a frame `{"type": "typing", ...}` goes to the
`typing` route; an unknown type falls to `$default`, which the message function answers
with an error frame. Routes to the functions are one-way: every reply, to the sender too,
is posted through the management API. The one exception is `ping`: a MOCK integration
with a route response, so API Gateway itself answers `{"type":"pong"}` (the 30 s
heartbeat of every socket costs no Lambda call).

The stage is created before the functions because they need its management endpoint
(`WS_MANAGEMENT_ENDPOINT`); the routes are added once the functions exist.
"""

from __future__ import annotations

import json

from aws_cdk import RemovalPolicy
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_apigatewayv2_authorizers as authorizers
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from infra.constants import (
    SERVICE_NAME,
    WS_AUTH_IDENTITY_SOURCE,
    WS_MESSAGE_ROUTES,
    WS_PING_ROUTE,
    WS_PONG_FRAME,
    WS_ROUTE_SELECTION,
    StageConfig,
)
from infra.constructs.api_access_logs import stage_access_logs
from infra.constructs.nag import acknowledge, finding, logical_id

ACCESS_LOG_FORMAT = json.dumps(
    {
        "requestId": "$context.requestId",
        "connectionId": "$context.connectionId",
        "eventType": "$context.eventType",
        "routeKey": "$context.routeKey",
        "status": "$context.status",
        "integrationStatus": "$context.integrationStatus",
        "error": "$context.error.message",
        "authorizerError": "$context.authorizer.error",
        "ip": "$context.identity.sourceIp",
        "requestTime": "$context.requestTime",
        "userId": "$context.authorizer.user_id",
    }
)


class WebSocketApi(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, config: StageConfig) -> None:
        super().__init__(scope, construct_id)
        self.api = apigwv2.WebSocketApi(
            self,
            "Api",
            api_name=f"{SERVICE_NAME}-{config.name}-ws",
            description="War room real-time channel",
            route_selection_expression=WS_ROUTE_SELECTION,
        )
        self.stage = apigwv2.WebSocketStage(
            self,
            "Stage",
            web_socket_api=self.api,
            stage_name=config.name,
            auto_deploy=True,
            throttle=apigwv2.ThrottleSettings(
                rate_limit=config.ws_rate_limit, burst_limit=config.ws_burst_limit
            ),
            access_log_settings=stage_access_logs(self, config, ACCESS_LOG_FORMAT),
        )
        cfn_stage = self.stage.node.default_child
        assert isinstance(cfn_stage, apigwv2.CfnStage)
        cfn_stage.add_property_override("DefaultRouteSettings.LoggingLevel", "ERROR")
        cfn_stage.add_property_override("DefaultRouteSettings.DataTraceEnabled", False)
        self.stage.node.add_dependency(self._cloudwatch_logging_account())

        # https://{api}.execute-api.{region}.amazonaws.com/{stage}: what the functions post to.
        self.management_endpoint = self.stage.callback_url
        self.url = self.stage.url  # wss://…

    def add_routes(
        self,
        *,
        connect: lambda_.IFunction,
        authorizer: lambda_.IFunction,
        message: lambda_.IFunction,
    ) -> None:
        # One integration per function, shared by its routes (each route still gets its
        # own invoke permission).
        connect_integration = integrations.WebSocketLambdaIntegration("Connect", connect)
        message_integration = integrations.WebSocketLambdaIntegration("Message", message)
        self.api.add_route(
            "$connect",
            integration=connect_integration,
            authorizer=authorizers.WebSocketLambdaAuthorizer(
                "TokenAuthorizer", authorizer, identity_source=[WS_AUTH_IDENTITY_SOURCE]
            ),
        )
        after_connect = [self.api.add_route("$disconnect", integration=connect_integration)]
        for route_key in ("$default", *WS_MESSAGE_ROUTES):
            after_connect.append(self.api.add_route(route_key, integration=message_integration))
        after_connect.append(self._add_ping_route())
        for route in after_connect:
            acknowledge(
                route,
                "AwsSolutions-APIG4",
                "A WebSocket API authorizes once, on $connect (the Lambda authorizer checks the"
                " Cognito token); the other routes ride on that authorized connection.",
            )

    def _add_ping_route(self) -> apigwv2.CfnRoute:
        """`ping` → `{"type":"pong"}` to the asker, answered by API Gateway alone.

        A MOCK integration turns the request into status 200; its integration response
        writes the pong, and the route response (`$default`) sends it back on the socket.
        """
        api_id = self.api.api_id
        mock = apigwv2.CfnIntegration(
            self,
            "PingIntegration",
            api_id=api_id,
            integration_type="MOCK",
            request_templates={"$default": '{"statusCode": 200}'},
            template_selection_expression="\\$default",
        )
        apigwv2.CfnIntegrationResponse(
            self,
            "PingIntegrationResponse",
            api_id=api_id,
            integration_id=mock.ref,
            integration_response_key="$default",
            response_templates={"$default": WS_PONG_FRAME},
            template_selection_expression="\\$default",
        )
        route = apigwv2.CfnRoute(
            self,
            "PingRoute",
            api_id=api_id,
            route_key=WS_PING_ROUTE,
            target=f"integrations/{mock.ref}",
            route_response_selection_expression="$default",
        )
        apigwv2.CfnRouteResponse(
            self,
            "PingRouteResponse",
            api_id=api_id,
            route_id=route.ref,
            route_response_key="$default",
        )
        return route

    def grant_fanout(self, grantee: lambda_.IFunction) -> None:
        """Post to, inspect and close any connection of this API (the fan-out)."""
        self.api.grant_manage_connections(grantee)
        acknowledge(
            grantee,
            finding(
                "AwsSolutions-IAM5",
                "Resource::arn:<AWS::Partition>:execute-api:<AWS::Region>:<AWS::AccountId>:"
                f"<{logical_id(self.api)}>/*/*/@connections/*",
            ),
            "Connection ids are made at run time; the grant is ManageConnections on this one"
            " API's @connections.",
        )

    def _cloudwatch_logging_account(self) -> apigw.CfnAccount:
        """API Gateway writes WebSocket logs only with a CloudWatch role set on the account.

        The role is retained on delete: the setting is per account and region, and another
        stage's stack may still rely on it after this one is gone.
        """
        role = iam.Role(
            self,
            "CloudWatchRole",
            assumed_by=iam.ServicePrincipal("apigateway.amazonaws.com"),
            managed_policies=[
                iam.ManagedPolicy.from_aws_managed_policy_name(
                    "service-role/AmazonAPIGatewayPushToCloudWatchLogs"
                )
            ],
        )
        role.apply_removal_policy(RemovalPolicy.RETAIN)
        acknowledge(
            role,
            finding(
                "AwsSolutions-IAM4",
                "Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
                "AmazonAPIGatewayPushToCloudWatchLogs",
            ),
            "AmazonAPIGatewayPushToCloudWatchLogs is the policy API Gateway documents for"
            " its account-level logging role.",
        )
        account = apigw.CfnAccount(self, "ApiGatewayAccount", cloud_watch_role_arn=role.role_arn)
        account.apply_removal_policy(RemovalPolicy.RETAIN)
        return account
