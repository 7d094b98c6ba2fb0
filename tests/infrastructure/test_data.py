"""Aurora, RDS Proxy (prod) and the attachments bucket."""

from __future__ import annotations

import pytest
from aws_cdk.assertions import Match

from infra.constants import DB_APP_USER, DB_PORT
from tests.infrastructure.conftest import Synthesized

pytestmark = pytest.mark.infrastructure


def test_aurora_serverless_v2_postgres_16_encrypted_with_backups(dev: Synthesized) -> None:
    # Given the dev stage's capacity
    config = dev.config
    # When reading the cluster
    # Then it is Aurora PostgreSQL 16.x on Serverless v2 that pauses at 0 ACU when idle,
    # encrypted, backed up, IAM-authenticating, and without deletion protection on dev
    assert config.db_min_acu == 0
    assert config.db_auto_pause_minutes
    dev.template.has_resource_properties(
        "AWS::RDS::DBCluster",
        {
            "Engine": "aurora-postgresql",
            "EngineVersion": Match.string_like_regexp(r"^16\."),
            "ServerlessV2ScalingConfiguration": {
                "MinCapacity": 0,
                "MaxCapacity": config.db_max_acu,
                "SecondsUntilAutoPause": config.db_auto_pause_minutes * 60,
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


def test_dev_has_no_proxy_and_prod_keeps_it(dev: Synthesized, prod: Synthesized) -> None:
    # Given both stages
    # Then dev's functions go straight to Aurora (a proxy costs ≥ 8 ACUs and would keep the
    # cluster from pausing), while prod keeps RDS Proxy's pooling and fast failover
    dev.template.resource_count_is("AWS::RDS::DBProxy", 0)
    prod.template.resource_count_is("AWS::RDS::DBProxy", 1)


def test_proxy_speaks_only_iam(prod: Synthesized) -> None:
    # Given the RDS Proxy
    # Then clients and the proxy itself authenticate with IAM, over TLS, with no secret
    prod.template.has_resource_properties(
        "AWS::RDS::DBProxy",
        {
            "EngineFamily": "POSTGRESQL",
            "DefaultAuthScheme": "IAM_AUTH",
            "RequireTLS": True,
            "Auth": Match.absent(),
        },
    )
    # And the proxy's own role may log in to the cluster as the application user only
    (proxy,) = prod.of_type("AWS::RDS::DBProxy").values()
    proxy_role = proxy["Properties"]["RoleArn"]["Fn::GetAtt"][0]
    (statement,) = prod.role_statements(proxy_role)
    assert statement["Action"] == "rds-db:connect"
    resource = statement["Resource"]["Fn::Join"][1]
    assert resource[-2:] == [
        {"Fn::GetAtt": [prod.logical_id("AWS::RDS::DBCluster"), "DBClusterResourceId"]},
        f"/{DB_APP_USER}",
    ]


def test_proxy_pool_follows_the_db_pool_knobs(prod: Synthesized) -> None:
    # Given DB_POOL_SIZE, DB_MAX_OVERFLOW and DB_POOL_TIMEOUT of the prod stage
    config = prod.config
    # When reading the proxy's target group
    # Then the borrow timeout is DB_POOL_TIMEOUT and the percentages come from the pool
    prod.template.has_resource_properties(
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
    variables = prod.resources[prod.function_id("warroom-message")]["Properties"]["Environment"][
        "Variables"
    ]
    assert variables["DB_POOL_SIZE"] == str(config.db_pool_size)
    assert variables["DB_MAX_OVERFLOW"] == str(config.db_max_overflow)
    assert variables["DB_POOL_TIMEOUT"] == str(config.db_pool_timeout_s)


def _cluster_security_group(synth: Synthesized) -> str:
    (cluster,) = synth.of_type("AWS::RDS::DBCluster").values()
    (cluster_sg,) = cluster["Properties"]["VpcSecurityGroupIds"]
    return str(cluster_sg["Fn::GetAtt"][0])


def _rules(synth: Synthesized, kind: str, group: str) -> list[dict]:
    """The ingress or egress rules (`kind`) of one security group."""
    return [
        rule["Properties"]
        for rule in synth.of_type(kind).values()
        if rule["Properties"]["GroupId"] == {"Fn::GetAtt": [group, "GroupId"]}
    ]


def test_database_is_reachable_only_from_its_clients(stage: Synthesized) -> None:
    # Given the cluster's security group
    cluster_sg = _cluster_security_group(stage)
    # When collecting who may reach it
    sources = {
        rule["SourceSecurityGroupId"]["Fn::GetAtt"][0]
        for rule in _rules(stage, "AWS::EC2::SecurityGroupIngress", cluster_sg)
    }
    descriptions = {stage.resources[s]["Properties"]["GroupDescription"] for s in sources}
    # Then the migration function and the secret rotation may, and the application
    # functions only through the proxy where there is one, directly where there is not
    assert "Deploy-time migrations" in descriptions
    if stage.config.db_proxy:
        assert "RDS Proxy" in descriptions
        assert "Lambda functions of the war room" not in descriptions
    else:
        assert "Lambda functions of the war room" in descriptions
    assert len(sources) == 3  # + the secret-rotation function


def test_proxy_to_cluster_rules_exist_once(prod: Synthesized) -> None:
    # Given the proxy's and the cluster's security groups
    cluster_sg = _cluster_security_group(prod)
    (proxy,) = prod.of_type("AWS::RDS::DBProxy").values()
    (proxy_sg,) = proxy["Properties"]["VpcSecurityGroupIds"]
    proxy_sg_id = proxy_sg["Fn::GetAtt"][0]
    # When counting the rules between them
    ingress = [
        rule
        for rule in _rules(prod, "AWS::EC2::SecurityGroupIngress", cluster_sg)
        if rule["SourceSecurityGroupId"] == {"Fn::GetAtt": [proxy_sg_id, "GroupId"]}
    ]
    egress = [
        rule
        for rule in _rules(prod, "AWS::EC2::SecurityGroupEgress", proxy_sg_id)
        if rule["DestinationSecurityGroupId"] == {"Fn::GetAtt": [cluster_sg, "GroupId"]}
    ]
    # Then the cluster admits the proxy once, and the proxy may reach it once
    assert len(ingress) == 1
    assert len(egress) == 1
    # And that is the proxy's only way out, on the cluster's port
    assert len(prod.of_type("AWS::EC2::SecurityGroupEgress")) == 1
    cluster_port = {"Fn::GetAtt": [prod.logical_id("AWS::RDS::DBCluster"), "Endpoint.Port"]}
    assert ingress[0]["FromPort"] in (DB_PORT, cluster_port)
    assert egress[0]["ToPort"] in (DB_PORT, cluster_port)


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
    # Then browsers on the web origin may upload with a presigned POST (the client's XHR
    # with an upload-progress listener is preflighted) and read with presigned GETs
    assert {"POST", "GET"} <= set(rule["AllowedMethods"])
    assert rule["AllowedHeaders"] == ["*"]  # whatever headers the preflight announces
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
