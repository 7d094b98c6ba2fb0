"""Configuration: every environment variable the shared package and the functions read,
read here and only here, validated by a pydantic model, lazily (never at import time).

Each part has one cached reader (`database_settings()`, `auth_settings()`, ...) whose
result is what the process-wide objects are built from; `runtime_settings()` is those
same parts, checked together at a handler's first invocation. Tests that change the
environment call `clear_settings_cache()`. (`local/` and `infra/` keep their own reads.)

Plain pydantic models over one reader (`_env`), not pydantic-settings: the variables
have legacy names, defaults that depend on each other (the connection mode on
`AWS_LAMBDA_FUNCTION_NAME`) and unit conversions (milliseconds to seconds), which
explicit readers state plainly, and the Lambda layer gains no dependency.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from functools import lru_cache
from typing import Literal

from pydantic import BaseModel, Field, ValidationError

from warroom.errors import ConfigurationError


class DatabaseSettings(BaseModel):
    """How to reach PostgreSQL.

    `url` unset means the embedded server (pgserver) in the checkout. In Lambda the
    connection mode is `single` (one connection per warm container); long-running
    local processes use a pool sized by the `DB_POOL_*` knobs, named after
    SQLAlchemy's so that RDS Proxy limits can be set from the same numbers.
    """

    url: str | None = None
    mode: Literal["single", "pool"] = "pool"
    pool_size: int = Field(20, ge=1, le=500)
    max_overflow: int = Field(30, ge=0, le=500)
    pool_timeout: float = Field(10.0, gt=0, le=300)
    pool_recycle: float = Field(1800.0, gt=0)
    connect_timeout: int = Field(5, ge=1, le=60)
    statement_timeout_ms: int = Field(5000, ge=100, le=600_000)
    iam_auth: bool = False
    host: str | None = None
    port: int = 5432
    name: str = "warroom"
    user: str = "warroom"
    region: str | None = None
    embedded_dir: str = ".local/pgdata"


_TRUE = {"1", "true", "yes", "on", "y", "t"}


def _env() -> Mapping[str, str]:
    """The process environment: the one place it is read."""
    return os.environ


def _region(env: Mapping[str, str]) -> str | None:
    return env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or None


@lru_cache(maxsize=1)
def database_settings() -> DatabaseSettings:
    env = _env()
    raw: dict[str, object] = {
        "url": env.get("DATABASE_URL") or None,
        "mode": env.get(
            "DB_CONNECTION_MODE", "single" if env.get("AWS_LAMBDA_FUNCTION_NAME") else "pool"
        ),
        "pool_size": env.get("DB_POOL_SIZE", 20),
        "max_overflow": env.get("DB_MAX_OVERFLOW", 30),
        "pool_timeout": env.get("DB_POOL_TIMEOUT", 10),
        "pool_recycle": env.get("DB_POOL_RECYCLE", 1800),
        "connect_timeout": env.get("DB_CONNECT_TIMEOUT", 5),
        "statement_timeout_ms": env.get("DB_STATEMENT_TIMEOUT_MS", 5000),
        "iam_auth": env.get("DB_IAM_AUTH", "false").lower() in _TRUE,
        "host": env.get("DB_HOST") or None,
        "port": env.get("DB_PORT", 5432),
        "name": env.get("DB_NAME", "warroom"),
        "user": env.get("DB_USER", "warroom"),
        "region": _region(env),
        "embedded_dir": env.get("WARROOM_PGDATA", ".local/pgdata"),
    }
    try:
        return DatabaseSettings.model_validate(raw)
    except ValidationError as exc:
        raise ConfigurationError(f"invalid database settings: {exc}") from exc


class AuthSettings(BaseModel):
    """How sign-in tokens are verified (`warroom.auth`)."""

    issuer: str = Field(min_length=1)
    audience: str = Field(min_length=1)
    token_use: str = "id"
    jwks_url: str | None = None
    leeway_seconds: int = Field(30, ge=0, le=300)

    @property
    def resolved_jwks_url(self) -> str:
        return self.jwks_url or self.issuer.rstrip("/") + "/.well-known/jwks.json"


@lru_cache(maxsize=1)
def auth_settings() -> AuthSettings:
    env = _env()
    try:
        return AuthSettings(
            issuer=env.get("JWT_ISSUER", ""),
            audience=env.get("JWT_AUDIENCE", ""),
            token_use=env.get("JWT_TOKEN_USE", "id"),
            jwks_url=env.get("JWT_JWKS_URL") or None,
            leeway_seconds=int(env.get("JWT_LEEWAY_SECONDS", "30")),
        )
    except (ValidationError, ValueError) as exc:
        raise ConfigurationError("JWT_ISSUER and JWT_AUDIENCE must be set") from exc


class FanoutSettings(BaseModel):
    """Where and how posts to `@connections` go (`warroom.fanout`)."""

    management_endpoint: str | None = None
    transport: str | None = None  # None: the fan-out's default (signed HTTP posts)
    region: str = "us-east-1"  # for an endpoint whose host names no region (local)


@lru_cache(maxsize=1)
def fanout_settings() -> FanoutSettings:
    env = _env()
    return FanoutSettings(
        management_endpoint=env.get("WS_MANAGEMENT_ENDPOINT") or None,
        transport=env.get("WS_TRANSPORT") or None,
        region=_region(env) or "us-east-1",
    )


class StorageSettings(BaseModel):
    """The attachments bucket (`warroom.storage`)."""

    attachments_bucket: str | None = None
    addressing_style: Literal["auto", "virtual", "path"] = "auto"


@lru_cache(maxsize=1)
def storage_settings() -> StorageSettings:
    env = _env()
    style = env.get("S3_ADDRESSING_STYLE", "auto")
    return StorageSettings(
        attachments_bucket=env.get("ATTACHMENTS_BUCKET") or None,
        addressing_style=style if style in ("virtual", "path") else "auto",
    )


class PresenceSettings(BaseModel):
    """Joins and departures: at most one announcement per room per window; one left
    pending schedules its room's flush on `flush_queue_url` (an SQS delay queue, in the
    cloud) or, unset, on an in-process timer (warroom.flush_scheduler)."""

    join_window_seconds: float = Field(1.0, ge=0)
    # A departure waits this long before it is announced (`PRESENCE_LEAVE_GRACE_MS`):
    # someone back within it (a reload, a short signal loss) never "left" (issue 16).
    leave_grace_seconds: float = Field(30.0, ge=0, le=600)
    flush_queue_url: str | None = None


@lru_cache(maxsize=1)
def presence_settings() -> PresenceSettings:
    env = _env()
    try:
        return PresenceSettings(
            join_window_seconds=float(env.get("JOIN_ANNOUNCE_WINDOW_MS", "1000")) / 1000.0,
            leave_grace_seconds=float(env.get("PRESENCE_LEAVE_GRACE_MS", "30000")) / 1000.0,
            flush_queue_url=env.get("PRESENCE_FLUSH_QUEUE_URL") or None,
        )
    except (ValidationError, ValueError) as exc:
        raise ConfigurationError(f"invalid presence settings: {exc}") from exc


class RuntimeSettings(BaseModel):
    """What the WebSocket and HTTP handlers need, checked together at a handler's first
    invocation. The parts are the very objects the process-wide objects are built from
    (the token verifier, the broadcaster, the S3 adapter, the database)."""

    auth: AuthSettings
    fanout: FanoutSettings
    storage: StorageSettings
    database: DatabaseSettings

    @property
    def ws_management_endpoint(self) -> str:
        return self.fanout.management_endpoint or ""

    @property
    def jwt_issuer(self) -> str:
        return self.auth.issuer

    @property
    def jwt_audience(self) -> str:
        return self.auth.audience

    @property
    def attachments_bucket(self) -> str | None:
        return self.storage.attachments_bucket


@lru_cache(maxsize=1)
def runtime_settings() -> RuntimeSettings:
    missing = [] if fanout_settings().management_endpoint else ["WS_MANAGEMENT_ENDPOINT"]
    try:
        auth = auth_settings()
    except ConfigurationError:
        env = _env()
        missing += [name for name in ("JWT_ISSUER", "JWT_AUDIENCE") if not env.get(name)]
        if not missing:
            raise
    if missing:
        raise ConfigurationError(f"missing or invalid settings: {', '.join(missing)}")
    return RuntimeSettings(
        auth=auth,
        fanout=fanout_settings(),
        storage=storage_settings(),
        database=database_settings(),
    )


class RateLimits(BaseModel):
    """Per-user token buckets, sized for a person in an incident: a burst, then a steady
    rate. Sends have one bucket; edits, deletes and reactions share another. Set by
    `RATE_LIMIT_{SEND,WRITE}_{BURST,PER_SECOND}` (benchmarks and tests change them)."""

    send_burst: int = Field(30, ge=1, le=1_000_000)
    send_per_second: float = Field(1.0, gt=0, le=1_000_000)
    write_burst: int = Field(30, ge=1, le=1_000_000)
    write_per_second: float = Field(2.0, gt=0, le=1_000_000)


@lru_cache(maxsize=1)
def rate_limits() -> RateLimits:
    env = _env()
    raw = {
        name: env[f"RATE_LIMIT_{name.upper()}"]
        for name in RateLimits.model_fields
        if f"RATE_LIMIT_{name.upper()}" in env
    }
    try:
        return RateLimits.model_validate(raw)
    except ValidationError as exc:
        raise ConfigurationError(f"invalid rate limits: {exc}") from exc


class PushSettings(BaseModel):
    """Web Push and on-call escalation (issue 19).

    The VAPID private key (PEM) comes from `VAPID_PRIVATE_KEY_FILE` (`make dev` generates
    it into .local/) or from the Secrets Manager secret `VAPID_SECRET_ARN` (the cloud),
    read once on first use. `transport` says how pushes and escalation timers leave:
    `inprocess` (a background worker and in-process timers, `make dev`) or `sqs` (the
    push queue feeding the push Lambda; the escalation queue's delayed messages)."""

    vapid_private_key_file: str | None = None
    vapid_secret_arn: str | None = None
    vapid_subject: str = Field("mailto:warroom@factory.example", min_length=8)
    allow_loopback: bool = False
    transport: Literal["inprocess", "sqs"] = "inprocess"
    push_queue_url: str | None = None
    escalation_queue_url: str | None = None
    send_timeout_seconds: float = Field(10.0, gt=0, le=60)


@lru_cache(maxsize=1)
def push_settings() -> PushSettings:
    env = _env()
    raw = {
        "vapid_private_key_file": env.get("VAPID_PRIVATE_KEY_FILE") or None,
        "vapid_secret_arn": env.get("VAPID_SECRET_ARN") or None,
        "vapid_subject": env.get("VAPID_SUBJECT", "mailto:warroom@factory.example"),
        "allow_loopback": env.get("PUSH_ALLOW_LOOPBACK", "false").strip().lower() in _TRUE,
        "transport": env.get("PUSH_TRANSPORT", "inprocess"),
        "push_queue_url": env.get("PUSH_QUEUE_URL") or None,
        "escalation_queue_url": env.get("ESCALATION_QUEUE_URL") or None,
    }
    try:
        return PushSettings.model_validate(raw)
    except ValidationError as exc:
        raise ConfigurationError(f"invalid push settings: {exc}") from exc


class SweepGateSettings(BaseModel):
    """The dev stage's sweep asks CloudWatch first (`warroom.sweep_gate`); unset: it runs."""

    api_id: str | None = None
    stage: str | None = None


def sweep_gate_settings() -> SweepGateSettings:
    """Read at each scheduled run (once a minute), not cached."""
    env = _env()
    return SweepGateSettings(
        api_id=env.get("SWEEP_GATE_API_ID") or None, stage=env.get("SWEEP_GATE_STAGE") or None
    )


class MigrateSettings(BaseModel):
    """The deploy-time schema custom resource (`functions/migrate`)."""

    model_config = {"frozen": True}

    secret_arn: str
    db_name: str
    app_user: str


def migrate_settings() -> MigrateSettings:
    """Read at each deploy event (rare), not cached."""
    env = _env()
    missing = [k for k in ("DB_SECRET_ARN", "DB_APP_USER") if not env.get(k)]
    if missing:
        raise ConfigurationError(f"missing settings: {', '.join(missing)}")
    return MigrateSettings(
        secret_arn=env["DB_SECRET_ARN"],
        db_name=env.get("DB_NAME", "warroom"),
        app_user=env["DB_APP_USER"],
    )


class ToolSettings(BaseModel):
    """The command-line tools' knobs (`python -m warroom.db.migrate`)."""

    migrations_dir: str | None = None
    database_url: str | None = None


def tool_settings() -> ToolSettings:
    env = _env()
    return ToolSettings(
        migrations_dir=env.get("WARROOM_MIGRATIONS_DIR") or None,
        database_url=env.get("DATABASE_URL") or None,
    )


def tracing_enabled() -> bool:
    """Powertools' rules: off when POWERTOOLS_TRACE_DISABLED is true, and outside Lambda
    (no task root) or in SAM's or Chalice's local emulators. Asked once per handler."""
    env = _env()
    if env.get("POWERTOOLS_TRACE_DISABLED", "false").strip().lower() in _TRUE:
        return False
    if not env.get("LAMBDA_TASK_ROOT"):
        return False
    return not (env.get("AWS_SAM_LOCAL") or env.get("AWS_CHALICE_CLI_MODE"))


class IngestSettings(BaseModel):
    """Machine readings (issue 18). The sources' secrets are sealed under the KMS key
    `INGEST_KMS_KEY_ID` in the cloud, else under the key file `INGEST_KEY_FILE` (make
    dev). Each source may post `INGEST_RATE_{BURST,PER_SECOND}` batches."""

    kms_key_id: str | None = None
    key_file: str = ".local/ingest-secrets.key"
    region: str | None = None
    rate_burst: int = Field(20, ge=1, le=1_000_000)
    rate_per_second: float = Field(5.0, gt=0, le=1_000_000)


@lru_cache(maxsize=1)
def ingest_settings() -> IngestSettings:
    env = _env()
    raw: dict[str, object] = {
        "kms_key_id": env.get("INGEST_KMS_KEY_ID") or None,
        "key_file": env.get("INGEST_KEY_FILE") or ".local/ingest-secrets.key",
        "region": _region(env),
    }
    for name in ("rate_burst", "rate_per_second"):
        if f"INGEST_{name.upper()}" in env:
            raw[name] = env[f"INGEST_{name.upper()}"]
    try:
        return IngestSettings.model_validate(raw)
    except ValidationError as exc:
        raise ConfigurationError(f"invalid ingest settings: {exc}") from exc


def use_runtime_dir(path: str) -> None:
    """pgserver keeps its lock file under XDG_RUNTIME_DIR, read at its import: point it
    at `path` unless the environment already names one."""
    os.environ.setdefault("XDG_RUNTIME_DIR", path)


def clear_settings_cache() -> None:
    """Read the environment again (tests and the local stack change it)."""
    for cached in (
        database_settings,
        auth_settings,
        fanout_settings,
        storage_settings,
        presence_settings,
        runtime_settings,
        rate_limits,
        push_settings,
        ingest_settings,
    ):
        cached.cache_clear()
