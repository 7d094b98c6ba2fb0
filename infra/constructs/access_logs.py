"""One bucket for the access logs of the other buckets and of CloudFront."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_s3 as s3
from constructs import Construct

from infra.constants import StageConfig
from infra.constructs.common import private_bucket
from infra.constructs.nag import acknowledge


class AccessLogs(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, config: StageConfig) -> None:
        super().__init__(scope, construct_id)
        self.bucket = private_bucket(
            self,
            "Bucket",
            access_logs=None,  # this is where the others' logs go
            retain=config.is_production,
            # CloudFront's standard logging still writes through bucket ACLs.
            object_ownership=s3.ObjectOwnership.OBJECT_WRITER,
            lifecycle_rules=[
                s3.LifecycleRule(expiration=Duration.days(365 if config.is_production else 30))
            ],
        )
        acknowledge(
            self.bucket,
            "AwsSolutions-S1",
            "This is the access-log bucket; logging it into itself would loop.",
        )
