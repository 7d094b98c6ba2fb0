"""The two deployment-side functions: the migration custom resource and the Cognito
trigger. AWS is never called: the secret read is stubbed, the grants run on the real
PostgreSQL of the test session."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import psycopg
import pytest
from psycopg import conninfo

pytestmark = [
    pytest.mark.infrastructure,
    # A trigger that synced nothing has no metric to flush: expected, not a problem.
    pytest.mark.filterwarnings("ignore:No application metrics:UserWarning"),
]

SECRET = {
    "engine": "postgres",
    "username": "warroom_admin",
    "password": "p@ss:w/rd?&=%",  # generated passwords may hold URL syntax
    "host": "warroom-dev.cluster-abc.eu-west-1.rds.amazonaws.com",
    "port": 5432,
    "dbname": "warroom",
}


@dataclass
class FakeContext:
    function_name: str = "warroom-test"
    memory_limit_in_mb: int = 128
    invoked_function_arn: str = "arn:aws:lambda:eu-west-1:123456789012:function:warroom-test"
    aws_request_id: str = "request-1"
    remaining_ms: int = 5000  # Cognito's trigger limit, as the function's timeout

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


@pytest.fixture(scope="module")
def powertools_env() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("POWERTOOLS_SERVICE_NAME", "warroom-test")
        patch.setenv("POWERTOOLS_METRICS_NAMESPACE", "WarRoom")
        patch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
        yield


@pytest.fixture(scope="module")
def migrate(powertools_env: None) -> ModuleType:
    from functions.migrate import handler

    return handler


@pytest.fixture(scope="module")
def user_sync(powertools_env: None) -> ModuleType:
    from functions.user_sync import handler

    return handler


# --- migrate --------------------------------------------------------------------------


def test_database_url_keeps_the_password_intact_and_requires_tls(migrate: ModuleType) -> None:
    # Given the cluster's generated secret
    # When building the master user's URL from it
    url = migrate.database_url(SECRET, "warroom")
    params = conninfo.conninfo_to_dict(url)
    # Then libpq reads back exactly the secret's values, over verified TLS (chain and host
    # name, against the CAs shipped in the layer), with no statement timeout
    assert params["user"] == SECRET["username"]
    assert params["password"] == SECRET["password"]
    assert params["host"] == SECRET["host"]
    assert params["port"] == "5432"
    assert params["dbname"] == "warroom"
    assert params["sslmode"] == "verify-full"
    assert Path(str(params["sslrootcert"])).is_file()
    assert "statement_timeout=0" in str(params["options"])


def test_the_migration_waits_for_a_paused_database_to_resume(migrate: ModuleType) -> None:
    # Given the master user's URL (a paused Aurora Serverless v2 takes ~15 s to resume)
    url = migrate.database_url(SECRET, "warroom")
    # Then its connect timeout leaves room for the resume, twice over
    assert int(conninfo.conninfo_to_dict(url)["connect_timeout"]) >= 30


def test_the_urls_connect_timeout_wins_over_the_api_functions_setting(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from warroom.db.connections import migration_connect
    from warroom.settings import database_settings

    # Given the application's short connect timeout in the environment (5 s, for the API)
    monkeypatch.setenv("DB_CONNECT_TIMEOUT", "5")
    database_settings.cache_clear()
    try:
        # When Alembic connects with a URL that asks for 30 s (as the migrate function's does)
        params = conninfo.conninfo_to_dict(database_url)
        params["connect_timeout"] = "30"
        with migration_connect(conninfo.make_conninfo(**params)) as conn:
            # Then the connection was made with the URL's 30 s, not the setting's 5 s
            used = conninfo.conninfo_to_dict(conn.info.dsn)
            assert used["connect_timeout"] == "30"
    finally:
        database_settings.cache_clear()


def test_a_connection_timeout_is_tried_again(
    migrate: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a database still resuming: the first login times out, the second gets in
    monkeypatch.setattr(migrate, "read_secret", lambda _: SECRET)
    attempts: list[str] = []
    pauses: list[float] = []

    def work(url: str, db_name: str) -> None:
        attempts.append(url)
        if len(attempts) == 1:
            raise psycopg.OperationalError(
                'connection to server at "10.0.3.7", port 5432 failed: timeout expired'
            )

    settings = migrate.MigrateSettings(secret_arn="arn", db_name="warroom", app_user="app")
    # When migrating
    migrate.with_fresh_secret(settings, work, sleep=pauses.append)
    # Then it paused and tried again, and the second attempt went through
    assert len(attempts) == 2 and len(pauses) == 1


def test_delete_leaves_the_schema_alone(
    migrate: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a custom-resource Delete (stack deletion or replacement)
    def no_secret(_: str) -> dict[str, Any]:
        raise AssertionError("Delete must not touch the database")

    monkeypatch.setattr(migrate, "read_secret", no_secret)
    event = {"RequestType": "Delete", "PhysicalResourceId": "warroom-schema"}
    # When the handler runs
    result = migrate.lambda_handler(event, FakeContext())
    # Then it answers with the same resource and does nothing
    assert result == {"PhysicalResourceId": "warroom-schema"}


@pytest.mark.parametrize("request_type", ["Create", "Update"])
def test_create_and_update_upgrade_then_grant(
    migrate: ModuleType, monkeypatch: pytest.MonkeyPatch, request_type: str
) -> None:
    # Given the function's settings and a stubbed secret, upgrade and grant
    monkeypatch.setenv("DB_SECRET_ARN", "arn:aws:secretsmanager:eu-west-1:1:secret:db")
    monkeypatch.setenv("DB_APP_USER", "warroom_app")
    monkeypatch.setenv("DB_NAME", "warroom")
    steps: list[tuple[str, Any]] = []

    def read_secret(arn: str) -> dict[str, Any]:
        steps.append(("secret", arn))
        return SECRET

    monkeypatch.setattr(migrate, "read_secret", read_secret)
    monkeypatch.setattr(migrate, "upgrade", lambda url: steps.append(("upgrade", url)))
    monkeypatch.setattr(
        migrate, "grant_app_user", lambda url, user, db: steps.append(("grant", (user, db)))
    )
    # When the custom resource is created or updated
    result = migrate.lambda_handler({"RequestType": request_type}, FakeContext())
    # Then the secret is read, Alembic upgrades, and the IAM user is granted, in that order
    assert [name for name, _ in steps] == ["secret", "upgrade", "grant"]
    assert steps[1][1] == migrate.database_url(SECRET, "warroom")
    assert steps[2][1] == ("warroom_app", "warroom")
    assert result["PhysicalResourceId"] == "warroom-schema"


def test_a_password_rotated_meanwhile_is_read_again(
    migrate: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a secret rotated between the first read and the login
    passwords = iter(["old", "new"])
    monkeypatch.setattr(migrate, "read_secret", lambda _: {**SECRET, "password": next(passwords)})
    logins: list[str] = []

    def work(url: str, db_name: str) -> None:
        password = str(conninfo.conninfo_to_dict(url)["password"])
        logins.append(password)
        if password == "old":
            raise psycopg.OperationalError('password authentication failed for user "x"')

    settings = migrate.MigrateSettings(secret_arn="arn", db_name="warroom", app_user="app")
    # When migrating
    migrate.with_fresh_secret(settings, work, sleep=lambda _: None)
    # Then the second attempt logs in with the new password
    assert logins == ["old", "new"]


def test_other_database_errors_fail_at_once(
    migrate: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a migration that fails for a reason other than the password
    monkeypatch.setattr(migrate, "read_secret", lambda _: SECRET)
    calls: list[str] = []

    def work(url: str, db_name: str) -> None:
        calls.append(url)
        raise psycopg.errors.SyntaxError("syntax error at or near")

    settings = migrate.MigrateSettings(secret_arn="arn", db_name="warroom", app_user="app")
    # When migrating
    # Then the error surfaces after one attempt (CloudFormation rolls the deploy back)
    with pytest.raises(psycopg.errors.SyntaxError):
        migrate.with_fresh_secret(settings, work, sleep=lambda _: None)
    assert len(calls) == 1


def test_missing_settings_fail_the_deploy_with_their_names(
    migrate: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a function without its settings
    monkeypatch.delenv("DB_SECRET_ARN", raising=False)
    monkeypatch.delenv("DB_APP_USER", raising=False)
    # When it runs a Create
    # Then it fails, naming what is missing (CloudFormation shows the message)
    from warroom.errors import ConfigurationError

    with pytest.raises(ConfigurationError, match="DB_SECRET_ARN, DB_APP_USER"):
        migrate.lambda_handler({"RequestType": "Create"}, FakeContext())


def test_grants_give_the_iam_user_the_tables_and_are_idempotent(
    migrate: ModuleType, database_url: str
) -> None:
    # Given a migrated database and, as on RDS, an `rds_iam` role
    role = f"warroom_app_{uuid.uuid4().hex[:8]}"
    dbname = conninfo.conninfo_to_dict(database_url)["dbname"]
    with psycopg.connect(database_url, autocommit=True) as admin:
        created_rds_iam = not admin.execute(
            "SELECT 1 FROM pg_roles WHERE rolname = 'rds_iam'"
        ).fetchone()
        if created_rds_iam:
            admin.execute("CREATE ROLE rds_iam NOLOGIN")
    try:
        # When granting twice (every deploy runs it)
        migrate.grant_app_user(database_url, role, dbname)
        migrate.grant_app_user(database_url, role, dbname)
        # Then the user exists, logs in only through rds_iam, and can use the tables
        with psycopg.connect(database_url, autocommit=True) as admin:
            row = admin.execute(
                "SELECT r.rolcanlogin, pg_has_role(%(role)s, 'rds_iam', 'member'),"
                " has_table_privilege(%(role)s, 'tr_users', 'SELECT,INSERT,UPDATE,DELETE'),"
                " has_database_privilege(%(role)s, current_database(), 'CONNECT')"
                " FROM pg_roles r WHERE r.rolname = %(role)s",
                {"role": role},
            ).fetchone()
        assert row == (True, True, True, True)
    finally:
        with psycopg.connect(database_url, autocommit=True) as admin:
            admin.execute(f'DROP OWNED BY "{role}"')
            admin.execute(f'DROP ROLE IF EXISTS "{role}"')
            if created_rds_iam:
                try:  # another session may be using it at the same moment: then keep it
                    admin.execute("DROP ROLE IF EXISTS rds_iam")
                except psycopg.errors.DependentObjectsStillExist:
                    pass


# --- user_sync ------------------------------------------------------------------------


def _cognito_event(trigger: str, **attributes: str) -> dict[str, Any]:
    return {
        "version": "1",
        "triggerSource": trigger,
        "region": "eu-west-1",
        "userPoolId": "eu-west-1_abc",
        "userName": "9f0c-uuid",
        "callerContext": {"awsSdkVersion": "x", "clientId": "client"},
        "request": {"userAttributes": {"sub": "9f0c-uuid", **attributes}},
        "response": {},
    }


@pytest.fixture
def synced(user_sync: ModuleType, monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    calls: list[tuple[str, str]] = []
    monkeypatch.setattr(
        user_sync,
        "sync_user",
        lambda *, user_id, display_name: calls.append((user_id, display_name)),
    )
    return calls


def test_confirmed_user_is_synced_by_lower_case_email(
    user_sync: ModuleType, synced: list[tuple[str, str]]
) -> None:
    # Given a post-confirmation event of a user with a name
    event = _cognito_event(
        "PostConfirmation_ConfirmSignUp", email="Alice.Doe@Example.com", name="Alice Doe"
    )
    # When the trigger runs
    result = user_sync.lambda_handler(event, FakeContext())
    # Then tr_users gets the lower-case e-mail as id and the name, and Cognito its event back
    assert synced == [("alice.doe@example.com", "Alice Doe")]
    assert result is event


def test_user_without_a_name_is_shown_by_email(
    user_sync: ModuleType, synced: list[tuple[str, str]]
) -> None:
    # Given a sign-in of a user whose pool entry has no name
    event = _cognito_event("TokenGeneration_Authentication", email="bob@example.com")
    # When the pre-token-generation trigger runs
    user_sync.lambda_handler(event, FakeContext())
    # Then the e-mail stands in for the display name
    assert synced == [("bob@example.com", "bob@example.com")]


def test_a_failed_sync_never_blocks_the_sign_in(
    user_sync: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a database that is down
    def down(**_: str) -> None:
        raise psycopg.OperationalError("connection refused")

    monkeypatch.setattr(user_sync, "sync_user", down)
    event = _cognito_event("TokenGeneration_RefreshTokens", email="carol@example.com")
    # When the trigger runs
    result = user_sync.lambda_handler(event, FakeContext())
    # Then Cognito still gets its event back (the sign-in goes on; the next one retries)
    assert result is event


def test_too_little_time_left_skips_the_sync_and_answers(
    user_sync: ModuleType, synced: list[tuple[str, str]]
) -> None:
    # Given an invocation with almost nothing left of Cognito's 5 s (a slow cold start)
    event = _cognito_event("TokenGeneration_Authentication", email="dan@example.com")
    context = FakeContext(remaining_ms=600)
    # When the trigger runs
    result = user_sync.lambda_handler(event, context)
    # Then it does not even try to reach the database, and Cognito gets its event back
    assert synced == []
    assert result is event


@pytest.mark.parametrize(
    "remaining_ms",
    [1000, 60_000],  # little left; and more than Cognito allows (a cold start is not shown)
    ids=["short", "capped"],
)
def test_a_database_that_hangs_never_holds_the_sign_in(
    user_sync: ModuleType, monkeypatch: pytest.MonkeyPatch, remaining_ms: int
) -> None:
    # Given a database call that does not come back by itself
    started, release = threading.Event(), threading.Event()
    finished: list[str] = []

    def hangs(*, user_id: str, display_name: str) -> None:
        started.set()
        release.wait(timeout=30)
        finished.append(user_id)

    monkeypatch.setattr(user_sync, "sync_user", hangs)
    event = _cognito_event("TokenGeneration_Authentication", email="erin@example.com")
    # When the trigger runs
    result = user_sync.lambda_handler(event, FakeContext(remaining_ms=remaining_ms))
    # Then it answers while the sync is still running (and counts the failure)
    assert result is event
    assert started.is_set()
    assert finished == []
    # And the stuck sync finishes on its own later without harm
    release.set()
    user_sync._worker().submit(lambda: None).result(timeout=30)
    assert finished == ["erin@example.com"]
