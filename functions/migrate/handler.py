"""Deploy-time custom resource (CDK Provider framework): applies the Alembic migrations,
then grants the IAM-authenticated application user its rights on the tables.

- Create and Update: `alembic upgrade head` as the master user, then the grants. Both are
  idempotent, so running them on every deploy is safe.
- Delete: nothing. The data outlives this resource; the cluster's removal policy decides.

The master password is read from Secrets Manager at run time and never leaves this
process: no password sits in the function's environment.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import quote, urlencode

import boto3
import psycopg
from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext
from psycopg import sql

from warroom.db.connections import tls_parameters
from warroom.db.migrate import upgrade
from warroom.settings import MigrateSettings, migrate_settings

logger = Logger()

PHYSICAL_RESOURCE_ID = "warroom-schema"
# The migration session may take longer than the database's default statement timeout
# (migration 0002 sets it), but should not queue behind a long lock for ever.
SESSION_OPTIONS = "-c statement_timeout=0 -c lock_timeout=60000"
# A scheduled rotation may change the password between our read of the secret and the
# login: read it again and retry, a few times.
LOGIN_ATTEMPTS = 5
LOGIN_RETRY_SECONDS = 10.0
# A paused Aurora Serverless v2 instance takes about 15 s to resume on the first
# connection: wait twice that, and should even that expire, try again (same attempts).
CONNECT_TIMEOUT_SECONDS = 30


def database_url(secret: dict[str, Any], db_name: str) -> str:
    """A libpq URL for the master user, over verified TLS, from the cluster's generated
    secret."""
    user = quote(str(secret["username"]), safe="")
    password = quote(str(secret["password"]), safe="")
    query = urlencode(
        {
            **tls_parameters(),
            "connect_timeout": str(CONNECT_TIMEOUT_SECONDS),
            "options": SESSION_OPTIONS,
        },
        quote_via=quote,
    )
    return (
        f"postgresql://{user}:{password}@{secret['host']}:{int(secret.get('port', 5432))}"
        f"/{quote(secret.get('dbname') or db_name, safe='')}?{query}"
    )


def read_secret(secret_arn: str) -> dict[str, Any]:
    response = boto3.client("secretsmanager").get_secret_value(SecretId=secret_arn)
    secret: dict[str, Any] = json.loads(response["SecretString"])
    return secret


def grant_statements(app_user: str, db_name: str) -> list[sql.Composed]:
    """Make `app_user` exist, log in only with IAM tokens, and use the tables."""
    role = sql.Identifier(app_user)
    return [
        sql.SQL(
            "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = {name}) "
            "THEN CREATE ROLE {role} LOGIN; END IF; END $$"
        ).format(name=sql.Literal(app_user), role=role),
        sql.SQL("GRANT rds_iam TO {role}").format(role=role),
        sql.SQL("GRANT CONNECT ON DATABASE {db} TO {role}").format(
            db=sql.Identifier(db_name), role=role
        ),
        sql.SQL("GRANT USAGE ON SCHEMA public TO {role}").format(role=role),
        sql.SQL(
            "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}"
        ).format(role=role),
        sql.SQL("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}").format(
            role=role
        ),
        sql.SQL("GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA public TO {role}").format(role=role),
        # Tables a later migration creates (as this same master user) follow suit.
        sql.SQL(
            "ALTER DEFAULT PRIVILEGES IN SCHEMA public "
            "GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {role}"
        ).format(role=role),
        sql.SQL(
            "ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO {role}"
        ).format(role=role),
    ]


def grant_app_user(url: str, app_user: str, db_name: str) -> None:
    with psycopg.connect(url) as conn, conn.transaction():
        for statement in grant_statements(app_user, db_name):
            conn.execute(statement)


def _is_login_failure(exc: BaseException) -> bool:
    text = str(exc).lower()
    return isinstance(exc, psycopg.OperationalError) and "password authentication failed" in text


def _is_connect_timeout(exc: BaseException) -> bool:
    """libpq's "connection timeout expired" (or the socket's own timeout): the database
    is still resuming, so another attempt will find it up."""
    text = str(exc).lower()
    return isinstance(exc, psycopg.OperationalError) and (
        "timeout expired" in text or "timed out" in text
    )


def _is_retryable(exc: BaseException) -> bool:
    return _is_login_failure(exc) or _is_connect_timeout(exc)


def with_fresh_secret(
    settings: MigrateSettings, work: Callable[[str, str], None], sleep: Callable[[float], None]
) -> None:
    """Run `work(url, db_name)`, re-reading the secret if the password was just rotated,
    and trying again when the connection timed out (a paused database resuming)."""
    for attempt in range(1, LOGIN_ATTEMPTS + 1):
        secret = read_secret(settings.secret_arn)
        try:
            work(database_url(secret, settings.db_name), secret.get("dbname") or settings.db_name)
            return
        except Exception as exc:
            # Alembic wraps the driver's error; look at the whole chain.
            chain = [exc, exc.__cause__, exc.__context__]
            if attempt == LOGIN_ATTEMPTS or not any(c and _is_retryable(c) for c in chain):
                raise
            logger.warning(
                "master login failed (refused or timed out); trying again",
                extra={"attempt": attempt, "error": str(exc)},
            )
            sleep(LOGIN_RETRY_SECONDS)


def migrate_and_grant(url: str, db_name: str, app_user: str) -> None:
    upgrade(url)
    grant_app_user(url, app_user, db_name)


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request_type = event["RequestType"]
    logger.info("schema custom resource", extra={"request_type": request_type})
    if request_type == "Delete":
        return {"PhysicalResourceId": event.get("PhysicalResourceId", PHYSICAL_RESOURCE_ID)}

    settings = migrate_settings()
    with_fresh_secret(
        settings,
        lambda url, db_name: migrate_and_grant(url, db_name, settings.app_user),
        time.sleep,
    )
    logger.info("schema at head; application user granted", extra={"app_user": settings.app_user})
    return {"PhysicalResourceId": PHYSICAL_RESOURCE_ID, "Data": {"AppUser": settings.app_user}}
