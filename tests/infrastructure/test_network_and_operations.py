"""The network path out of the VPC, the sweep schedule, alarms, log retention, the
dashboard, and the verdicts of cdk-nag and cfn-lint."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from aws_cdk.assertions import Match

from infra.constants import (
    FANOUT_FAILED_METRIC,
    FN_CONNECT,
    FN_HISTORY,
    FN_MESSAGE,
    FN_SWEEP,
    FN_USER_SYNC,
    METRICS_NAMESPACE,
    NAT_INSTANCE_TYPE,
    SERVER_ERROR_ANSWERS_METRIC,
    SWEEP_INTERVAL_MINUTES,
    USER_SYNC_FAILED_METRIC,
)
from tests.infrastructure.conftest import ALL_FUNCTIONS, Synthesized

pytestmark = pytest.mark.infrastructure

# The same flags as `make synth` (Makefile): serverless rules, fail on errors only.
CFN_LINT_ARGS = (
    "--format",
    "parseable",
    "--append-rules",
    "cfn_lint_serverless.rules",
    "--non-zero-exit-code",
    "error",
)


def test_vpc_has_an_s3_gateway_endpoint_but_no_execute_api_endpoint(
    stage: Synthesized,
) -> None:
    # Given the VPC's endpoints
    endpoints = [e["Properties"] for e in stage.of_type("AWS::EC2::VPCEndpoint").values()]
    services = {str(e["ServiceName"]): e.get("VpcEndpointType", "Gateway") for e in endpoints}
    # Then S3 is reached through a (free) gateway endpoint, and DynamoDB no longer at all
    assert len(endpoints) == 1
    assert {kind for kind in services.values()} == {"Gateway"}
    assert any(".s3" in name for name in services)
    assert not any("dynamodb" in name for name in services)
    # And there is no execute-api interface endpoint (it serves private APIs only, and its
    # private DNS would capture our public @connections endpoint); the NAT is the way
    assert not any("execute-api" in name for name in services)


def test_dev_leaves_the_vpc_through_one_small_nat_instance(dev: Synthesized) -> None:
    # Given the dev stage
    # Then there is no NAT gateway ($33 a month each) but one NAT instance
    dev.template.resource_count_is("AWS::EC2::NatGateway", 0)
    (instance,) = dev.of_type("AWS::EC2::Instance").values()
    properties = instance["Properties"]
    assert properties["InstanceType"] == NAT_INSTANCE_TYPE
    assert properties["SourceDestCheck"] is False
    assert properties["BlockDeviceMappings"][0]["Ebs"]["Encrypted"] is True
    # And the private subnets' default routes go to it
    routes = [
        r["Properties"] for r in dev.of_type("AWS::EC2::Route").values()
        if "InstanceId" in r["Properties"]
    ]  # fmt: skip
    assert len(routes) == 2
    # And its security group admits the VPC only, never the internet
    (nat_sg_ref,) = properties["SecurityGroupIds"]
    nat_sg = dev.resources[nat_sg_ref["Fn::GetAtt"][0]]["Properties"]
    sources = {rule.get("CidrIp") for rule in nat_sg.get("SecurityGroupIngress", [])}
    assert sources == {"10.0.0.0/16"}


def test_production_has_a_nat_gateway_per_availability_zone(prod: Synthesized) -> None:
    # Given the prod stage
    # Then each AZ has its own NAT gateway, so one AZ failing does not cut the other's egress
    prod.template.resource_count_is("AWS::EC2::NatGateway", 2)
    prod.template.resource_count_is("AWS::EC2::Instance", 0)


def test_a_schedule_runs_the_connection_sweep(stage: Synthesized) -> None:
    # Given the EventBridge Scheduler schedules of the stack
    (schedule,) = stage.of_type("AWS::Scheduler::Schedule").values()
    properties = schedule["Properties"]
    # Then one runs every minute and targets the sweep function, which is short: no
    # scheduled function may run for a minute (trailing joins have their own queue)
    assert SWEEP_INTERVAL_MINUTES == 1
    assert properties["ScheduleExpression"] == "rate(1 minute)"
    assert properties["State"] == "ENABLED"
    assert properties["Target"]["RetryPolicy"]["MaximumRetryAttempts"] == 0
    sweep = stage.function_id(FN_SWEEP.service)
    target = properties["Target"]
    assert target["Arn"] == {"Fn::GetAtt": [sweep, "Arn"]}
    assert stage.resources[sweep]["Properties"]["Handler"] == "handler.handler"
    assert stage.resources[sweep]["Properties"]["Timeout"] <= 60
    # And the schedule's role may invoke that function and nothing else
    role = target["RoleArn"]["Fn::GetAtt"][0]
    (statement,) = stage.role_statements(role)
    assert statement["Action"] == "lambda:InvokeFunction"
    resources = statement["Resource"]
    assert {"Fn::GetAtt": [sweep, "Arn"]} in resources
    assert all(sweep in json.dumps(r) for r in resources)


@pytest.mark.parametrize("spec", ALL_FUNCTIONS, ids=lambda spec: spec.service)
def test_every_function_alarms_on_errors_and_throttles(dev: Synthesized, spec) -> None:
    # Given one function
    function_ref = {"Ref": dev.function_id(spec.service)}
    # Then an alarm watches its errors and another its throttles
    for metric in ("Errors", "Throttles"):
        dev.template.has_resource_properties(
            "AWS::CloudWatch::Alarm",
            {
                "Namespace": "AWS/Lambda",
                "MetricName": metric,
                "Dimensions": [{"Name": "FunctionName", "Value": function_ref}],
                "ComparisonOperator": "GreaterThanOrEqualToThreshold",
                "AlarmActions": [{"Ref": Match.string_like_regexp("AlarmTopic")}],
            },
        )


def test_fanout_failures_proxy_waits_and_capacity_raise_alarms(prod: Synthesized) -> None:
    # Given the alarms of the stack
    alarms = [a["Properties"] for a in prod.of_type("AWS::CloudWatch::Alarm").values()]
    # Then failed fan-out (the code's custom metric) is summed over the functions posting
    (fanout,) = [a for a in alarms if a["AlarmName"].endswith("-FanoutFailed")]
    metrics = [m["MetricStat"]["Metric"] for m in fanout["Metrics"] if "MetricStat" in m]
    assert {m["Namespace"] for m in metrics} == {METRICS_NAMESPACE}
    assert {m["MetricName"] for m in metrics} == {FANOUT_FAILED_METRIC}
    services = {d["Value"] for m in metrics for d in m["Dimensions"] if d["Name"] == "service"}
    assert {FN_CONNECT.service, FN_MESSAGE.service} <= services
    # And RDS Proxy borrow waits near DB_POOL_TIMEOUT raise an alarm (microseconds)
    (borrow,) = [a for a in alarms if a.get("MetricName") == "DatabaseConnectionsBorrowLatency"]
    assert borrow["Namespace"] == "AWS/RDS"
    assert borrow["Threshold"] == 0.8 * prod.config.db_pool_timeout_s * 1_000_000
    # And so does a nearly exhausted proxy pool, and Aurora near its maximum capacity
    assert [a for a in alarms if a.get("MetricName") == "DatabaseConnectionsCurrentlyBorrowed"]
    (capacity,) = [a for a in alarms if a.get("MetricName") == "ACUUtilization"]
    assert capacity["Threshold"] == 90


def _alarm_named(synth: Synthesized, suffix: str) -> dict:
    (alarm,) = [
        a["Properties"] for a in synth.of_type("AWS::CloudWatch::Alarm").values()
        if a["Properties"]["AlarmName"].endswith(f"-{suffix}")
    ]  # fmt: skip
    return alarm


def test_answers_that_hide_an_outage_raise_alarms(stage: Synthesized) -> None:
    # Given the alarms of a stage
    # Then INTERNAL/UNAVAILABLE answers (the code's metric) summed over the answering
    # functions raise one: a database outage becomes error frames and 500s, not Errors
    server_errors = _alarm_named(stage, "ServerErrorAnswers")
    metrics = [m["MetricStat"]["Metric"] for m in server_errors["Metrics"] if "MetricStat" in m]
    assert {m["Namespace"] for m in metrics} == {METRICS_NAMESPACE}
    assert {m["MetricName"] for m in metrics} == {SERVER_ERROR_ANSWERS_METRIC}
    services = {d["Value"] for m in metrics for d in m["Dimensions"] if d["Name"] == "service"}
    assert services == {FN_CONNECT.service, FN_MESSAGE.service, FN_HISTORY.service}
    assert server_errors["Threshold"] == stage.config.function_error_threshold
    # And so do the HTTP API's 5xx answers
    http_5xx = _alarm_named(stage, "HttpApi5xx")
    assert (http_5xx["Namespace"], http_5xx["MetricName"]) == ("AWS/ApiGateway", "5xx")
    assert [d["Name"] for d in http_5xx["Dimensions"]] == ["ApiId"]
    # And the WebSocket API's integration errors, on this stage
    ws_errors = _alarm_named(stage, "WebSocketIntegrationErrors")
    assert (ws_errors["Namespace"], ws_errors["MetricName"]) == (
        "AWS/ApiGateway",
        "IntegrationError",
    )
    assert {d["Name"] for d in ws_errors["Dimensions"]} == {"ApiId", "Stage"}
    # And a sign-in trigger that could not write the user
    user_sync = _alarm_named(stage, "UserSyncFailed")
    assert (user_sync["Namespace"], user_sync["MetricName"]) == (
        METRICS_NAMESPACE,
        USER_SYNC_FAILED_METRIC,
    )
    assert user_sync["Dimensions"] == [{"Name": "service", "Value": FN_USER_SYNC.service}]
    # And every one of them notifies the alarm topic
    for alarm in (server_errors, http_5xx, ws_errors, user_sync):
        (action,) = alarm["AlarmActions"]
        assert action["Ref"].startswith("MonitoringAlarmTopic")


def test_every_function_logs_into_a_group_with_a_retention(stage: Synthesized) -> None:
    # Given every Lambda function of the stack, ours and aws-cdk-lib's helpers
    groups = stage.of_type("AWS::Logs::LogGroup")
    functions = stage.of_type("AWS::Lambda::Function")
    assert len(functions) > 7  # ours, plus the custom-resource providers
    for logical_id, fn in functions.items():
        # Then each names its log group, and that group keeps logs for a limited time
        target = fn["Properties"].get("LoggingConfig", {}).get("LogGroup")
        assert target is not None, f"{logical_id} logs into an implicit group kept forever"
        assert groups[target["Ref"]]["Properties"]["RetentionInDays"] > 0


def test_secret_rotation_function_logs_with_a_retention(stage: Synthesized) -> None:
    # Given the secret-rotation application (a nested stack from the Serverless Application
    # Repository, so its function is not a resource here)
    (application,) = stage.of_type("AWS::Serverless::Application").values()
    function_name = application["Properties"]["Parameters"]["functionName"]
    # Then its log group exists first, by the function's name, with a retention
    (group_id,) = [
        k for k, g in stage.of_type("AWS::Logs::LogGroup").items()
        if g["Properties"].get("LogGroupName") == f"/aws/lambda/{function_name}"
    ]  # fmt: skip
    assert stage.resources[group_id]["Properties"]["RetentionInDays"] > 0
    assert group_id in application.get("DependsOn", [])


def test_dashboard_shows_functions_apis_proxy_and_database(prod: Synthesized) -> None:
    # Given the dashboard
    (dashboard,) = prod.of_type("AWS::CloudWatch::Dashboard").values()
    body = json.dumps(dashboard["Properties"]["DashboardBody"])
    # Then it charts the functions, the APIs, the proxy, Aurora and the fan-out
    for needle in (
        "Invocations",
        "ConnectCount",
        "DatabaseConnectionsBorrowLatency",
        "ServerlessDatabaseCapacity",
        FANOUT_FAILED_METRIC,
        SERVER_ERROR_ANSWERS_METRIC,
    ):
        assert needle in body


def test_cdk_nag_aws_solutions_checks_pass(dev: Synthesized, prod: Synthesized) -> None:
    from cdk_nag import AwsSolutionsChecks

    for stage in (dev, prod):
        # Given a synthesized stage (its synth already ran the pack, as `cdk synth` does)
        # When checking its construct tree with the AwsSolutions pack again
        report = AwsSolutionsChecks(verbose=True).validate_scope(stage.stack)
        # Then nothing is left unacknowledged (each acknowledgment carries its reason)
        violations = [
            (v.rule_name, [r.construct_path for r in v.violating_resources])
            for v in report.violations
        ]
        assert report.success, violations
        # And CDK's own validation report of the synth agrees
        written = json.loads((stage.outdir / "validation-report.json").read_text())
        assert [p for p in written.get("pluginReports", []) if p.get("violations")] == []


def test_cfn_lint_with_the_serverless_rules_finds_no_error(stage: Synthesized) -> None:
    # Given the synthesized template of a stage, as `cdk synth` writes it
    # When cfn-lint checks it with its own rules and the serverless rules appended, failing
    # on errors only (as `make synth` runs it)
    result = subprocess.run(
        [
            str(Path(sys.executable).with_name("cfn-lint")),
            *CFN_LINT_ARGS,
            "--",
            str(stage.template_file),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    # Then no finding is an error (warnings and informational ones are allowed)
    errors = [line for line in result.stdout.splitlines() if re.search(r":E[S]?\d{4}:", line)]
    assert errors == [], "\n".join(errors)
    assert result.returncode == 0, result.stdout + result.stderr
