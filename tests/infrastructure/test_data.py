"""Aurora, RDS Proxy, the connection table and the attachments bucket."""

from __future__ import annotations

import pytest
from aws_cdk.assertions import Match

from infra.constants import (
    CONNECTIONS_INDEX_BY_ROOM,
    CONNECTIONS_INDEX_BY_USER,
    CONNECTIONS_INDEX_USER_CONNECTIONS,
    CONNECTIONS_TTL_ATTRIBUTE,
    DB_APP_USER,
)
from tests.infrastructure.conftest import Synthesized

pytestmark = pytest.mark.infrastructure


def test_aurora_serverless_v2_postgres_16_encrypted_with_backups(dev: Synthesized) -> None:
    # Given the dev stage's capacity
    config = dev.config
    # When reading the cluster
    # Then it is Aurora PostgreSQL 16.x on Serverless v2 with that capacity, encrypted,
    # backed up, IAM-authenticating, and without deletion protection on dev
    dev.template.has_resource_properties(
        "AWS::RDS::DBCluster",
        {
            "Engine": "aurora-postgresql",
            "EngineVersion": Match.string_like_regexp(r"^16\."),
            "ServerlessV2ScalingConfiguration": {
                "MinCapacity": config.db_min_acu,
                "MaxCapacity": config.db_max_acu,
            },
            "StorageEncrypted": True,
            "EnableIAMDatabaseAuthentication": True,
            "BackupRetentionPeriod": config.db_backup_days,
            "DeletionProtection": False,
            "Port": 5432,
        },
    )
    dev.template.has_resource_properties(
        "AWS::RDS::DBInstance", {"DBInstanceClass": "db.serverless", "PubliclyAccessible": False}
    )


def test_production_keeps_its_database(prod: Synthesized) -> None:
    # Given the prod stage
    config = prod.config
    # Then its cluster has deletion protection, its own capacity and a reader
    prod.template.has_resource_properties(
        "AWS::RDS::DBCluster",
        {
            "DeletionProtection": True,
            "ServerlessV2ScalingConfiguration": {
                "MinCapacity": config.db_min_acu,
                "MaxCapacity": config.db_max_acu,
            },
            "BackupRetentionPeriod": config.db_backup_days,
        },
    )
    prod.template.resource_count_is("AWS::RDS::DBInstance", 1 + config.db_readers)
    # And deleting the stack snapshots it rather than dropping it
    prod.template.has_resource("AWS::RDS::DBCluster", {"DeletionPolicy": "Snapshot"})


def test_proxy_speaks_only_iam(dev: Synthesized) -> None:
    # Given the RDS Proxy
    # Then clients and the proxy itself authenticate with IAM, over TLS, with no secret
    dev.template.has_resource_properties(
        "AWS::RDS::DBProxy",
        {
            "EngineFamily": "POSTGRESQL",
            "DefaultAuthScheme": "IAM_AUTH",
            "RequireTLS": True,
            "Auth": Match.absent(),
        },
    )
    # And the proxy's own role may log in to the cluster as the application user only
    (proxy,) = dev.of_type("AWS::RDS::DBProxy").values()
    proxy_role = proxy["Properties"]["RoleArn"]["Fn::GetAtt"][0]
    (statement,) = dev.role_statements(proxy_role)
    assert statement["Action"] == "rds-db:connect"
    resource = statement["Resource"]["Fn::Join"][1]
    assert resource[-2:] == [
        {"Fn::GetAtt": [dev.logical_id("AWS::RDS::DBCluster"), "DBClusterResourceId"]},
        f"/{DB_APP_USER}",
    ]


def test_proxy_pool_follows_the_db_pool_knobs(dev: Synthesized) -> None:
    # Given DB_POOL_SIZE, DB_MAX_OVERFLOW and DB_POOL_TIMEOUT of the dev stage
    config = dev.config
    # When reading the proxy's target group
    # Then the borrow timeout is DB_POOL_TIMEOUT and the percentages come from the pool
    dev.template.has_resource_properties(
        "AWS::RDS::DBProxyTargetGroup",
        {
            "ConnectionPoolConfigurationInfo": {
                "ConnectionBorrowTimeout": config.db_pool_timeout_s,
                "MaxConnectionsPercent": config.proxy_max_connections_percent,
                "MaxIdleConnectionsPercent": config.proxy_max_idle_connections_percent,
            },
            "Tags": Match.absent(),
        },
    )
    assert config.db_pool_timeout_s == 10
    # And the functions read the same numbers
    variables = dev.resources[dev.function_id("warroom-message")]["Properties"]["Environment"][
        "Variables"
    ]
    assert variables["DB_POOL_SIZE"] == str(config.db_pool_size)
    assert variables["DB_MAX_OVERFLOW"] == str(config.db_max_overflow)
    assert variables["DB_POOL_TIMEOUT"] == str(config.db_pool_timeout_s)


def test_database_is_reachable_only_from_the_proxy_and_the_migrator(dev: Synthesized) -> None:
    # Given the cluster's security group
    (cluster,) = dev.of_type("AWS::RDS::DBCluster").values()
    (cluster_sg,) = cluster["Properties"]["VpcSecurityGroupIds"]
    cluster_sg_id = cluster_sg["Fn::GetAtt"][0]
    # When collecting who may reach it
    sources = {
        rule["Properties"]["SourceSecurityGroupId"]["Fn::GetAtt"][0]
        for rule in dev.of_type("AWS::EC2::SecurityGroupIngress").values()
        if rule["Properties"]["GroupId"] == {"Fn::GetAtt": [cluster_sg_id, "GroupId"]}
    }
    descriptions = {dev.resources[s]["Properties"]["GroupDescription"] for s in sources}
    # Then only the proxy, the migration function and the secret rotation may, on 5432
    assert "RDS Proxy" in descriptions
    assert "Deploy-time migrations" in descriptions
    assert "Lambda functions of the war room" not in descriptions
    assert len(sources) == 3  # + the secret-rotation function


def test_connection_table_on_demand_with_ttl_and_indexes(dev: Synthesized) -> None:
    # Given the connection table
    # Then it is billed on demand, expires rows on `expires_at`, and has both indexes
    dev.template.has_resource_properties(
        "AWS::DynamoDB::Table",
        {
            "BillingMode": "PAY_PER_REQUEST",
            "KeySchema": [{"AttributeName": "connection_id", "KeyType": "HASH"}],
            "TimeToLiveSpecification": {
                "AttributeName": CONNECTIONS_TTL_ATTRIBUTE,
                "Enabled": True,
            },
            "GlobalSecondaryIndexes": Match.array_with(
                [
                    {
                        "IndexName": CONNECTIONS_INDEX_BY_ROOM,
                        "KeySchema": [
                            {"AttributeName": "room_id", "KeyType": "HASH"},
                            {"AttributeName": "connection_id", "KeyType": "RANGE"},
                        ],
                        "Projection": {"ProjectionType": "ALL"},
                    },
                    {
                        "IndexName": CONNECTIONS_INDEX_BY_USER,
                        "KeySchema": [
                            {"AttributeName": "user_id", "KeyType": "HASH"},
                            {"AttributeName": "connection_id", "KeyType": "RANGE"},
                        ],
                        "Projection": {"ProjectionType": "ALL"},
                    },
                    {
                        "IndexName": CONNECTIONS_INDEX_USER_CONNECTIONS,
                        "KeySchema": [
                            {"AttributeName": "audience", "KeyType": "HASH"},
                            {"AttributeName": "connection_id", "KeyType": "RANGE"},
                        ],
                        "Projection": {"ProjectionType": "ALL"},
                    },
                ]
            ),
        },
    )


def test_every_bucket_blocks_public_access_and_is_encrypted(dev: Synthesized) -> None:
    # Given every bucket of the stack
    buckets = dev.of_type("AWS::S3::Bucket")
    assert len(buckets) == 3  # web, attachments, access logs
    for bucket in buckets.values():
        properties = bucket["Properties"]
        # Then none can be made public and all are encrypted at rest
        assert properties["PublicAccessBlockConfiguration"] == {
            "BlockPublicAcls": True,
            "BlockPublicPolicy": True,
            "IgnorePublicAcls": True,
            "RestrictPublicBuckets": True,
        }
        assert properties["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    # And every bucket policy refuses plain HTTP
    for policy in dev.of_type("AWS::S3::BucketPolicy").values():
        statements = policy["Properties"]["PolicyDocument"]["Statement"]
        assert any(
            s["Effect"] == "Deny"
            and s.get("Condition", {}).get("Bool", {}).get("aws:SecureTransport") == "false"
            for s in statements
        )


def test_attachments_bucket_cors_and_lifecycle(dev: Synthesized) -> None:
    # Given the attachments bucket (the one with CORS)
    (bucket,) = [
        b["Properties"] for b in dev.of_type("AWS::S3::Bucket").values()
        if "CorsConfiguration" in b["Properties"]
    ]  # fmt: skip
    (rule,) = bucket["CorsConfiguration"]["CorsRules"]
    # Then browsers on the web origin may PUT and GET through presigned URLs
    assert {"PUT", "GET"} <= set(rule["AllowedMethods"])
    assert "*" not in rule["AllowedOrigins"]
    assert any("WebDistribution" in str(origin) for origin in rule["AllowedOrigins"])
    # And lifecycle rules abort stale uploads, tier old files and (on dev) expire them
    rules = {r["Id"]: r for r in bucket["LifecycleConfiguration"]["Rules"]}
    assert rules["abort-incomplete-uploads"]["AbortIncompleteMultipartUpload"] == {
        "DaysAfterInitiation": 1
    }
    assert rules["tier-after-30-days"]["Transitions"][0]["StorageClass"] == "INTELLIGENT_TIERING"
    assert rules["expire"]["ExpirationInDays"] == dev.config.attachments_expire_days
    # And access is logged
    assert bucket["LoggingConfiguration"]["LogFilePrefix"] == "attachments/"
