"""Trailing joins without polling: an SQS delay queue feeding functions/presence_flush.

A join or departure left pending inside its room's announcement window sends one message
with `DelaySeconds` = the window (warroom/flush_scheduler.py); when it comes due, the
function announces what the room still has pending. A message whose flush fails is
retried alone (partial batch responses), then set aside in a dead-letter queue; the
minute's sweep announces anything still pending as a backstop.
"""

from __future__ import annotations

from aws_cdk import CfnResource, Duration, Names
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.constants import PRESENCE_FLUSH_BATCH_SIZE, PRESENCE_FLUSH_MAX_RECEIVES
from infra.constructs.nag import acknowledge

# Lambda's advice for an SQS event source: visibility at least 6 × the function timeout.
VISIBILITY_TIMEOUT_FACTOR = 6


class PresenceFlushQueue(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, function: lambda_.Function) -> None:
        super().__init__(scope, construct_id)
        timeout = function.timeout.to_seconds() if function.timeout else 3
        self.dead_letters = sqs.Queue(
            self,
            "DeadLetters",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=Duration.days(14),
        )
        self.queue = sqs.Queue(
            self,
            "Queue",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            # A flush a quarter of an hour late announces nothing anyone still waits for.
            retention_period=Duration.minutes(15),
            visibility_timeout=Duration.seconds(VISIBILITY_TIMEOUT_FACTOR * timeout),
            dead_letter_queue=sqs.DeadLetterQueue(
                max_receive_count=PRESENCE_FLUSH_MAX_RECEIVES, queue=self.dead_letters
            ),
        )
        source = sources.SqsEventSource(
            self.queue,
            batch_size=PRESENCE_FLUSH_BATCH_SIZE,
            report_batch_item_failures=True,
        )
        function.add_event_source(source)
        # cfn-lint's serverless rules ask for an on-failure destination on every event source
        # mapping (ES1001) and a redrive policy on every queue (ES6000). Lambda supports
        # on-failure destinations for stream sources only: an SQS source's failures go to the
        # queue's own redrive policy, set above; and a dead-letter queue has no DLQ of its own.
        mapping = function.node.find_child(
            f"SqsEventSource:{Names.node_unique_id(self.queue.node)}"
        )
        _ignore_cfn_lint(mapping.node.default_child, "ES1001")
        _ignore_cfn_lint(self.dead_letters.node.default_child, "ES6000")
        acknowledge(
            self.dead_letters,
            "AwsSolutions-SQS3",
            "This is the dead-letter queue of the presence-flush queue.",
        )

    def grant_schedule(self, function: lambda_.Function) -> None:
        """`function` may schedule flushes: sqs:SendMessage on this queue, nothing more
        (grant_send_messages would add GetQueueAttributes and GetQueueUrl, never called)."""
        function.add_to_role_policy(
            iam.PolicyStatement(actions=["sqs:SendMessage"], resources=[self.queue.queue_arn])
        )


def _ignore_cfn_lint(resource: object, *rules: str) -> None:
    assert isinstance(resource, CfnResource)
    resource.add_metadata("cfn-lint", {"config": {"ignore_checks": list(rules)}})
