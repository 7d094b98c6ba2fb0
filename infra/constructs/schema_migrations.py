"""Migrations on deploy: a custom resource whose function runs `alembic upgrade head`.

The function (functions/migrate) connects to the cluster directly as the master user,
with the password it reads from Secrets Manager at run time, then grants the IAM user the
application logs in as (`warroom_app`) its rights on the tables.

It runs again whenever its properties change: the hash of the bundled migrations, and
`-c deploy_id=…`, which `make deploy` sets to the time so that every deploy re-applies
(an idempotent no-op when the schema is already at head).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from aws_cdk import CustomResource
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_lambda as lambda_
from aws_cdk import custom_resources as cr
from constructs import Construct

from infra.constants import (
    DB_APP_USER,
    DB_NAME,
    FN_MIGRATE,
    MIGRATIONS_LAYER_SUBDIR,
    REPO_ROOT,
    StageConfig,
)
from infra.constructs.common import log_group
from infra.constructs.database import Database
from infra.constructs.functions import FunctionFactory
from infra.constructs.nag import LAMBDA_BASIC_EXECUTION, acknowledge, arn_finding, finding
from infra.constructs.network import Network

FRAMEWORK_MEMORY_MB = 128


def tree_hash(root: Path) -> str:
    """A content hash of every file under `root` (names and bytes), caches excluded."""
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        if "__pycache__" in path.parts:
            continue
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


class SchemaMigrations(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: StageConfig,
        network: Network,
        database: Database,
        functions: FunctionFactory,
        migrate_layer_dir: Path,
        deploy_id: str | None,
    ) -> None:
        super().__init__(scope, construct_id)
        secret = database.cluster.secret
        assert secret is not None

        # Its own group: the cluster admits the proxy and this function, no other.
        security_group = ec2.SecurityGroup(
            self,
            "MigrateSg",
            vpc=network.vpc,
            description="Deploy-time migrations",
            allow_all_outbound=True,  # Secrets Manager through the NAT, Aurora in the VPC
        )
        tools_layer = functions.layer(
            "MigrateLayer",
            migrate_layer_dir,
            "Alembic, SQLAlchemy and the migrations folder (/opt/migrations)",
        )
        self.function = functions.create(
            FN_MIGRATE,
            environment={
                "DB_CONNECTION_MODE": "single",
                "DB_IAM_AUTH": "false",  # the master user logs in with its password
                "DB_SECRET_ARN": secret.secret_arn,
                "DB_NAME": DB_NAME,
                "DB_APP_USER": DB_APP_USER,
                # Migration 0002 writes it as the database's default statement timeout.
                "DB_STATEMENT_TIMEOUT_MS": str(config.db_statement_timeout_ms),
                "WARROOM_MIGRATIONS_DIR": f"/opt/{MIGRATIONS_LAYER_SUBDIR}",
            },
            extra_layers=[tools_layer],
            security_group=security_group,
        )
        database.allow_admin_client(self.function, security_group)

        provider = cr.Provider(
            self,
            "Provider",
            on_event_handler=self.function,
            log_group=log_group(self, "ProviderLogs", config),
        )
        # The framework's function only relays events: the smallest memory is plenty, and
        # saying so explicitly keeps cfn-lint's serverless rules (ES1005) satisfied.
        framework = provider.node.find_child("framework-onEvent").node.default_child
        assert isinstance(framework, lambda_.CfnFunction)
        framework.memory_size = FRAMEWORK_MEMORY_MB
        bundled = migrate_layer_dir / MIGRATIONS_LAYER_SUBDIR
        migrations = bundled if bundled.is_dir() else REPO_ROOT / MIGRATIONS_LAYER_SUBDIR
        self.resource = CustomResource(
            self,
            "Schema",
            service_token=provider.service_token,
            resource_type="Custom::WarRoomSchema",
            properties={
                "MigrationsHash": tree_hash(migrations),
                "DeployId": deploy_id or "",
                "AppUser": DB_APP_USER,
            },
        )
        # The writer must be up, and the cluster must admit this function, before the
        # first upgrade.
        self.resource.node.add_dependency(database.cluster, database.cluster_security_group)

        acknowledge(
            provider,
            finding("AwsSolutions-IAM4", LAMBDA_BASIC_EXECUTION),
            "The CDK custom-resource framework function writes its own logs with"
            " AWSLambdaBasicExecutionRole.",
        )
        acknowledge(
            provider,
            arn_finding(self.function, ":*"),
            "The framework may invoke any version of the migration function"
            " (FunctionArn:*), as aws-cdk-lib generates it.",
        )
        acknowledge(
            provider,
            "AwsSolutions-L1",
            "The framework function's Node.js runtime is chosen and kept current by aws-cdk-lib.",
        )
