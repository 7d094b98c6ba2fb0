"""Access-log settings shared by the WebSocket and the HTTP API stages."""

from __future__ import annotations

import jsii
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra.constants import StageConfig
from infra.constructs.common import log_group


@jsii.implements(apigwv2.IAccessLogSettings)
class AccessLogSettings:
    """Access logs as one JSON object a line, written to a log group."""

    def __init__(self, log_group: logs.ILogGroup, log_format: str) -> None:
        self._destination = apigwv2.LogGroupLogDestination(log_group)
        self._format = apigw.AccessLogFormat.custom(log_format)

    @property
    def destination(self) -> apigwv2.IAccessLogDestination:
        return self._destination

    @property
    def format(self) -> apigw.AccessLogFormat:
        return self._format


def stage_access_logs(scope: Construct, config: StageConfig, log_format: str) -> AccessLogSettings:
    """A stage's access logs: `log_format` lines in its own log group, `AccessLogs`."""
    return AccessLogSettings(log_group(scope, "AccessLogs", config), log_format)
