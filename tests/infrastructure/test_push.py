"""Web Push and escalation in the template (issue 19): the queues, their consumers, the
VAPID secret, and who may use which."""

from __future__ import annotations

import json
from typing import Any

import pytest

from infra.constants import FN_ESCALATE, FN_HISTORY, FN_MESSAGE, FN_PUSH
from tests.infrastructure.conftest import Synthesized

pytestmark = pytest.mark.infrastructure


def _queue_id(synth: Synthesized, fragment: str) -> str:
    (found,) = [
        k
        for k in synth.of_type("AWS::SQS::Queue")
        if fragment in k and "Dlq" not in k
    ]  # fmt: skip
    return found


def _grants(synth: Synthesized, service: str) -> list[tuple[set[str], str]]:
    found = []
    for statement in synth.function_statements(service):
        action = statement["Action"]
        actions = {action} if isinstance(action, str) else set(action)
        found.append((actions, json.dumps(statement["Resource"])))
    return found


def _may(synth: Synthesized, service: str, action: str, resource_id: str) -> bool:
    return any(
        action in actions and resource_id in where for actions, where in _grants(synth, service)
    )


def test_both_queues_are_encrypted_tls_only_and_keep_failures(dev: Synthesized) -> None:
    # Given the push and escalation queues
    queues = dev.of_type("AWS::SQS::Queue")
    for fragment in ("PushQueue", "EscalationQueue"):
        props: dict[str, Any] = queues[_queue_id(dev, fragment)]["Properties"]
        # Then each is encrypted and sends what fails three times to its dead-letter queue
        assert props["SqsManagedSseEnabled"] is True
        assert props["RedrivePolicy"]["maxReceiveCount"] == 3
        dlq = props["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]
        assert queues[dlq]["Properties"]["MessageRetentionPeriod"] == 14 * 24 * 3600
    # And every queue refuses plain HTTP
    policies = json.dumps(dev.of_type("AWS::SQS::QueuePolicy"))
    assert policies.count('"aws:SecureTransport": "false"') >= 4


def test_the_push_and_escalate_functions_drain_their_queues(dev: Synthesized) -> None:
    # Given the event source mappings
    mappings = {
        m["Properties"]["FunctionName"]["Ref"]: m["Properties"]
        for m in dev.of_type("AWS::Lambda::EventSourceMapping").values()
    }
    push = mappings[dev.function_id(FN_PUSH.service)]
    escalate = mappings[dev.function_id(FN_ESCALATE.service)]
    # Then the push function takes batches of ten from the push queue, and reports
    # failed records alone; the escalation function one page at a time
    assert push["EventSourceArn"]["Fn::GetAtt"][0] == _queue_id(dev, "PushQueue")
    assert push["BatchSize"] == 10 and push["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert escalate["EventSourceArn"]["Fn::GetAtt"][0] == _queue_id(dev, "EscalationQueue")
    assert escalate["BatchSize"] == 1


def test_each_function_may_use_only_its_part_of_push(dev: Synthesized) -> None:
    push_q, escalation_q = _queue_id(dev, "PushQueue"), _queue_id(dev, "EscalationQueue")
    vapid = next(
        k
        for k, v in dev.of_type("AWS::SecretsManager::Secret").items()
        if "vapid" in json.dumps(v["Properties"].get("Name", ""))
    )
    # Then the WebSocket send path enqueues mentions, and nothing else of push
    assert _may(dev, FN_MESSAGE.service, "sqs:SendMessage", push_q)
    assert not _may(dev, FN_MESSAGE.service, "sqs:SendMessage", escalation_q)
    assert not _may(dev, FN_MESSAGE.service, "secretsmanager:GetSecretValue", vapid)
    # And the HTTP API enqueues pushes and arms the timer, and reads the key (public half)
    for queue in (push_q, escalation_q):
        assert _may(dev, FN_HISTORY.service, "sqs:SendMessage", queue)
    assert _may(dev, FN_HISTORY.service, "secretsmanager:GetSecretValue", vapid)
    # And the push function reads the key and its queue, and sends nothing to any queue
    assert _may(dev, FN_PUSH.service, "secretsmanager:GetSecretValue", vapid)
    assert _may(dev, FN_PUSH.service, "sqs:ReceiveMessage", push_q)
    assert not any("sqs:SendMessage" in actions for actions, _ in _grants(dev, FN_PUSH.service))
    # And the escalation function re-arms its own timer and pushes, without the key
    assert _may(dev, FN_ESCALATE.service, "sqs:SendMessage", escalation_q)
    assert _may(dev, FN_ESCALATE.service, "sqs:SendMessage", push_q)
    assert not _may(dev, FN_ESCALATE.service, "secretsmanager:GetSecretValue", vapid)


def test_the_functions_are_told_to_use_the_queues(dev: Synthesized) -> None:
    # Given the functions that enqueue
    for spec in (FN_MESSAGE, FN_HISTORY, FN_ESCALATE):
        variables = dev.resources[dev.function_id(spec.service)]["Properties"]["Environment"][
            "Variables"
        ]
        # Then they send over SQS, to these queues, with the key's secret named
        assert variables["PUSH_TRANSPORT"] == "sqs"
        assert variables["PUSH_QUEUE_URL"] == {"Ref": _queue_id(dev, "PushQueue")}
        assert variables["ESCALATION_QUEUE_URL"] == {"Ref": _queue_id(dev, "EscalationQueue")}
        assert "VAPID_SECRET_ARN" in variables


def test_a_push_or_a_page_set_aside_raises_an_alarm(dev: Synthesized) -> None:
    # Given the two dead-letter queues of issue 19
    queues = dev.of_type("AWS::SQS::Queue")
    topic = dev.logical_id("AWS::SNS::Topic")
    alarms = dev.of_type("AWS::CloudWatch::Alarm").values()
    for fragment in ("PushQueue", "EscalationQueue"):
        dead = queues[_queue_id(dev, fragment)]["Properties"]["RedrivePolicy"][
            "deadLetterTargetArn"
        ]["Fn::GetAtt"][0]
        # Then one message in it notifies the alarm topic
        (alarm,) = [
            a["Properties"]
            for a in alarms
            if {"Name": "QueueName", "Value": {"Fn::GetAtt": [dead, "QueueName"]}}
            in a["Properties"].get("Dimensions", [])
        ]
        assert alarm["Threshold"] == 1 and {"Ref": topic} in alarm["AlarmActions"]
