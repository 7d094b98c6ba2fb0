"""Web Push and on-call escalation (issue 19): the VAPID key, the push queue feeding the
push function, and the escalation queue whose delayed messages are the paging timer.

- The VAPID private key (PEM) is a Secrets Manager secret. CloudFormation cannot make an
  EC key, so the secret is created with a placeholder and `docs/deploy.md` says how to
  put the key in once; the HTTP function reads it (for the public key) and so does the
  push function (to sign).
- The push queue: a send, an incident or a page only enqueues, so no ack waits on a push
  service; the push function drains it in batches of ten, reporting failed records alone.
- The escalation queue: one delayed message per untaken page (an SQS delay is at most 15
  minutes; an early message re-arms itself). Never a polling loop.
Both queues are encrypted, refuse plain HTTP and keep what fails three times in a
dead-letter queue for 14 days.
"""

from __future__ import annotations

from aws_cdk import CfnResource, Duration
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.constants import SERVICE_NAME, StageConfig
from infra.constructs.nag import acknowledge

PUSH_BATCH = 10
MAX_RECEIVES = 3


def _lint_ignore(resource: CfnResource, check: str, reason: str) -> None:
    """A cfn-lint serverless rule that does not apply here, with the reason beside it."""
    resource.add_metadata("cfn-lint", {"config": {"ignore_checks": [check]}})
    resource.add_metadata("cfn-lint-reason", reason)


def _queue(scope: Construct, name: str, *, visibility_s: int) -> tuple[sqs.Queue, sqs.Queue]:
    dead = sqs.Queue(
        scope,
        f"{name}Dlq",
        encryption=sqs.QueueEncryption.SQS_MANAGED,
        enforce_ssl=True,
        retention_period=Duration.days(14),
    )
    _lint_ignore(
        dead.node.default_child,  # type: ignore[arg-type]
        "ES6000",
        "This is the dead-letter queue: what lands here stays for a person to read.",
    )
    main = sqs.Queue(
        scope,
        name,
        encryption=sqs.QueueEncryption.SQS_MANAGED,
        enforce_ssl=True,
        visibility_timeout=Duration.seconds(visibility_s),
        dead_letter_queue=sqs.DeadLetterQueue(max_receive_count=MAX_RECEIVES, queue=dead),
    )
    return main, dead


class PushNotifications(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, config: StageConfig) -> None:
        super().__init__(scope, construct_id)
        self.vapid_secret = secretsmanager.Secret(
            self,
            "VapidKey",
            secret_name=f"{SERVICE_NAME}-{config.name}-vapid-private-key",
            description="VAPID private key (PEM, P-256) that signs Web Push requests",
        )
        acknowledge(
            self.vapid_secret,
            "AwsSolutions-SMG4",
            "A VAPID key is not rotated on a schedule: every browser's subscription is bound"
            " to it, and a new key means every device subscribes again.",
        )
        # Six times the consumers' timeout, as AWS recommends for Lambda event sources.
        self.push_queue, self.push_dead_letters = _queue(self, "PushQueue", visibility_s=6 * 30)
        self.escalation_queue, self.escalation_dead_letters = _queue(
            self, "EscalationQueue", visibility_s=6 * 30
        )

    def environment(self) -> dict[str, str]:
        return {
            "PUSH_TRANSPORT": "sqs",
            "PUSH_QUEUE_URL": self.push_queue.queue_url,
            "ESCALATION_QUEUE_URL": self.escalation_queue.queue_url,
            "VAPID_SECRET_ARN": self.vapid_secret.secret_arn,
        }

    def grant_enqueue(self, fn: lambda_.IFunction, *, pages: bool) -> None:
        """A function that sends messages (mentions) or opens and takes incidents (pages):
        SendMessage only (grant_send_messages would add two reads no code makes)."""
        queues = [self.push_queue, *([self.escalation_queue] if pages else [])]
        fn.add_to_role_policy(
            iam.PolicyStatement(
                actions=["sqs:SendMessage"], resources=[q.queue_arn for q in queues]
            )
        )

    def grant_key(self, fn: lambda_.IFunction) -> None:
        """GetSecretValue on the VAPID secret only (grant_read adds DescribeSecret)."""
        fn.add_to_role_policy(
            iam.PolicyStatement(
                actions=["secretsmanager:GetSecretValue"], resources=[self.vapid_secret.secret_arn]
            )
        )

    def attach(
        self, *, push: lambda_.Function, escalate: lambda_.Function, http: lambda_.IFunction
    ) -> None:
        push.add_event_source(
            sources.SqsEventSource(
                self.push_queue, batch_size=PUSH_BATCH, report_batch_item_failures=True
            )
        )
        escalate.add_event_source(
            sources.SqsEventSource(
                self.escalation_queue, batch_size=1, report_batch_item_failures=True
            )
        )
        for fn in (push, escalate):
            for child in fn.node.find_all():
                if isinstance(child, lambda_.CfnEventSourceMapping):
                    _lint_ignore(
                        child,
                        "ES1001",
                        "SQS event sources take no on-failure destination; the queue's"
                        " redrive policy sends failed records to its dead-letter queue.",
                    )
        self.grant_key(push)
        self.grant_key(http)  # GET /api/push/vapid-public-key
        # A page pushes, and re-arms the timer for the next step.
        self.grant_enqueue(escalate, pages=True)
