"""Faults a review of `make synth` found that would break a first deploy or hide an
outage (issue 15, faults 1, 3, 4, 5 and 7), each held by a test on the template or the
numbers behind it."""

from __future__ import annotations

import base64
import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from infra.constants import FN_MIGRATE, FN_PRESENCE_FLUSH, FN_SWEEP
from tests.infrastructure.conftest import ALL_FUNCTIONS, Synthesized

pytestmark = pytest.mark.infrastructure


def _user_data(resource: dict[str, Any]) -> str:
    """The instance's user data script (Fn::Base64 of a plain string or an Fn::Join)."""
    data = resource["Properties"]["UserData"]["Fn::Base64"]
    if isinstance(data, str):
        return data
    if "Fn::Join" in data:
        separator, parts = data["Fn::Join"]
        return str(separator).join(p if isinstance(p, str) else json.dumps(p) for p in parts)
    return base64.b64decode(data).decode()


# --- fault 1: the dev NAT instance's boot script -------------------------------------------


def test_the_nat_instance_retries_its_package_install_and_fails_loudly(dev: Synthesized) -> None:
    # Given the dev stage's NAT instance
    (instance,) = dev.of_type("AWS::EC2::Instance").values()
    script = _user_data(instance)
    lines = [line.strip() for line in script.splitlines() if line.strip()]
    # Then iptables-services is not installed by one bare command (CDK's default, which
    # loses a package-cache race on a t4g.nano now and then)
    assert "yum install iptables-services -y" not in lines
    # And the install sits in a loop that cleans the cache and retries, with a pause
    (loop,) = [line for line in lines if "install -y iptables-services" in line]
    attempts = re.search(r"for attempt in \$\(seq 1 (\d+)\)", loop)
    assert attempts and int(attempts.group(1)) >= 5
    assert "clean all" in loop and "&& break" in loop and "sleep" in loop
    # And the script stops on any failure, and checks the package is there before relying
    # on it, so a failed boot is visible rather than a silent instance that forwards nothing
    assert "set -euxo pipefail" in lines
    assert lines.index("rpm -q iptables-services") > lines.index(loop)
    # And it still forwards and masquerades
    assert any("ip_forward=1" in line for line in lines)
    assert any("-j MASQUERADE" in line for line in lines)


def _run_install_steps(tmp_path: Path, script: str, dnf_failures: int) -> tuple[int, int]:
    """Run the boot script's install loop and check with stand-in dnf, rpm and sleep that
    fail the first `dnf_failures` installs. Returns (exit status, install attempts)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(parents=True)
    count = tmp_path / "attempts"
    count.write_text("0")
    fakes = {
        "dnf": f"""if [ "$1" = install ]; then n=$(($(cat {count}) + 1)); echo $n > {count}
                   [ $n -gt {dnf_failures} ] && touch {tmp_path}/installed && exit 0; exit 1; fi""",
        "rpm": f"[ -e {tmp_path}/installed ]",
        "sleep": "exit 0",
    }
    for name, body in fakes.items():
        (bin_dir / name).write_text("#!/bin/sh\n" + body + "\n")
        (bin_dir / name).chmod(0o755)
    lines = [line.strip() for line in script.splitlines()]
    steps = [
        "set -euo pipefail",
        next(line for line in lines if line.startswith("for attempt")),
        "rpm -q iptables-services",
    ]
    done = subprocess.run(
        ["bash", "-c", "\n".join(steps)],
        env={"PATH": f"{bin_dir}:/usr/bin:/bin"},
        capture_output=True,
        check=False,
    )
    return done.returncode, int(count.read_text())


def test_the_nat_boot_script_parses_and_survives_a_failed_install(
    dev: Synthesized, tmp_path: Path
) -> None:
    (instance,) = dev.of_type("AWS::EC2::Instance").values()
    script = _user_data(instance)
    # Given the boot script: bash accepts it
    (tmp_path / "user-data.sh").write_text(script)
    assert (
        subprocess.run(["bash", "-n", str(tmp_path / "user-data.sh")], check=False).returncode == 0
    )
    # When the package install loses the race twice (a package-cache lock, a mirror)
    status, attempts = _run_install_steps(tmp_path / "flaky", script, dnf_failures=2)
    # Then the loop tries again and the install goes through
    assert (status, attempts) == (0, 3)
    # And when it never succeeds, the loop gives up after its attempts and the script
    # fails (cloud-init logs it) instead of carrying on without iptables
    status, attempts = _run_install_steps(tmp_path / "broken", script, dnf_failures=99)
    assert status != 0 and attempts >= 5


# --- fault 3: alarms must be able to reach the topic ---------------------------------------


def test_cloudwatch_may_publish_to_the_alarm_topic_from_this_account_only(
    stage: Synthesized,
) -> None:
    # Given the alarm topic's policy (enforce_ssl writes one, replacing SNS's default)
    (policy,) = stage.of_type("AWS::SNS::TopicPolicy").values()
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    topic = stage.logical_id("AWS::SNS::Topic")
    # Then one statement lets CloudWatch publish to this topic
    (publish,) = [
        s
        for s in statements
        if s["Effect"] == "Allow" and s.get("Principal") == {"Service": "cloudwatch.amazonaws.com"}
    ]
    assert publish["Action"] == "sns:Publish"
    assert publish["Resource"] == {"Ref": topic}
    # And only for alarms of this account (no confused deputy)
    assert publish["Condition"] == {
        "StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}
    }
    # And the TLS-only deny is still there
    assert any(s["Effect"] == "Deny" for s in statements)
    # And every alarm notifies that topic
    alarms = stage.of_type("AWS::CloudWatch::Alarm").values()
    assert alarms and all({"Ref": topic} in a["Properties"]["AlarmActions"] for a in alarms)


# --- fault 5: nothing goes live before the schema ------------------------------------------


def _depends_on(resource: dict[str, Any]) -> list[str]:
    depends = resource.get("DependsOn", [])
    return [depends] if isinstance(depends, str) else list(depends)


def test_the_functions_and_the_schedule_wait_for_the_migrations(stage: Synthesized) -> None:
    # Given the migration custom resource
    schema = stage.logical_id("Custom::WarRoomSchema")
    # Then every application function (all but the migration's own) is created or updated
    # only after it
    for spec in ALL_FUNCTIONS:
        if spec is FN_MIGRATE:
            continue
        function = stage.resources[stage.function_id(spec.service)]
        assert schema in _depends_on(function), spec.id
    # And so is the schedule that starts the sweep
    (schedule,) = stage.of_type("AWS::Scheduler::Schedule").values()
    assert schema in _depends_on(schedule)
    # And the queue's event source starts only with its function, after the schema too
    flush = stage.function_id(FN_PRESENCE_FLUSH.service)
    (mapping,) = [
        m
        for m in stage.of_type("AWS::Lambda::EventSourceMapping").values()
        if m["Properties"]["FunctionName"] == {"Ref": flush}
    ]
    assert mapping["Properties"]["EventSourceArn"]["Fn::GetAtt"][0].startswith("PresenceFlush")


# --- no polling: scheduled and queued functions are short ----------------------------------


def test_no_scheduled_or_queued_function_runs_for_a_minute(stage: Synthesized) -> None:
    # Given the functions a schedule or a queue invokes
    for spec in (FN_SWEEP, FN_PRESENCE_FLUSH):
        # Then none may run 60 s or more
        timeout = stage.resources[stage.function_id(spec.service)]["Properties"]["Timeout"]
        assert timeout <= 60, spec.id


# --- fault 4: regions whose database certificate the bundle cannot verify ----------------

# Regions AWS opened after the bundle's RDS roots were collected (issue 15).
NEWER_REGIONS = (
    "ca-west-1",
    "il-central-1",
    "mx-central-1",
    "ap-southeast-5",
    "ap-southeast-6",
    "ap-southeast-7",
    "ap-east-2",
)


def test_the_bundle_covers_a_region_only_with_all_three_rds_roots() -> None:
    from infra.ca_bundle import covered_regions

    # Given the CA bundle shipped in the layer
    covered = covered_regions()
    # Then the established regions are covered, and the newer ones are not claimed to be
    assert {"us-east-1", "eu-west-1", "ap-southeast-4", "me-central-1"} <= set(covered)
    assert not set(NEWER_REGIONS) & set(covered)


def test_the_template_refuses_a_region_the_bundle_cannot_verify(stage: Synthesized) -> None:
    from infra.ca_bundle import covered_regions

    # Given the template's rules (CloudFormation checks them before creating anything)
    rules = stage.template.to_json()["Rules"]
    (assertion,) = rules["RegionHasDatabaseCa"]["Assertions"]
    # Then the deploy region must be one the bundle covers
    regions, region = assertion["Assert"]["Fn::Contains"]
    assert region == {"Ref": "AWS::Region"}
    assert regions == list(covered_regions())
    assert "aws-ca-bundle.pem" in assertion["AssertDescription"]


@pytest.mark.parametrize("region", ["il-central-1", "ca-west-1"])
def test_synth_for_an_uncovered_region_stops_with_the_covered_list(
    region: str, monkeypatch: pytest.MonkeyPatch, stand_in_layers: Any
) -> None:
    import aws_cdk as cdk

    from infra.app import build

    # Given a caller whose profile names a region the bundle cannot verify
    monkeypatch.setenv("CDK_DEFAULT_REGION", region)
    app = cdk.App(
        context={
            "layer_dir": str(stand_in_layers[0]),
            "migrate_layer_dir": str(stand_in_layers[1]),
        }
    )
    # When synthesizing
    # Then it stops before building anything, naming the region and the covered ones
    with pytest.raises(SystemExit) as stopped:
        build(app)
    message = str(stopped.value)
    assert region in message and "eu-west-1" in message and "infra.ca_bundle" in message
    assert not app.node.children


def test_a_flush_set_aside_in_the_dead_letter_queue_raises_an_alarm(stage: Synthesized) -> None:
    # Given the presence-flush queue and its dead-letter queue
    queues = stage.of_type("AWS::SQS::Queue")
    (main_id,) = [k for k in queues if k.startswith("PresenceFlushQueue")]
    (dead_id,) = [k for k in queues if k.startswith("PresenceFlushDeadLetters")]
    # Then a message is set aside after 3 receives, and the queue only speaks TLS
    redrive = queues[main_id]["Properties"]["RedrivePolicy"]
    assert redrive == {
        "deadLetterTargetArn": {"Fn::GetAtt": [dead_id, "Arn"]},
        "maxReceiveCount": 3,
    }
    # And one message in the dead-letter queue notifies the alarm topic
    topic = stage.logical_id("AWS::SNS::Topic")
    (alarm,) = [
        a["Properties"]
        for a in stage.of_type("AWS::CloudWatch::Alarm").values()
        if {"Name": "QueueName", "Value": {"Fn::GetAtt": [dead_id, "QueueName"]}}
        in a["Properties"].get("Dimensions", [])
    ]
    assert alarm["MetricName"] == "ApproximateNumberOfMessagesVisible"
    assert alarm["Threshold"] == 1 and {"Ref": topic} in alarm["AlarmActions"]
    # And the queue's event source reports partial batch failures
    (mapping,) = [
        m
        for m in stage.of_type("AWS::Lambda::EventSourceMapping").values()
        if m["Properties"]["EventSourceArn"] == {"Fn::GetAtt": [main_id, "Arn"]}
    ]
    assert mapping["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
