"""Alarms that say the war room is failing its users, and one dashboard.

- Every function: errors and throttles.
- Answers that say "our fault": `ServerErrorAnswers` (namespace WarRoom, dimension
  `service`), counted whenever a client is answered INTERNAL or UNAVAILABLE. The handlers
  turn exceptions into error frames and 500s, so a database outage never shows in Lambda's
  Errors: this is the alarm that sees it. Beside it, what API Gateway sees: HTTP 5xx, and
  WebSocket integration errors (a function that failed or timed out).
- Sign-in: `UserSyncFailed`, counted by the Cognito trigger when it could not write the
  user (the sign-in goes on, so nothing else would tell).
- Fan-out: `FanoutFailed`, which the code counts when a post to a live connection fails
  for a reason other than 410 Gone.
- RDS Proxy (where there is one): borrow latency close to the borrow timeout (clients are
  about to get "no connection free within DB_POOL_TIMEOUT"), and the pool nearly all
  borrowed.
- Aurora: capacity pinned near the stage's maximum ACUs.

Alarms go to an SNS topic (`-c alarm_email=…` subscribes an address).
"""

from __future__ import annotations

from collections.abc import Callable

from aws_cdk import Aws, Duration, RemovalPolicy
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.constants import (
    ANSWERING_FUNCTIONS,
    FANOUT_FAILED_METRIC,
    FANOUT_FUNCTIONS,
    FN_USER_SYNC,
    METRICS_NAMESPACE,
    METRICS_SERVICE_DIMENSION,
    SERVER_ERROR_ANSWERS_METRIC,
    SERVICE_NAME,
    USER_SYNC_FAILED_METRIC,
    FunctionSpec,
    StageConfig,
)
from infra.constructs.database import Database
from infra.constructs.http_api import HttpApi
from infra.constructs.websocket_api import WebSocketApi

FIVE_MINUTES = Duration.minutes(5)
ONE_MINUTE = Duration.minutes(1)


class Monitoring(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: StageConfig,
        functions: list[tuple[FunctionSpec, lambda_.Function]],
        database: Database,
        websocket: WebSocketApi,
        http: HttpApi,
        alarm_email: str | None,
        dead_letters: sqs.IQueue | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self._config = config
        self.topic = self._alarm_topic(alarm_email)
        self._action = cw_actions.SnsAction(self.topic)
        self.alarms: list[cw.Alarm] = []

        for spec, fn in functions:
            self._alarm(
                f"{spec.id}Errors",
                fn.metric_errors(period=FIVE_MINUTES, statistic=cw.Stats.SUM),
                threshold=config.function_error_threshold,
                description=f"{spec.service}: invocations failed",
            )
            self._alarm(
                f"{spec.id}Throttles",
                fn.metric_throttles(period=FIVE_MINUTES, statistic=cw.Stats.SUM),
                threshold=1,
                description=f"{spec.service}: invocations throttled (concurrency limit)",
            )

        if dead_letters is not None:
            # A delayed presence flush that failed every retry: those joins wait for the
            # sweep's backstop flush, and something keeps failing.
            self._alarm(
                "PresenceFlushDeadLetters",
                dead_letters.metric_approximate_number_of_messages_visible(
                    period=FIVE_MINUTES, statistic=cw.Stats.MAXIMUM
                ),
                threshold=1,
                description="presence flush messages set aside after repeated failures",
            )

        fanout_failed = self._summed(FANOUT_FAILED_METRIC, FANOUT_FUNCTIONS)
        self._alarm(
            "FanoutFailed",
            fanout_failed,
            threshold=5,
            description="Messages could not be delivered to live connections",
        )
        server_errors = self._summed(SERVER_ERROR_ANSWERS_METRIC, ANSWERING_FUNCTIONS)
        self._alarm(
            "ServerErrorAnswers",
            server_errors,
            threshold=config.function_error_threshold,
            description="Clients were answered INTERNAL or UNAVAILABLE (e.g. the database is"
            " down): the handlers caught it, so the Lambda Errors alarms do not fire",
        )
        self._alarm(
            "HttpApi5xx",
            http.api.metric_server_error(period=FIVE_MINUTES, statistic=cw.Stats.SUM),
            threshold=config.function_error_threshold,
            description="The HTTP API answered 5xx",
        )
        ws_integration_errors = self._websocket_metric(websocket, "IntegrationError")
        self._alarm(
            "WebSocketIntegrationErrors",
            ws_integration_errors,
            threshold=config.function_error_threshold,
            description="WebSocket routes whose function failed, timed out or was throttled",
        )
        self._alarm(
            "UserSyncFailed",
            cw.Metric(
                namespace=METRICS_NAMESPACE,
                metric_name=USER_SYNC_FAILED_METRIC,
                dimensions_map={METRICS_SERVICE_DIMENSION: FN_USER_SYNC.service},
                statistic=cw.Stats.SUM,
                period=FIVE_MINUTES,
            ),
            threshold=1,
            description="The Cognito trigger could not write signed-in users to tr_users"
            " (sign-ins went on; new users are missing from the directory)",
        )

        proxy_metrics: tuple[cw.IMetric, cw.IMetric] | None = None
        if database.proxy is not None:
            proxy_metrics = self._proxy_alarms(database.proxy.db_proxy_name)
        acu_utilization = database.cluster.metric_acu_utilization(
            period=FIVE_MINUTES, statistic=cw.Stats.AVERAGE
        )
        self._alarm(
            "DatabaseCapacity",
            acu_utilization,
            threshold=90,
            evaluation_periods=3,
            description=f"Aurora runs near its maximum of {config.db_max_acu} ACUs",
        )

        self.dashboard = self._dashboard(
            functions, [fanout_failed, server_errors], proxy_metrics, database, websocket, http
        )

    def _proxy_alarms(self, proxy_name: str) -> tuple[cw.IMetric, cw.IMetric]:
        config = self._config
        borrow_latency = cw.Metric(
            namespace="AWS/RDS",
            metric_name="DatabaseConnectionsBorrowLatency",  # microseconds
            dimensions_map={"ProxyName": proxy_name},
            statistic=cw.Stats.MAXIMUM,
            period=ONE_MINUTE,
        )
        self._alarm(
            "ProxyBorrowTimeouts",
            borrow_latency,
            threshold=0.8 * config.db_pool_timeout_s * 1_000_000,
            evaluation_periods=3,
            datapoints_to_alarm=2,
            description="RDS Proxy waits close to its borrow timeout "
            f"({config.db_pool_timeout_s} s = DB_POOL_TIMEOUT): clients are timing out",
        )
        borrowed = cw.Metric(
            namespace="AWS/RDS",
            metric_name="DatabaseConnectionsCurrentlyBorrowed",
            dimensions_map={"ProxyName": proxy_name},
            statistic=cw.Stats.MAXIMUM,
            period=ONE_MINUTE,
        )
        pool_limit = config.db_pool_size + config.db_max_overflow
        self._alarm(
            "ProxyPoolSaturated",
            borrowed,
            threshold=0.9 * pool_limit,
            evaluation_periods=5,
            datapoints_to_alarm=3,
            description=f"Over 90% of the proxy's pool ({pool_limit} = DB_POOL_SIZE + "
            "DB_MAX_OVERFLOW) is borrowed",
        )
        return borrow_latency, borrowed

    @staticmethod
    def _websocket_metric(websocket: WebSocketApi, name: str) -> cw.Metric:
        return cw.Metric(
            namespace="AWS/ApiGateway",
            metric_name=name,
            dimensions_map={"ApiId": websocket.api.api_id, "Stage": websocket.stage.stage_name},
            statistic=cw.Stats.SUM,
            period=FIVE_MINUTES,
        )

    def _alarm_topic(self, alarm_email: str | None) -> sns.Topic:
        # CloudWatch can publish to an encrypted topic only with a key it may use.
        key = kms.Key(
            self,
            "AlarmTopicKey",
            description="Encrypts the war room's alarm notifications",
            enable_key_rotation=True,
            removal_policy=RemovalPolicy.DESTROY,
            pending_window=Duration.days(7),
        )
        key.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                resources=["*"],  # in a key policy, "*" is this key
            )
        )
        topic = sns.Topic(
            self,
            "AlarmTopic",
            display_name=f"{SERVICE_NAME} {self._config.name} alarms",
            master_key=key,
            enforce_ssl=True,
        )
        # enforce_ssl writes a topic policy, and a topic policy replaces SNS's default one:
        # without this statement CloudWatch may not publish and no alarm reaches anyone.
        topic.add_to_resource_policy(
            iam.PolicyStatement(
                sid="CloudWatchAlarmsPublish",
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                actions=["sns:Publish"],
                resources=[topic.topic_arn],
                conditions={"StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID}},
            )
        )
        if alarm_email:
            topic.add_subscription(subscriptions.EmailSubscription(alarm_email))
        return topic

    def alarm_on_dead_letters(self, construct_id: str, queue: sqs.IQueue, description: str) -> None:
        """One message set aside after repeated failures notifies the alarm topic."""
        self._alarm(
            construct_id,
            queue.metric_approximate_number_of_messages_visible(
                period=FIVE_MINUTES, statistic=cw.Stats.MAXIMUM
            ),
            threshold=1,
            description=description,
        )

    def _alarm(
        self,
        construct_id: str,
        metric: cw.IMetric,
        *,
        threshold: float,
        description: str,
        evaluation_periods: int = 1,
        datapoints_to_alarm: int | None = None,
    ) -> cw.Alarm:
        alarm = cw.Alarm(
            self,
            construct_id,
            alarm_name=f"{SERVICE_NAME}-{self._config.name}-{construct_id}",
            alarm_description=description,
            metric=metric,
            threshold=threshold,
            evaluation_periods=evaluation_periods,
            datapoints_to_alarm=datapoints_to_alarm,
            comparison_operator=cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cw.TreatMissingData.NOT_BREACHING,
        )
        alarm.add_alarm_action(self._action)
        alarm.add_ok_action(self._action)
        self.alarms.append(alarm)
        return alarm

    @staticmethod
    def _summed(metric_name: str, specs: tuple[FunctionSpec, ...]) -> cw.MathExpression:
        """One of the code's own metrics (namespace WarRoom), summed over `specs`."""
        metrics = {
            f"{metric_name.lower()}{index}": cw.Metric(
                namespace=METRICS_NAMESPACE,
                metric_name=metric_name,
                dimensions_map={METRICS_SERVICE_DIMENSION: spec.service},
                statistic=cw.Stats.SUM,
                period=FIVE_MINUTES,
            )
            for index, spec in enumerate(specs)
        }
        return cw.MathExpression(
            expression=" + ".join(f"FILL({name}, 0)" for name in metrics),
            using_metrics=metrics,
            label=metric_name,
            period=FIVE_MINUTES,
        )

    def _dashboard(
        self,
        functions: list[tuple[FunctionSpec, lambda_.Function]],
        code_metrics: list[cw.IMetric],
        proxy_metrics: tuple[cw.IMetric, cw.IMetric] | None,
        database: Database,
        websocket: WebSocketApi,
        http: HttpApi,
    ) -> cw.Dashboard:
        def per_function(
            title: str, metric: Callable[[lambda_.Function, str], cw.IMetric]
        ) -> cw.GraphWidget:
            return cw.GraphWidget(
                title=title, width=8, left=[metric(fn, spec.service) for spec, fn in functions]
            )

        def ws_metric(name: str) -> cw.Metric:
            return self._websocket_metric(websocket, name)

        dashboard = cw.Dashboard(
            self, "Dashboard", dashboard_name=f"{SERVICE_NAME}-{self._config.name}"
        )
        dashboard.add_widgets(
            cw.AlarmStatusWidget(title="Alarms", alarms=self.alarms, width=24, height=4)
        )
        dashboard.add_widgets(
            per_function(
                "Invocations",
                lambda fn, label: fn.metric_invocations(period=FIVE_MINUTES, label=label),
            ),
            per_function(
                "Errors", lambda fn, label: fn.metric_errors(period=FIVE_MINUTES, label=label)
            ),
            per_function(
                "Throttles",
                lambda fn, label: fn.metric_throttles(period=FIVE_MINUTES, label=label),
            ),
        )
        dashboard.add_widgets(
            per_function(
                "Duration p99",
                lambda fn, label: fn.metric_duration(
                    period=FIVE_MINUTES, statistic=cw.Stats.p(99), label=label
                ),
            ),
            cw.GraphWidget(
                title="WebSocket",
                width=8,
                left=[
                    ws_metric("ConnectCount"),
                    ws_metric("MessageCount"),
                    ws_metric("IntegrationError"),
                    ws_metric("ExecutionError"),
                ],
                right=code_metrics,
            ),
            cw.GraphWidget(
                title="HTTP API",
                width=8,
                left=[
                    http.api.metric_count(period=FIVE_MINUTES),
                    http.api.metric_server_error(period=FIVE_MINUTES),
                    http.api.metric_client_error(period=FIVE_MINUTES),
                ],
                right=[http.api.metric_latency(period=FIVE_MINUTES, statistic=cw.Stats.p(99))],
            ),
        )
        database_widgets: list[cw.IWidget] = []
        if proxy_metrics is not None:
            database_widgets.append(
                cw.GraphWidget(
                    title="RDS Proxy: borrow latency (µs) and borrowed connections",
                    width=12,
                    left=[proxy_metrics[0]],
                    right=[proxy_metrics[1]],
                )
            )
        dashboard.add_widgets(
            *database_widgets,
            cw.GraphWidget(
                title="Aurora: capacity (ACU) and utilisation (%)",
                width=12,
                left=[
                    database.cluster.metric_serverless_database_capacity(
                        period=FIVE_MINUTES, statistic=cw.Stats.AVERAGE
                    )
                ],
                right=[
                    database.cluster.metric_acu_utilization(
                        period=FIVE_MINUTES, statistic=cw.Stats.AVERAGE
                    )
                ],
            ),
        )
        return dashboard
