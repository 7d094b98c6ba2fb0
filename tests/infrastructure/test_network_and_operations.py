"""The network path out of the VPC, alarms, the dashboard, and cdk-nag's verdict."""

from __future__ import annotations

import json

import pytest
from aws_cdk.assertions import Match

from infra.constants import (
    FANOUT_FAILED_METRIC,
    FN_CONNECT,
    FN_MESSAGE,
    METRICS_NAMESPACE,
)
from tests.infrastructure.conftest import ALL_FUNCTIONS, Synthesized

pytestmark = pytest.mark.infrastructure


def test_vpc_has_gateway_endpoints_and_a_nat_but_no_execute_api_endpoint(
    dev: Synthesized,
) -> None:
    # Given the VPC's endpoints
    endpoints = [e["Properties"] for e in dev.of_type("AWS::EC2::VPCEndpoint").values()]
    services = {str(e["ServiceName"]): e.get("VpcEndpointType", "Gateway") for e in endpoints}
    # Then DynamoDB and S3 are reached through (free) gateway endpoints
    assert len(endpoints) == 2
    assert {kind for kind in services.values()} == {"Gateway"}
    assert any("dynamodb" in name for name in services)
    assert any(".s3" in name for name in services)
    # And there is no execute-api interface endpoint (its private DNS would capture our
    # public management API); the NAT is the path to it instead
    assert not any("execute-api" in name for name in services)
    dev.template.resource_count_is("AWS::EC2::NatGateway", dev.config.nat_gateways)


def test_production_has_a_nat_per_availability_zone(prod: Synthesized) -> None:
    # Given the prod stage
    # Then each AZ has its own NAT, so one AZ failing does not cut the other's egress
    prod.template.resource_count_is("AWS::EC2::NatGateway", 2)


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


def test_fanout_failures_proxy_waits_and_capacity_raise_alarms(dev: Synthesized) -> None:
    # Given the alarms of the stack
    alarms = [a["Properties"] for a in dev.of_type("AWS::CloudWatch::Alarm").values()]
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
    assert borrow["Threshold"] == 0.8 * dev.config.db_pool_timeout_s * 1_000_000
    # And so does a nearly exhausted proxy pool, and Aurora near its maximum capacity
    assert [a for a in alarms if a.get("MetricName") == "DatabaseConnectionsCurrentlyBorrowed"]
    (capacity,) = [a for a in alarms if a.get("MetricName") == "ACUUtilization"]
    assert capacity["Threshold"] == 90


def test_dashboard_shows_functions_apis_proxy_and_database(dev: Synthesized) -> None:
    # Given the dashboard
    (dashboard,) = dev.of_type("AWS::CloudWatch::Dashboard").values()
    body = json.dumps(dashboard["Properties"]["DashboardBody"])
    # Then it charts the functions, the APIs, the proxy, Aurora and the fan-out
    for needle in (
        "Invocations",
        "ConnectCount",
        "DatabaseConnectionsBorrowLatency",
        "ServerlessDatabaseCapacity",
        FANOUT_FAILED_METRIC,
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
