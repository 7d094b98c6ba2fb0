"""Machine readings (issue 18): the KMS key that seals the ingest sources' webhook
secrets (envelope encryption: `warroom/sealing.py` asks for a data key per secret and
stores it wrapped), granted to the HTTP function only."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from infra.constants import SERVICE_NAME, StageConfig


class IngestSecrets(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, config: StageConfig) -> None:
        super().__init__(scope, construct_id)
        self.key = kms.Key(
            self,
            "Key",
            description=f"{SERVICE_NAME}-{config.name}: ingest sources' webhook secrets",
            enable_key_rotation=True,
            removal_policy=RemovalPolicy.RETAIN,
        )

    def environment(self) -> dict[str, str]:
        return {"INGEST_KMS_KEY_ID": self.key.key_arn}

    def grant(self, fn: lambda_.IFunction) -> None:
        """Seal (a new data key) and open (unwrap it): nothing else on the key."""
        self.key.grant(fn, "kms:GenerateDataKey", "kms:Decrypt")
