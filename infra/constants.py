"""Every name, path and per-stage number of the deployment, in one place.

The constructs read from here; nothing else in `infra/` spells a resource name, an
environment variable the application reads, or a capacity figure. Plain Python only (no
aws_cdk import), so the layer build can use it without starting jsii.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal

from warroom.frames import ROUTES

# --- paths ------------------------------------------------------------------------------

REPO_ROOT: Final = Path(__file__).resolve().parent.parent
FUNCTIONS_DIR: Final = REPO_ROOT / "functions"
BUILD_DIR: Final = REPO_ROOT / "build"
# Written by `python -m infra.build_layer` (`make layer`): `python/` inside each.
DEFAULT_LAYER_DIR: Final = BUILD_DIR / "layer"
DEFAULT_MIGRATE_LAYER_DIR: Final = BUILD_DIR / "migrate"
WEB_DIST_DIR: Final = REPO_ROOT / "web" / "dist"
# Served when the client has not been built, so that synth never depends on `web/`.
WEB_PLACEHOLDER_DIR: Final = Path(__file__).resolve().parent / "placeholder_web"

# --- context keys (`cdk synth -c key=value`) -----------------------------------------

CTX_STAGE: Final = "stage"
CTX_LAYER_DIR: Final = "layer_dir"
CTX_MIGRATE_LAYER_DIR: Final = "migrate_layer_dir"
CTX_WEB_DIR: Final = "web_dir"
CTX_DEPLOY_ID: Final = "deploy_id"  # changes on every `make deploy`: migrations re-run
CTX_ALARM_EMAIL: Final = "alarm_email"
CTX_AUTH_DOMAIN_PREFIX: Final = "auth_domain_prefix"
CTX_REGION: Final = "region"

# --- naming -----------------------------------------------------------------------------

SERVICE_NAME: Final = "warroom"
STACK_NAME_PREFIX: Final = "WarRoom"
TAG_SERVICE: Final = "service"
TAG_STAGE: Final = "stage"


def stack_name(stage: str) -> str:
    return f"{STACK_NAME_PREFIX}-{stage}"


# --- the application's contract (names the code in layers/ and functions/ reads) ------

METRICS_NAMESPACE: Final = "WarRoom"
FANOUT_FAILED_METRIC: Final = "FanoutFailed"
# Counted by warroom.answer_metrics whenever a client is answered INTERNAL or UNAVAILABLE:
# handlers turn exceptions into error frames and 500s, so Lambda's Errors never see them.
SERVER_ERROR_ANSWERS_METRIC: Final = "ServerErrorAnswers"
USER_SYNC_FAILED_METRIC: Final = "UserSyncFailed"
# Powertools adds the `service` dimension (POWERTOOLS_SERVICE_NAME) to every metric.
METRICS_SERVICE_DIMENSION: Final = "service"

AURORA_POSTGRES_VERSION: Final = ("16.9", "16")  # (full, major)
DB_NAME: Final = "warroom"
DB_PORT: Final = 5432
DB_APP_USER: Final = "warroom_app"  # IAM-authenticated (through the proxy where there is one)
DB_MASTER_USER: Final = "warroom_admin"  # only the migration custom resource uses it

# The Cognito trigger must answer within Cognito's 5 s: a connect attempt may take 2 s
# (libpq's smallest useful connect_timeout), leaving time for the statement and the reply.
USER_SYNC_DB_CONNECT_TIMEOUT_S: Final = 2

# WebSocket: `$request.body.type` picks the route; each type the message function handles.
WS_ROUTE_SELECTION: Final = "$request.body.type"
# `ping` is answered by API Gateway itself (a MOCK integration with a route response):
# the heartbeat costs no Lambda call, no database read and no NAT round trip.
WS_PING_ROUTE: Final = "ping"
WS_PONG_FRAME: Final = '{"type":"pong"}'
# The wire contract owns the list, so a new frame type cannot miss its route.
WS_MESSAGE_ROUTES: Final = tuple(route for route in ROUTES if route != WS_PING_ROUTE)
WS_AUTH_QUERY_PARAMETER: Final = "token"
WS_AUTH_IDENTITY_SOURCE: Final = f"route.request.querystring.{WS_AUTH_QUERY_PARAMETER}"

HTTP_API_PROXY_ROUTE: Final = "/api/{proxy+}"
HTTP_API_PUBLIC_ROUTES: Final = ("/api/health", "/api/openapi.json")  # GET, no authorizer
# POST, no JWT authorizer: the Standard Webhooks signature is checked in the function.
HTTP_API_SIGNED_ROUTES: Final = ("/api/ingest/{source_id}/readings",)

# The housekeeping function (functions/sweep) runs on an EventBridge Scheduler schedule:
# it deletes expired connection rows (and announces, once, anything a lost delayed flush
# left pending). Short: no scheduled function may run for a minute.
SWEEP_INTERVAL_MINUTES: Final = 1
# A join or departure left pending in its room's window schedules the room's flush: an SQS
# message delayed by the window (functions/presence_flush). The application's window is
# JOIN_ANNOUNCE_WINDOW_MS (1 s by default); SQS delays count whole seconds.
PRESENCE_FLUSH_QUEUE_ENV: Final = "PRESENCE_FLUSH_QUEUE_URL"
PRESENCE_FLUSH_BATCH_SIZE: Final = 10
PRESENCE_FLUSH_MAX_RECEIVES: Final = 3  # then the dead-letter queue

JWT_TOKEN_USE: Final = "id"
OAUTH_SCOPES: Final = ("openid", "email", "profile")
WEB_CONFIG_FILE: Final = "config.json"
WEB_CALLBACK_PATH: Final = "/"  # the client handles `?code=` on its root page
LOCAL_WEB_ORIGIN: Final = "http://localhost:5173"  # Vite's dev server, dev stage only

LAMBDA_PYTHON_VERSION: Final = "3.12"
# Lambda's Python 3.12 runs on Amazon Linux 2023 (glibc 2.34) on Graviton: any manylinux
# wheel from glibc 2.17 (manylinux2014) to 2.34 runs there. pip does not widen an explicit
# --platform by itself, so every step is listed.
LAYER_PIP_PLATFORMS: Final = (
    "manylinux2014_aarch64",
    *(f"manylinux_2_{minor}_aarch64" for minor in range(17, 35)),
)
MIGRATIONS_LAYER_SUBDIR: Final = "migrations"  # /opt/migrations in the function
VPC_CIDR: Final = "10.0.0.0/16"  # CDK's default, written out: the NAT instance admits it
# The dev stage's way out of the VPC (2 vCPU burstable Graviton, 0.5 GiB): ≈ $3 a month.
NAT_INSTANCE_TYPE: Final = "t4g.nano"


@dataclass(frozen=True)
class FunctionSpec:
    """One Lambda function: a folder of `functions/` and the handler inside it."""

    id: str
    folder: str
    handler: str
    service: str  # POWERTOOLS_SERVICE_NAME, and the `service` metric dimension
    description: str
    memory_mb: int = 512
    timeout_s: int = 29  # API Gateway's integration timeout


FN_CONNECT: Final = FunctionSpec(
    id="ConnectFn",
    folder="connect",
    handler="handler.lambda_handler",
    service="warroom-connect",
    description="WebSocket $connect and $disconnect",
)
FN_AUTHORIZER: Final = FunctionSpec(
    id="AuthorizerFn",
    folder="connect",
    handler="authorizer.lambda_handler",
    service="warroom-authorizer",
    description="WebSocket $connect authorizer: verifies the Cognito token in ?token=",
    timeout_s=10,
)
FN_MESSAGE: Final = FunctionSpec(
    id="MessageFn",
    folder="message",
    handler="handler.lambda_handler",
    service="warroom-message",
    description="WebSocket message routes and $default",
)
FN_HISTORY: Final = FunctionSpec(
    id="HistoryFn",
    folder="history",
    handler="handler.lambda_handler",
    service="warroom-history",
    description="HTTP API /api/*",
)
FN_USER_SYNC: Final = FunctionSpec(
    id="UserSyncFn",
    folder="user_sync",
    handler="handler.lambda_handler",
    service="warroom-user-sync",
    description="Cognito trigger: keeps tr_users in step with the user pool",
    timeout_s=5,  # Cognito waits at most 5 s for a trigger
)
FN_MIGRATE: Final = FunctionSpec(
    id="MigrateFn",
    folder="migrate",
    handler="handler.lambda_handler",
    service="warroom-migrate",
    description="Deploy-time custom resource: Alembic upgrade, grants for the IAM user",
    memory_mb=1024,
    timeout_s=300,
)
FN_SWEEP: Final = FunctionSpec(
    id="SweepFn",
    folder="sweep",
    handler="handler.handler",
    service="warroom-sweep",
    description="Every minute: deletes expired connection rows",
    timeout_s=30,
)
FN_PRESENCE_FLUSH: Final = FunctionSpec(
    id="PresenceFlushFn",
    folder="presence_flush",
    handler="handler.lambda_handler",
    service="warroom-presence-flush",
    description="SQS, delayed by the join window: announces a room's pending joins",
    timeout_s=20,
)
FN_PUSH: Final = FunctionSpec(
    id="PushFn",
    folder="push",
    handler="handler.handler",
    service="warroom-push",
    description="Push queue: encrypted, VAPID-signed Web Push to each person's devices",
    timeout_s=30,
)
FN_ESCALATE: Final = FunctionSpec(
    id="EscalateFn",
    folder="escalate",
    handler="handler.handler",
    service="warroom-escalate",
    description="Escalation queue (delayed): pages the next person on call if untaken",
    timeout_s=30,
)
# Every function a schedule or a queue invokes (not a client): none may run a minute.
BACKGROUND_FUNCTIONS: Final = (FN_SWEEP, FN_PRESENCE_FLUSH, FN_PUSH, FN_ESCALATE)
MAX_BACKGROUND_TIMEOUT_S: Final = 60
# The functions whose handlers post to rooms (and so may count FanoutFailed).
FANOUT_FUNCTIONS: Final = (FN_CONNECT, FN_MESSAGE, FN_HISTORY)
# The functions that answer clients (and so may count ServerErrorAnswers).
ANSWERING_FUNCTIONS: Final = (FN_CONNECT, FN_MESSAGE, FN_HISTORY)


# --- per-stage numbers --------------------------------------------------------------------


@dataclass(frozen=True)
class StageConfig:
    name: str
    is_production: bool
    # Aurora Serverless v2 capacity in ACUs (1 ACU ≈ 2 GiB of memory).
    db_min_acu: float
    db_max_acu: float
    db_readers: int
    db_backup_days: int
    # The application's pool knobs (SQLAlchemy's names), also the RDS Proxy's limits.
    db_pool_size: int
    db_max_overflow: int
    db_pool_timeout_s: int = 10
    db_pool_recycle_s: int = 1800
    db_statement_timeout_ms: int = 5000
    # libpq's connect_timeout for the API functions. Without a proxy, the first connection
    # to a paused Aurora instance waits while it resumes (about 15 s).
    db_connect_timeout_s: int = 5
    # RDS Proxy between the functions and Aurora (its pool, failover in seconds). Without
    # it the functions log in to Aurora directly, with the same IAM tokens.
    db_proxy: bool = True
    # Aurora Serverless v2 pauses after this long without connections (db_min_acu = 0).
    db_auto_pause_minutes: int | None = None
    # The way out of the private subnets: managed NAT gateways, or one NAT instance.
    nat: Literal["gateway", "instance"] = "gateway"
    nat_gateways: int = 1
    ws_rate_limit: int = 200  # requests per second, per stage
    ws_burst_limit: int = 400
    http_rate_limit: int = 100
    http_burst_limit: int = 200
    log_retention: str = "ONE_MONTH"  # a member of aws_logs.RetentionDays
    log_level: str = "INFO"
    attachments_expire_days: int | None = None
    mfa_required: bool = False
    # Alarm when a function has this many errors in five minutes.
    function_error_threshold: int = 1

    @property
    def db_max_connections(self) -> int:
        """PostgreSQL's `max_connections` at the maximum capacity.

        Aurora PostgreSQL sets LEAST(DBInstanceClassMemory / 9531392, 5000); Serverless v2
        sizes it from the memory of the *maximum* ACU setting (2 GiB per ACU). This is an
        estimate from above: some memory is reserved, so the real value is a little lower,
        which only makes the percentages below slightly more generous.
        """
        return min(5000, int(self.db_max_acu * 2 * 1024**3 / 9_531_392))

    @property
    def proxy_max_connections_percent(self) -> int:
        """The proxy may open DB_POOL_SIZE + DB_MAX_OVERFLOW connections (the burst)."""
        burst = self.db_pool_size + self.db_max_overflow
        return max(1, min(100, math.ceil(100 * burst / self.db_max_connections)))

    @property
    def proxy_max_idle_connections_percent(self) -> int:
        """…and keep DB_POOL_SIZE of them open when idle (the steady pool)."""
        idle = math.floor(100 * self.db_pool_size / self.db_max_connections)
        return max(0, min(self.proxy_max_connections_percent, idle))


STAGES: Final[dict[str, StageConfig]] = {
    # At rest dev costs a few dollars (docs/deploy.md): no proxy, a database that pauses,
    # a NAT instance instead of a NAT gateway.
    "dev": StageConfig(
        name="dev",
        is_production=False,
        db_min_acu=0,
        db_max_acu=4,
        db_readers=0,
        db_backup_days=1,
        db_pool_size=20,
        db_max_overflow=30,
        db_connect_timeout_s=20,
        db_proxy=False,
        db_auto_pause_minutes=10,
        nat="instance",
        nat_gateways=1,
        log_retention="TWO_WEEKS",
        log_level="DEBUG",
        attachments_expire_days=30,
    ),
    "prod": StageConfig(
        name="prod",
        is_production=True,
        db_min_acu=1,
        db_max_acu=16,
        db_readers=1,
        db_backup_days=14,
        db_pool_size=60,
        db_max_overflow=90,
        nat_gateways=2,
        ws_rate_limit=1000,
        ws_burst_limit=2000,
        http_rate_limit=500,
        http_burst_limit=1000,
        log_retention="THREE_MONTHS",
        mfa_required=True,
        function_error_threshold=5,
    ),
}


def stage_config(stage: str) -> StageConfig:
    try:
        return STAGES[stage]
    except KeyError:
        raise ValueError(f"unknown stage {stage!r}; use one of {sorted(STAGES)}") from None
