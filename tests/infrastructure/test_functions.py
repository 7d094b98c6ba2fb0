"""The Lambda functions: shape, placement, settings and least-privilege grants."""

from __future__ import annotations

import json
from typing import Any

import pytest

from infra.constants import (
    DB_APP_USER,
    FN_AUTHORIZER,
    FN_CONNECT,
    FN_HISTORY,
    FN_MESSAGE,
    FN_MIGRATE,
    FN_SWEEP,
    FN_USER_SYNC,
    METRICS_NAMESPACE,
    USER_SYNC_DB_CONNECT_TIMEOUT_S,
    FunctionSpec,
)
from tests.infrastructure.conftest import ALL_FUNCTIONS, Synthesized

pytestmark = pytest.mark.infrastructure

APP_SETTINGS = (
    "ATTACHMENTS_BUCKET",
    "WS_MANAGEMENT_ENDPOINT",
    "JWT_ISSUER",
    "JWT_AUDIENCE",
    "WEB_ORIGIN",
    "DB_HOST",
)


def _properties(synth: Synthesized, spec: FunctionSpec) -> dict[str, Any]:
    properties: dict[str, Any] = synth.resources[synth.function_id(spec.service)]["Properties"]
    return properties


def _private_subnets(synth: Synthesized) -> list[dict[str, str]]:
    return [
        {"Ref": logical_id}
        for logical_id, subnet in synth.of_type("AWS::EC2::Subnet").items()
        if {"Key": "aws-cdk:subnet-type", "Value": "Private"} in subnet["Properties"]["Tags"]
    ]


def _actions(statement: dict[str, Any]) -> list[str]:
    action = statement["Action"]
    return [action] if isinstance(action, str) else list(action)


@pytest.mark.parametrize("spec", ALL_FUNCTIONS, ids=lambda spec: spec.service)
def test_function_runs_python_on_arm64_in_private_subnets_with_the_layer(
    dev: Synthesized, spec: FunctionSpec
) -> None:
    # Given one function of the war room
    properties = _properties(dev, spec)
    # Then it runs Python 3.12 on Graviton with the handler of its folder
    assert properties["Runtime"] == "python3.12"
    assert properties["Architectures"] == ["arm64"]
    assert properties["Handler"] == spec.handler
    # And it lives in the private subnets, never in the public ones
    private = _private_subnets(dev)
    assert len(private) == 2
    assert sorted(properties["VpcConfig"]["SubnetIds"], key=str) == sorted(private, key=str)
    # And it carries the shared layer (the warroom package and its dependencies)
    shared_layer = {"Ref": dev.logical_id_of_layer("The warroom package")}
    assert shared_layer in properties["Layers"]
    # And tracing and Powertools metrics are on
    assert properties["TracingConfig"] == {"Mode": "Active"}
    variables = properties["Environment"]["Variables"]
    assert variables["POWERTOOLS_METRICS_NAMESPACE"] == METRICS_NAMESPACE
    assert variables["POWERTOOLS_SERVICE_NAME"] == spec.service


@pytest.mark.parametrize(
    "spec", (FN_CONNECT, FN_AUTHORIZER, FN_MESSAGE, FN_HISTORY), ids=lambda spec: spec.service
)
def test_api_functions_get_every_setting_the_code_validates(
    stage: Synthesized, spec: FunctionSpec
) -> None:
    # Given a function behind one of the APIs, on either stage
    variables = _properties(stage, spec)["Environment"]["Variables"]
    # Then it has every setting RuntimeSettings requires at cold start
    assert set(APP_SETTINGS) <= set(variables)
    # And it reaches the database with IAM tokens, no password: through the proxy where
    # there is one (prod), else straight to the cluster's writer endpoint (dev)
    assert variables["DB_IAM_AUTH"] == "true"
    assert variables["DB_CONNECTION_MODE"] == "single"
    assert variables["DB_USER"] == DB_APP_USER
    if stage.config.db_proxy:
        proxy = stage.logical_id("AWS::RDS::DBProxy")
        assert variables["DB_HOST"] == {"Fn::GetAtt": [proxy, "Endpoint"]}
    else:
        cluster = stage.logical_id("AWS::RDS::DBCluster")
        assert variables["DB_HOST"] == {"Fn::GetAtt": [cluster, "Endpoint.Address"]}
    assert variables["DB_CONNECT_TIMEOUT"] == str(stage.config.db_connect_timeout_s)
    assert variables["JWT_TOKEN_USE"] == "id"
    assert variables["WS_MANAGEMENT_ENDPOINT"]["Fn::Join"][1][0] == "https://"


def test_dev_sweep_asks_cloudwatch_before_waking_the_database(
    dev: Synthesized, prod: Synthesized
) -> None:
    # Given the sweep function of each stage
    dev_sweep = _properties(dev, FN_SWEEP)["Environment"]["Variables"]
    prod_sweep = _properties(prod, FN_SWEEP)["Environment"]["Variables"]
    # Then on dev (the database pauses) it knows which WebSocket stage's connects to read
    (websocket_api,) = [
        k for k, v in dev.of_type("AWS::ApiGatewayV2::Api").items()
        if v["Properties"]["ProtocolType"] == "WEBSOCKET"
    ]  # fmt: skip
    assert dev_sweep["SWEEP_GATE_API_ID"] == {"Ref": websocket_api}
    assert dev_sweep["SWEEP_GATE_STAGE"] == dev.config.name
    assert "cloudwatch:GetMetricStatistics" in _granted(dev, FN_SWEEP)
    # And on prod (the database never pauses) it just sweeps
    assert "SWEEP_GATE_API_ID" not in prod_sweep
    assert "cloudwatch:GetMetricStatistics" not in _granted(prod, FN_SWEEP)


def test_no_function_has_a_dynamodb_setting_or_grant(stage: Synthesized) -> None:
    # Given every function and policy of the stack (connections live in PostgreSQL now)
    variables = {
        name
        for fn in stage.of_type("AWS::Lambda::Function").values()
        for name in fn["Properties"].get("Environment", {}).get("Variables", {})
    }
    actions = {
        action
        for policy in stage.of_type("AWS::IAM::Policy").values()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        for action in _actions(statement)
    }
    # Then no table, no table setting and no DynamoDB permission is left
    assert not stage.of_type("AWS::DynamoDB::Table")
    assert not [name for name in variables if name.startswith("CONNECTIONS_")]
    assert not [action for action in actions if action.startswith("dynamodb:")]


def test_user_sync_connects_with_a_short_timeout(stage: Synthesized) -> None:
    # Given the Cognito trigger, which Cognito waits for at most 5 s
    properties = _properties(stage, FN_USER_SYNC)
    variables = properties["Environment"]["Variables"]
    # Then a database connect attempt gives up after 1-2 s, well inside its own timeout
    timeout = int(variables["DB_CONNECT_TIMEOUT"])
    assert timeout == USER_SYNC_DB_CONNECT_TIMEOUT_S
    assert 1 <= timeout <= 2
    assert properties["Timeout"] == 5


def test_no_function_holds_a_password_or_a_dev_switch(dev: Synthesized) -> None:
    # Given every function of the stack, ours and CDK's
    for fn in dev.of_type("AWS::Lambda::Function").values():
        variables = fn["Properties"].get("Environment", {}).get("Variables", {})
        # Then no setting carries a password, a database URL or the local dev login
        assert not {"DATABASE_URL", "DB_PASSWORD", "DEV_LOGIN_ENABLED"} & set(variables)
        assert not [name for name in variables if "PASSWORD" in name or name == "SECRET"]


def test_migration_function_reads_the_master_secret_at_run_time(dev: Synthesized) -> None:
    # Given the migration function
    properties = _properties(dev, FN_MIGRATE)
    variables = properties["Environment"]["Variables"]
    # Then it names the secret (not its value), its bundled migrations and the IAM user
    secret = variables["DB_SECRET_ARN"]["Ref"]  # the secret, attached to the cluster
    assert dev.resources[secret]["Type"] == "AWS::SecretsManager::SecretTargetAttachment"
    assert variables["WARROOM_MIGRATIONS_DIR"] == "/opt/migrations"
    assert variables["DB_APP_USER"] == DB_APP_USER
    assert variables["DB_IAM_AUTH"] == "false"
    # And it has the Alembic layer besides the shared one
    tools_layer = {"Ref": dev.logical_id_of_layer("Alembic")}
    assert tools_layer in properties["Layers"]
    # And only it may read the secret
    readers = [
        logical_id
        for logical_id, policy in dev.of_type("AWS::IAM::Policy").items()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if "secretsmanager:GetSecretValue" in _actions(statement)
        and statement["Resource"] == {"Ref": secret}
    ]
    assert len(readers) == 1
    assert readers[0].startswith("FunctionsMigrateFn")


def test_migrations_run_as_a_custom_resource_on_every_deploy(dev: Synthesized) -> None:
    # Given the schema custom resource
    (schema,) = dev.of_type("Custom::WarRoomSchema").values()
    properties = schema["Properties"]
    # Then it carries the deploy id (a new one each `make deploy`) and the migrations hash
    assert properties["DeployId"] == "test-deploy"
    assert len(properties["MigrationsHash"]) == 64
    # And it waits for the database
    assert any(dep.startswith("DatabaseCluster") for dep in schema["DependsOn"])


def test_no_iam_statement_grants_wildcard_actions(dev: Synthesized) -> None:
    # Given every IAM policy of the stack (attached, inline and managed)
    documents = [
        p["Properties"]["PolicyDocument"] for p in dev.of_type("AWS::IAM::Policy").values()
    ]
    documents += [
        p["Properties"]["PolicyDocument"] for p in dev.of_type("AWS::IAM::ManagedPolicy").values()
    ]
    for role in dev.of_type("AWS::IAM::Role").values():
        documents += [p["PolicyDocument"] for p in role["Properties"].get("Policies", [])]
    assert documents
    # Then no statement allows "*" or "service:*"
    for document in documents:
        for statement in document["Statement"]:
            for action in _actions(statement):
                assert action != "*" and not action.endswith(":*"), statement


def _granted(synth: Synthesized, spec: FunctionSpec) -> set[str]:
    return {
        action
        for statement in synth.function_statements(spec.service)
        for action in _actions(statement)
        if not action.startswith(("xray:", "ec2:", "logs:"))
    }


def test_each_function_gets_only_what_it_uses(dev: Synthesized) -> None:
    # Given the grants of each function's role
    granted = {spec.service: _granted(dev, spec) for spec in ALL_FUNCTIONS}
    # Then the authorizer only verifies tokens: no data access at all
    assert granted[FN_AUTHORIZER.service] == set()
    # And the Cognito trigger only logs in to the database
    assert granted[FN_USER_SYNC.service] == {"rds-db:connect"}
    # And the sweep logs in and announces pending joins (on dev it also reads
    # ConnectCount, to let a paused database sleep)
    assert granted[FN_SWEEP.service] - {"cloudwatch:GetMetricStatistics"} == {
        "rds-db:connect",
        "execute-api:ManageConnections",
    }
    # And the WebSocket and HTTP functions fan out and use the database, nothing else
    for spec in (FN_CONNECT, FN_MESSAGE, FN_HISTORY):
        actions = granted[spec.service]
        assert {"execute-api:ManageConnections", "rds-db:connect"} <= actions
    # And only the history function (the HTTP API) signs attachment URLs
    assert {"s3:PutObject", "s3:GetObject"} <= granted[FN_HISTORY.service]
    for spec in (FN_CONNECT, FN_MESSAGE):
        assert not {a for a in granted[spec.service] if a.startswith("s3:")}
    # And only the migration function reads the master secret; the push function and
    # the HTTP API read the VAPID key's secret, and nothing else (issue 19)
    assert "secretsmanager:GetSecretValue" in granted[FN_MIGRATE.service]
    vapid = next(
        k
        for k, v in dev.of_type("AWS::SecretsManager::Secret").items()
        if "vapid" in json.dumps(v["Properties"].get("Name", ""))
    )
    for s in ALL_FUNCTIONS[:-1]:
        for statement in dev.function_statements(s.service):
            if "secretsmanager:GetSecretValue" in _actions(statement):
                assert statement["Resource"] == {"Ref": vapid}, s.service


def test_database_logins_are_for_the_application_user(stage: Synthesized) -> None:
    # Given the rds-db:connect grants of the application functions
    target = (
        stage.logical_id("AWS::RDS::DBProxy")
        if stage.config.db_proxy
        else stage.logical_id("AWS::RDS::DBCluster")
    )
    for spec in (FN_CONNECT, FN_MESSAGE, FN_HISTORY, FN_USER_SYNC, FN_SWEEP):
        (statement,) = [
            s for s in stage.function_statements(spec.service) if s["Action"] == "rds-db:connect"
        ]
        resource = statement["Resource"]["Fn::Join"][1]
        # Then each names the user warroom_app on the proxy (prod) or the cluster (dev)
        assert resource[-1] == f"/{DB_APP_USER}"
        assert target in str(resource[-2])
