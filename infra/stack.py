"""The war room's one stack: it composes one construct per capability and wires the
functions to what they use, each with the least it needs."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aws_cdk import Aws, CfnOutput, CfnRule, CfnRuleAssertion, Fn, Stack, Tags
from constructs import Construct

from infra.ca_bundle import covered_regions
from infra.constants import (
    FN_AUTHORIZER,
    FN_CONNECT,
    FN_ESCALATE,
    FN_HISTORY,
    FN_MESSAGE,
    FN_PRESENCE_FLUSH,
    FN_PUSH,
    FN_SWEEP,
    FN_USER_SYNC,
    JWT_TOKEN_USE,
    LOCAL_WEB_ORIGIN,
    OAUTH_SCOPES,
    PRESENCE_FLUSH_QUEUE_ENV,
    SERVICE_NAME,
    TAG_SERVICE,
    TAG_STAGE,
    USER_SYNC_DB_CONNECT_TIMEOUT_S,
    WEB_CALLBACK_PATH,
    StageConfig,
)
from infra.constructs.access_logs import AccessLogs
from infra.constructs.attachments import (
    Attachments,
    attachments_bucket_name,
    attachments_origins,
)
from infra.constructs.database import Database
from infra.constructs.functions import FunctionFactory
from infra.constructs.http_api import HttpApi
from infra.constructs.identity import Identity
from infra.constructs.ingest import IngestSecrets
from infra.constructs.log_retention import LogRetentionForEveryFunction
from infra.constructs.monitoring import Monitoring
from infra.constructs.network import Network
from infra.constructs.presence_flush import PresenceFlushQueue
from infra.constructs.push import PushNotifications
from infra.constructs.schema_migrations import SchemaMigrations
from infra.constructs.sweep import ConnectionSweep
from infra.constructs.web_hosting import WebHosting
from infra.constructs.websocket_api import WebSocketApi

UNTAGGABLE_RESOURCE_TYPES = ["AWS::RDS::DBProxyTargetGroup"]


@dataclass(frozen=True)
class StackInputs:
    """What the stack takes from outside the code: build outputs and deploy options."""

    layer_dir: Path
    migrate_layer_dir: Path
    web_dir: Path
    deploy_id: str | None = None
    alarm_email: str | None = None
    auth_domain_prefix: str | None = None


class WarRoomStack(Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: StageConfig,
        inputs: StackInputs,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            scope,
            construct_id,
            description=f"Incident war-room chat ({config.name})",
            **kwargs,
        )
        self.outputs: dict[str, CfnOutput] = {}
        for key, value in ((TAG_SERVICE, SERVICE_NAME), (TAG_STAGE, config.name)):
            # CloudFormation's DBProxyTargetGroup takes no Tags (CDK would add them).
            Tags.of(self).add(key, value, exclude_resource_types=UNTAGGABLE_RESOURCE_TYPES)

        # Deploying where the database's certificate cannot be verified would fail every
        # connection: CloudFormation checks this rule before it creates anything.
        CfnRule(
            self,
            "RegionHasDatabaseCa",
            assertions=[
                CfnRuleAssertion(
                    assert_=Fn.condition_contains(list(covered_regions()), Aws.REGION),
                    assert_description="The database CA bundle (aws-ca-bundle.pem) has no RDS"
                    " root CA for this region: regenerate it (infra/ca_bundle.py) first.",
                )
            ],
        )
        network = Network(self, "Network", config=config)
        database = Database(self, "Database", config=config, network=network)
        access_logs = AccessLogs(self, "AccessLogs", config=config)
        # The attachments bucket's name is fixed up front: the site's CSP names its origin
        # and the bucket's CORS names the site's, which by reference would be a cycle.
        attachments_bucket = attachments_bucket_name(config)
        web = WebHosting(
            self,
            "Web",
            web_dir=inputs.web_dir,
            access_logs=access_logs.bucket,
            is_production=config.is_production,
            image_origins=attachments_origins(attachments_bucket),
        )
        # The dev stage also admits Vite's dev server, so the client can run locally
        # against the deployed back end.
        web_origins = [web.url] if config.is_production else [web.url, LOCAL_WEB_ORIGIN]
        attachments = Attachments(
            self,
            "Attachments",
            config=config,
            bucket_name=attachments_bucket,
            web_origins=web_origins,
            access_logs=access_logs.bucket,
        )
        websocket = WebSocketApi(self, "WebSocket", config=config)
        functions = FunctionFactory(
            self, "Functions", config=config, network=network, layer_dir=inputs.layer_dir
        )
        sg = network.functions_security_group

        base_env = {
            **database.app_environment(),
            "ATTACHMENTS_BUCKET": attachments.bucket.bucket_name,
            "WS_MANAGEMENT_ENDPOINT": websocket.management_endpoint,
            "WEB_ORIGIN": web.url,
        }
        # The user pool invokes this one, so it cannot name the pool (a cycle): it gets
        # everything but the JWT settings, which it has no use for. Cognito gives a trigger
        # 5 s: a short connect timeout leaves the rest for the statement and the reply.
        user_sync = functions.create(
            FN_USER_SYNC,
            environment={**base_env, "DB_CONNECT_TIMEOUT": str(USER_SYNC_DB_CONNECT_TIMEOUT_S)},
        )
        identity = Identity(
            self,
            "Identity",
            config=config,
            callback_urls=[origin + WEB_CALLBACK_PATH for origin in web_origins],
            user_sync=user_sync,
            domain_prefix=inputs.auth_domain_prefix,
        )
        push = PushNotifications(self, "Push", config=config)  # issue 19
        app_env = {
            **base_env,
            **push.environment(),
            "JWT_ISSUER": identity.issuer,
            "JWT_AUDIENCE": identity.client.user_pool_client_id,
            "JWT_TOKEN_USE": JWT_TOKEN_USE,
        }
        # Joins left pending in a room's window: each schedules the room's flush on an SQS
        # delay queue, which this function consumes (no polling anywhere).
        presence_flush = functions.create(FN_PRESENCE_FLUSH, environment=base_env)
        flush_queue = PresenceFlushQueue(self, "PresenceFlush", function=presence_flush)
        app_env[PRESENCE_FLUSH_QUEUE_ENV] = flush_queue.queue.queue_url
        connect = functions.create(FN_CONNECT, environment=app_env)
        authorizer = functions.create(FN_AUTHORIZER, environment=app_env)
        message = functions.create(FN_MESSAGE, environment=app_env)
        ingest_secrets = IngestSecrets(self, "IngestSecrets", config=config)
        history = functions.create(
            FN_HISTORY, environment={**app_env, **ingest_secrets.environment()}
        )
        ingest_secrets.grant(history)

        sweep_env = dict(base_env)
        if config.db_auto_pause_minutes:
            # The sweep asks CloudWatch whether any socket opened lately before it connects,
            # so a paused database stays asleep (warroom/sweep_gate.py).
            sweep_env.update(
                SWEEP_GATE_API_ID=websocket.api.api_id, SWEEP_GATE_STAGE=websocket.stage.stage_name
            )
        sweep = functions.create(FN_SWEEP, environment=sweep_env)
        sweep_schedule = ConnectionSweep(
            self,
            "Sweep",
            config=config,
            function=sweep,
            reads_connect_counts=bool(config.db_auto_pause_minutes),
        )

        # Grants. The authorizer only verifies a JWT (keys fetched over HTTPS): it gets
        # no data access at all. The connection table lives in PostgreSQL beside the
        # messages, so the database login is all the fan-out needs besides the API.
        for fn in (user_sync, connect, message, history, sweep, presence_flush):
            database.allow_app_client(fn, sg)
        # The sweep and the flush too: they announce joins and departures left pending.
        for fn in (connect, message, history, sweep, presence_flush):
            websocket.grant_fanout(fn)
        flush_queue.grant_schedule(connect)  # only $connect/$disconnect leave joins pending
        attachments.grant_presign(history)  # only the HTTP API signs attachment URLs

        # Web Push and escalation (issue 19): mentions from either send path, pages from
        # the HTTP API (open, take) and from the escalation timer itself.
        # Queue consumers, as the flush: no JWT settings, which they have no use for.
        push_env = {**base_env, **push.environment()}
        push_fn = functions.create(FN_PUSH, environment=push_env)
        escalate_fn = functions.create(FN_ESCALATE, environment=push_env)
        for fn in (push_fn, escalate_fn):
            database.allow_app_client(fn, sg)
        websocket.grant_fanout(escalate_fn)  # a page is a room event for live clients
        push.grant_enqueue(message, pages=False)
        push.grant_enqueue(history, pages=True)
        push.attach(push=push_fn, escalate=escalate_fn, http=history)

        websocket.add_routes(connect=connect, authorizer=authorizer, message=message)
        http = HttpApi(
            self,
            "Http",
            config=config,
            handler=history,
            jwt_issuer=identity.issuer,
            jwt_audience=identity.client.user_pool_client_id,
            web_origins=web_origins,
        )
        migrations = SchemaMigrations(
            self,
            "Migrations",
            config=config,
            network=network,
            database=database,
            functions=functions,
            migrate_layer_dir=inputs.migrate_layer_dir,
            deploy_id=inputs.deploy_id,
        )
        # Nothing that reads the schema goes live before it is there and up to date: new
        # function code (and the schedule that calls the sweep) waits for the migrations.
        app_functions = (
            user_sync,
            connect,
            authorizer,
            message,
            history,
            sweep,
            presence_flush,
            push_fn,
            escalate_fn,
        )
        for dependent in app_functions:
            dependent.node.add_dependency(migrations.resource)
        sweep_schedule.node.add_dependency(migrations.resource)
        # The web client's contract (web/src/config.ts): cognito mode, API base without
        # /api, the wss:// URL, and the hosted UI for the code + PKCE flow.
        web.publish(
            {
                "mode": "cognito",
                "stage": config.name,
                "region": Aws.REGION,
                "apiBase": http.api.api_endpoint,
                "wsUrl": websocket.url,
                "cognito": {
                    "domain": identity.hosted_ui_url,
                    "clientId": identity.client.user_pool_client_id,
                    "userPoolId": identity.user_pool.user_pool_id,
                    "redirectUri": web.url + WEB_CALLBACK_PATH,
                    "scopes": list(OAUTH_SCOPES),
                },
            }
        )
        monitoring = Monitoring(
            self,
            "Monitoring",
            config=config,
            functions=functions.functions,
            database=database,
            websocket=websocket,
            http=http,
            alarm_email=inputs.alarm_email,
            dead_letters=flush_queue.dead_letters,
        )
        monitoring.alarm_on_dead_letters(
            "PushDeadLetters", push.push_dead_letters, "pushes set aside after repeated failures"
        )
        monitoring.alarm_on_dead_letters(
            "EscalationDeadLetters",
            push.escalation_dead_letters,
            "escalation steps set aside after repeated failures: an untaken incident may not be paged",
        )

        # Last: it also covers the functions aws-cdk-lib adds for its own custom resources.
        LogRetentionForEveryFunction.apply(self, config)

        for name, value in {
            "WebUrl": web.url,
            "WebSocketUrl": websocket.url,
            "HttpApiUrl": http.api.api_endpoint,
            "UserPoolId": identity.user_pool.user_pool_id,
            "UserPoolClientId": identity.client.user_pool_client_id,
            "HostedUiUrl": identity.hosted_ui_url,
            "AlarmTopicArn": monitoring.topic.topic_arn,
            "DatabaseClusterArn": database.cluster.cluster_arn,
            "DatabaseSecretArn": database.cluster.secret.secret_arn
            if database.cluster.secret
            else "",
            "DashboardName": monitoring.dashboard.dashboard_name,
        }.items():
            # Kept by name: the deploy pipeline hands some to its post-deploy checks.
            self.outputs[name] = CfnOutput(self, name, value=value)
