"""Every Lambda function of the stack logs into a group with the stage's retention.

Ours get their log group from `FunctionFactory`. aws-cdk-lib adds functions of its own
(custom-resource providers such as bucket auto-delete, the default security group's
restriction, BucketDeployment) whose logs would otherwise land in an implicit
`/aws/lambda/<name>` group that keeps them forever. An aspect gives each function that
names no log group one of its own, with the stage's retention.

The secret-rotation function is not a resource of this stack (it comes from a Serverless
Application Repository app, a nested stack): `Database` pre-creates its log group by name.
"""

from __future__ import annotations

from typing import Any

import jsii
from aws_cdk import Aspects, CfnResource, IAspect, Stack, Token
from aws_cdk import aws_lambda as lambda_
from constructs import IConstruct

from infra.constants import StageConfig
from infra.constructs.common import log_group

LAMBDA_FUNCTION = "AWS::Lambda::Function"


@jsii.implements(IAspect)
class LogRetentionForEveryFunction:
    def __init__(self, config: StageConfig) -> None:
        self._config = config

    @staticmethod
    def apply(stack: Stack, config: StageConfig) -> None:
        Aspects.of(stack).add(LogRetentionForEveryFunction(config))

    def visit(self, node: IConstruct) -> None:
        if isinstance(node, lambda_.CfnFunction):
            if not _names_log_group(node.logging_config):
                self._attach(node, node)
        elif isinstance(node, CfnResource) and node.cfn_resource_type == LAMBDA_FUNCTION:
            # aws-cdk-lib's CustomResourceProvider writes its function as a plain CfnResource.
            self._attach(node, node)

    def _attach(self, node: CfnResource, scope: IConstruct) -> None:
        parent = scope.node.scope
        assert parent is not None
        if parent.node.try_find_child(f"{scope.node.id}Logs") is not None:
            return  # visited twice
        group = log_group(parent, f"{scope.node.id}Logs", self._config)
        node.add_property_override("LoggingConfig.LogGroup", group.log_group_name)


def _names_log_group(logging_config: Any) -> bool:
    if logging_config is None:
        return False
    if Token.is_unresolved(logging_config):
        return True
    return bool(getattr(logging_config, "log_group", None))
