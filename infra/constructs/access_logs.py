"""One bucket for the access logs of the other buckets and of CloudFront."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_s3 as s3
from constructs import Construct

from infra.constants import StageConfig
from infra.constructs.nag import acknowledge


class AccessLogs(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, config: StageConfig) -> None:
        super().__init__(scope, construct_id)
        self.bucket = s3.Bucket(
            self,
            "Bucket",
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            # CloudFront's standard logging still writes through bucket ACLs.
            object_ownership=s3.ObjectOwnership.OBJECT_WRITER,
            lifecycle_rules=[
                s3.LifecycleRule(expiration=Duration.days(365 if config.is_production else 30))
            ],
            removal_policy=RemovalPolicy.RETAIN if config.is_production else RemovalPolicy.DESTROY,
            auto_delete_objects=not config.is_production,
        )
        acknowledge(
            self.bucket,
            "AwsSolutions-S1",
            "This is the access-log bucket; logging it into itself would loop.",
        )
