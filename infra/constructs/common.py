"""Small conversions and resource shapes the constructs share."""

from __future__ import annotations

from typing import Any

from aws_cdk import RemovalPolicy
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from constructs import Construct

from infra.constants import StageConfig


def log_retention(config: StageConfig) -> logs.RetentionDays:
    """The stage's log retention (constants name a RetentionDays member, e.g. ONE_MONTH)."""
    return logs.RetentionDays[config.log_retention]


def log_group(
    scope: Construct, construct_id: str, config: StageConfig, **props: Any
) -> logs.LogGroup:
    """A log group with the stage's retention, deleted with the stack."""
    return logs.LogGroup(
        scope,
        construct_id,
        retention=log_retention(config),
        removal_policy=RemovalPolicy.DESTROY,
        **props,
    )


def private_bucket(
    scope: Construct,
    construct_id: str,
    *,
    access_logs: s3.IBucket | None,
    access_logs_prefix: str | None = None,
    retain: bool,
    object_ownership: s3.ObjectOwnership = s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
    **props: Any,
) -> s3.Bucket:
    """A bucket no one reaches but through IAM: no public access, SSE-S3, TLS only.

    Its server access logs go to `access_logs` under `access_logs_prefix` (None only for
    the access-log bucket itself). When not `retain`ed it is emptied and deleted with the
    stack.
    """
    return s3.Bucket(
        scope,
        construct_id,
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        encryption=s3.BucketEncryption.S3_MANAGED,
        enforce_ssl=True,
        object_ownership=object_ownership,
        server_access_logs_bucket=access_logs,
        server_access_logs_prefix=access_logs_prefix,
        removal_policy=RemovalPolicy.RETAIN if retain else RemovalPolicy.DESTROY,
        auto_delete_objects=not retain,
        **props,
    )
