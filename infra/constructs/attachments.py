"""Files attached to messages: a private bucket the browser reaches only through
presigned URLs that the functions sign (a presigned POST to upload, GET to download).

The client uploads with XMLHttpRequest and listens to upload progress, which makes even a
multipart POST a preflighted request: CORS must allow POST for the preflight to pass."""

from __future__ import annotations

from aws_cdk import Aws, Duration
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from constructs import Construct

from infra.constants import SERVICE_NAME, StageConfig
from infra.constructs.common import private_bucket
from infra.constructs.nag import acknowledge, arn_finding


def attachments_bucket_name(config: StageConfig) -> str:
    """Unique per stage, account and region (at most 63 characters, as S3 requires)."""
    return f"{SERVICE_NAME}-{config.name}-attachments-{Aws.ACCOUNT_ID}-{Aws.REGION}"


def attachments_origins(bucket_name: str) -> list[str]:
    """The origins presigned URLs of the bucket use (virtual-hosted style): the regional
    one, and the global one boto3 signs for us-east-1."""
    return [
        f"https://{bucket_name}.s3.{Aws.REGION}.{Aws.URL_SUFFIX}",
        f"https://{bucket_name}.s3.{Aws.URL_SUFFIX}",
    ]


class Attachments(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: StageConfig,
        bucket_name: str,
        web_origins: list[str],
        access_logs: s3.IBucket,
    ) -> None:
        super().__init__(scope, construct_id)
        lifecycle = [
            s3.LifecycleRule(
                id="abort-incomplete-uploads",
                abort_incomplete_multipart_upload_after=Duration.days(1),
            ),
            # Incident evidence is read a lot for a week and rarely after.
            s3.LifecycleRule(
                id="tier-after-30-days",
                transitions=[
                    s3.Transition(
                        storage_class=s3.StorageClass.INTELLIGENT_TIERING,
                        transition_after=Duration.days(30),
                    )
                ],
            ),
        ]
        if config.attachments_expire_days is not None:
            lifecycle.append(
                s3.LifecycleRule(
                    id="expire", expiration=Duration.days(config.attachments_expire_days)
                )
            )
        self.bucket = private_bucket(
            self,
            "Bucket",
            bucket_name=bucket_name,
            access_logs=access_logs,
            access_logs_prefix="attachments/",
            retain=config.is_production,
            cors=[
                s3.CorsRule(
                    allowed_methods=[
                        s3.HttpMethods.POST,  # the upload (nothing uploads with PUT)
                        s3.HttpMethods.GET,
                        s3.HttpMethods.HEAD,
                    ],
                    allowed_origins=web_origins,
                    allowed_headers=["*"],
                    exposed_headers=["ETag"],
                    max_age=3000,
                )
            ],
            lifecycle_rules=lifecycle,
        )

    def grant_presign(self, grantee: lambda_.IFunction) -> None:
        """What a presigned POST or GET needs from its signer, and nothing more."""
        iam.Grant.add_to_principal(
            grantee=grantee,
            actions=["s3:PutObject", "s3:GetObject"],
            resource_arns=[self.bucket.arn_for_objects("*")],
        )
        acknowledge(
            grantee,
            arn_finding(self.bucket, "/*"),
            "Object keys are made per upload at run time; the grant is PutObject/GetObject on"
            " this one bucket's objects.",
        )
