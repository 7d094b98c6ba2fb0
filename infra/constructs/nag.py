"""Acknowledging a cdk-nag rule, always with the reason (cdk-nag 3: CDK Validations).

An acknowledgment on a construct covers the resources under it. For rules that report
one finding per item (IAM4, IAM5), name the finding to keep the rest checked:
`AwsSolutions-IAM5[Resource::*]`.
"""

from __future__ import annotations

from aws_cdk import Acknowledgment, CfnElement, Stack, Validations
from constructs import IConstruct

LAMBDA_BASIC_EXECUTION = (
    "Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
)
LAMBDA_VPC_ACCESS = (
    "Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole"
)


def acknowledge(scope: IConstruct, rule_id: str, reason: str) -> None:
    Validations.of(scope).acknowledge(Acknowledgment(id=rule_id, reason=reason))


def finding(rule_id: str, item: str) -> str:
    """The id of one finding of a rule: `finding("AwsSolutions-IAM5", "Resource::*")`."""
    return f"{rule_id}[{item}]"


def logical_id(construct: IConstruct) -> str:
    """The CloudFormation logical id of a construct's resource, as cdk-nag names it."""
    resource = construct.node.default_child
    assert isinstance(resource, CfnElement), f"{construct.node.path} has no CFN resource"
    return Stack.of(construct).get_logical_id(resource)


def arn_finding(construct: IConstruct, suffix: str) -> str:
    """IAM5's finding for a wildcard under a resource's ARN: `Resource::<Id.Arn>/*`."""
    return finding("AwsSolutions-IAM5", f"Resource::<{logical_id(construct)}.Arn>{suffix}")
