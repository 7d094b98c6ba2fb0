"""Configuration, validated once and read lazily (never at import time)."""

from __future__ import annotations

import os
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


@lru_cache(maxsize=1)
def database_settings() -> DatabaseSettings:
    env = os.environ
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
        "iam_auth": env.get("DB_IAM_AUTH", "false").lower() in {"1", "true", "yes"},
        "host": env.get("DB_HOST") or None,
        "port": env.get("DB_PORT", 5432),
        "name": env.get("DB_NAME", "warroom"),
        "user": env.get("DB_USER", "warroom"),
        "region": env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or None,
        "embedded_dir": env.get("WARROOM_PGDATA", ".local/pgdata"),
    }
    try:
        return DatabaseSettings.model_validate(raw)
    except ValidationError as exc:
        raise ConfigurationError(f"invalid database settings: {exc}") from exc


class RuntimeSettings(BaseModel):
    """What every handler needs, validated once per container (at its first invocation)."""

    ws_management_endpoint: str = Field(min_length=1)
    jwt_issuer: str = Field(min_length=1)
    jwt_audience: str = Field(min_length=1)
    attachments_bucket: str | None = None


@lru_cache(maxsize=1)
def runtime_settings() -> RuntimeSettings:
    env = os.environ
    try:
        settings = RuntimeSettings(
            ws_management_endpoint=env.get("WS_MANAGEMENT_ENDPOINT", ""),
            jwt_issuer=env.get("JWT_ISSUER", ""),
            jwt_audience=env.get("JWT_AUDIENCE", ""),
            attachments_bucket=env.get("ATTACHMENTS_BUCKET") or None,
        )
    except ValidationError as exc:
        missing = ", ".join(str(e["loc"][0]).upper() for e in exc.errors())
        raise ConfigurationError(f"missing or invalid settings: {missing}") from exc
    database_settings()
    return settings


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
    env = os.environ
    raw = {
        name: env[f"RATE_LIMIT_{name.upper()}"]
        for name in RateLimits.model_fields
        if f"RATE_LIMIT_{name.upper()}" in env
    }
    try:
        return RateLimits.model_validate(raw)
    except ValidationError as exc:
        raise ConfigurationError(f"invalid rate limits: {exc}") from exc
