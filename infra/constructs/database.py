"""Aurora PostgreSQL Serverless v2, behind an RDS Proxy that only speaks IAM on prod.

- Functions log in as `warroom_app` with a 15-minute IAM token: no password exists for
  that user anywhere. On prod they log in to the proxy, which logs in to Aurora the same
  way (end-to-end IAM, `DefaultAuthScheme.IAM_AUTH`), so its role needs `rds-db:connect`
  on the cluster. On dev (`StageConfig.db_proxy` off) they log in to the cluster directly
  with the same tokens, and the cluster pauses at 0 ACU when nobody is connected (a proxy
  would hold connections open and keep it awake).
- TLS is verified (`sslmode=verify-full`) against the CAs shipped in the layer:
  `warroom/db/aws-ca-bundle.pem` (infra/ca_bundle.py).
- The master user's password lives only in Secrets Manager (rotated monthly); the
  deploy-time migration function reads it at run time and connects to the cluster
  directly, never through the proxy.
- The proxy's pool is sized from the same DB_POOL_* numbers the application reads: see
  `StageConfig.proxy_max_connections_percent` and docs/deploy.md.
"""

from __future__ import annotations

from aws_cdk import Duration, Names, RemovalPolicy
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_rds as rds
from constructs import Construct

from infra.constants import (
    AURORA_POSTGRES_VERSION,
    DB_APP_USER,
    DB_MASTER_USER,
    DB_NAME,
    DB_PORT,
    SERVICE_NAME,
    StageConfig,
)
from infra.constructs.common import log_group
from infra.constructs.nag import acknowledge
from infra.constructs.network import Network


class Database(Construct):
    def __init__(
        self, scope: Construct, construct_id: str, *, config: StageConfig, network: Network
    ) -> None:
        super().__init__(scope, construct_id)
        self._config = config
        vpc = network.vpc
        removal = RemovalPolicy.SNAPSHOT if config.is_production else RemovalPolicy.DESTROY

        self.cluster_security_group = ec2.SecurityGroup(
            self, "ClusterSg", vpc=vpc, description="Aurora cluster", allow_all_outbound=False
        )
        # A fixed identifier so the PostgreSQL log group can exist (with a retention)
        # before the cluster writes to it, without a log-retention custom resource.
        cluster_identifier = f"{SERVICE_NAME}-{config.name}"
        postgres_logs = log_group(
            self,
            "PostgresLogs",
            config,
            log_group_name=f"/aws/rds/cluster/{cluster_identifier}/postgresql",
        )

        self.cluster = rds.DatabaseCluster(
            self,
            "Cluster",
            cluster_identifier=cluster_identifier,
            engine=rds.DatabaseClusterEngine.aurora_postgres(
                version=rds.AuroraPostgresEngineVersion.of(*AURORA_POSTGRES_VERSION)
            ),
            writer=rds.ClusterInstance.serverless_v2(
                "writer", publicly_accessible=False, enable_performance_insights=True
            ),
            readers=[
                rds.ClusterInstance.serverless_v2(
                    f"reader{index}", publicly_accessible=False, scale_with_writer=True
                )
                for index in range(1, config.db_readers + 1)
            ],
            serverless_v2_min_capacity=config.db_min_acu,
            serverless_v2_max_capacity=config.db_max_acu,
            serverless_v2_auto_pause_duration=(
                Duration.minutes(config.db_auto_pause_minutes)
                if config.db_auto_pause_minutes
                else None
            ),
            vpc=vpc,
            vpc_subnets=network.private_subnets,
            security_groups=[self.cluster_security_group],
            port=DB_PORT,
            default_database_name=DB_NAME,
            credentials=rds.Credentials.from_generated_secret(DB_MASTER_USER),
            iam_authentication=True,
            # SQL from the console's query editor or `aws rds-data` with the master secret:
            # operations (e.g. the first admin) without a bastion in the VPC.
            enable_data_api=True,
            storage_encrypted=True,
            backup=rds.BackupProps(retention=Duration.days(config.db_backup_days)),
            deletion_protection=config.is_production,
            removal_policy=removal,
            cloudwatch_logs_exports=["postgresql"],
            parameters={
                "rds.force_ssl": "1",
                # Slow statements land in the exported PostgreSQL log.
                "log_min_duration_statement": "1000",
            },
        )
        self.cluster.node.add_dependency(postgres_logs)
        if not config.is_production:
            acknowledge(
                self.cluster,
                "AwsSolutions-RDS10",
                "Development stage: `make destroy` must be able to delete the cluster;"
                " production has deletion protection on.",
            )
        # Not at creation: the first deploy's migrations read the secret meanwhile.
        rotation = self.cluster.add_rotation_single_user(
            automatically_after=Duration.days(30), rotate_immediately_on_update=False
        )
        # The rotation function comes from a Serverless Application Repository app, named
        # after the construct (as aws-cdk-lib names it): its log group exists first, with a
        # retention, instead of an implicit one that keeps logs forever.
        rotation_function_name = Names.unique_id(rotation)[-64:]
        rotation_logs = log_group(
            self, "RotationLogs", config, log_group_name=f"/aws/lambda/{rotation_function_name}"
        )
        rotation.node.add_dependency(rotation_logs)

        self.proxy: rds.DatabaseProxy | None = None
        if config.db_proxy:
            self.proxy = self._add_proxy(config, network)

    def _add_proxy(self, config: StageConfig, network: Network) -> rds.DatabaseProxy:
        # The proxy's own identity towards Aurora (end-to-end IAM): it may log in as the
        # application user and nobody else.
        proxy_role = iam.Role(
            self, "ProxyRole", assumed_by=iam.ServicePrincipal("rds.amazonaws.com")
        )
        self.cluster.grant_connect(proxy_role, DB_APP_USER)
        proxy_security_group = ec2.SecurityGroup(
            self, "ProxySg", vpc=network.vpc, description="RDS Proxy", allow_all_outbound=False
        )
        # The proxy target admits the proxy's group on the cluster's port (and the matching
        # egress) by itself: no rule of our own, or each would be there twice.
        return rds.DatabaseProxy(
            self,
            "Proxy",
            proxy_target=rds.ProxyTarget.from_cluster(self.cluster),
            vpc=network.vpc,
            vpc_subnets=network.private_subnets,
            security_groups=[proxy_security_group],
            role=proxy_role,
            default_auth_scheme=rds.DefaultAuthScheme.IAM_AUTH,
            require_tls=True,
            borrow_timeout=Duration.seconds(config.db_pool_timeout_s),
            max_connections_percent=config.proxy_max_connections_percent,
            max_idle_connections_percent=config.proxy_max_idle_connections_percent,
            idle_client_timeout=Duration.minutes(30),
        )

    def app_environment(self) -> dict[str, str]:
        """What the application reads to reach the database (settings.DatabaseSettings)."""
        c = self._config
        return {
            "DB_CONNECTION_MODE": "single",
            "DB_IAM_AUTH": "true",
            "DB_HOST": self.proxy.endpoint
            if self.proxy
            else self.cluster.cluster_endpoint.hostname,
            "DB_PORT": str(DB_PORT),
            "DB_NAME": DB_NAME,
            "DB_USER": DB_APP_USER,
            "DB_POOL_SIZE": str(c.db_pool_size),
            "DB_MAX_OVERFLOW": str(c.db_max_overflow),
            "DB_POOL_TIMEOUT": str(c.db_pool_timeout_s),
            "DB_POOL_RECYCLE": str(c.db_pool_recycle_s),
            "DB_STATEMENT_TIMEOUT_MS": str(c.db_statement_timeout_ms),
            "DB_CONNECT_TIMEOUT": str(c.db_connect_timeout_s),
        }

    def allow_app_client(self, fn: lambda_.Function, security_group: ec2.ISecurityGroup) -> None:
        """Let a function reach the proxy (or, without one, the cluster) and log in as the
        application user."""
        if self.proxy is not None:
            self.proxy.connections.allow_from(
                security_group, ec2.Port.tcp(DB_PORT), "Lambda functions to RDS Proxy"
            )
            self.proxy.grant_connect(fn, DB_APP_USER)
            return
        self.cluster.connections.allow_from(
            security_group, ec2.Port.tcp(DB_PORT), "Lambda functions to Aurora"
        )
        self.cluster.grant_connect(fn, DB_APP_USER)

    def allow_admin_client(self, fn: lambda_.Function, security_group: ec2.ISecurityGroup) -> None:
        """Let the migration function read the master secret and reach the cluster."""
        self.cluster_security_group.add_ingress_rule(
            security_group, ec2.Port.tcp(DB_PORT), "Migrations to Aurora"
        )
        secret = self.cluster.secret
        assert secret is not None  # from_generated_secret always makes one
        # GetSecretValue only: grant_read would add DescribeSecret, which no code calls
        # (tests/infrastructure/test_iam_from_code.py).
        fn.add_to_role_policy(
            iam.PolicyStatement(
                actions=["secretsmanager:GetSecretValue"], resources=[secret.secret_arn]
            )
        )
