"""Housekeeping: an EventBridge Scheduler schedule invokes functions/sweep every minute.

API Gateway closes a WebSocket after two hours at most, and `$disconnect` is delivered on a
best-effort basis: rows whose `$disconnect` never ran would stay in the `connections`
table (and cost a 410 on every post to them). The sweep deletes the rows past their
expiry (trailing joins have their own delayed flush: presence_flush.py), so a run is
short. A missed or failed run is made up by the next one, so the schedule does not
retry; the function's Errors alarm tells when it keeps failing.
Where the database pauses (dev), the function first reads the WebSocket stage's
ConnectCount from CloudWatch and skips a sweep that cannot have work.
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_scheduler_targets as targets
from constructs import Construct

from infra.constants import SERVICE_NAME, SWEEP_INTERVAL_MINUTES, StageConfig
from infra.constructs.nag import acknowledge, arn_finding


class ConnectionSweep(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: StageConfig,
        function: lambda_.Function,
        reads_connect_counts: bool,
    ) -> None:
        super().__init__(scope, construct_id)
        if reads_connect_counts:
            # CloudWatch's metric reads have no resource-level permissions.
            function.add_to_role_policy(
                iam.PolicyStatement(actions=["cloudwatch:GetMetricStatistics"], resources=["*"])
            )
        # Its own role (aws-cdk-lib would share one per stack): it may invoke this function.
        role = iam.Role(self, "Role", assumed_by=iam.ServicePrincipal("scheduler.amazonaws.com"))
        target = targets.LambdaInvoke(
            function,
            role=role,
            retry_attempts=0,
            max_event_age=Duration.minutes(SWEEP_INTERVAL_MINUTES),
        )
        self.schedule = scheduler.Schedule(
            self,
            "Schedule",
            schedule_name=f"{SERVICE_NAME}-{config.name}-sweep-connections",
            description="Delete connection rows past their expiry",
            schedule=scheduler.ScheduleExpression.rate(Duration.minutes(SWEEP_INTERVAL_MINUTES)),
            target=target,
        )
        acknowledge(
            role,
            arn_finding(function, ":*"),
            "The scheduler's role may invoke the sweep function and its versions"
            " (FunctionArn:*), as aws-cdk-lib writes the grant.",
        )
