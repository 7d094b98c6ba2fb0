"""One settings module (issue 14): the environment is read once, in `warroom.settings`,
and what a handler validates at its first invocation is what the process-wide objects
are built from."""

from __future__ import annotations

import pytest

from warroom import auth, storage
from warroom.errors import ConfigurationError
from warroom.settings import (
    auth_settings,
    clear_settings_cache,
    migrate_settings,
    runtime_settings,
)

pytestmark = pytest.mark.unit

ENV = {
    "WS_MANAGEMENT_ENDPOINT": "https://abc.execute-api.eu-west-1.amazonaws.com/prod",
    "JWT_ISSUER": "https://issuer.test/pool",
    "JWT_AUDIENCE": "client-1",
    "ATTACHMENTS_BUCKET": "attachments-1",
    "S3_ADDRESSING_STYLE": "path",
}


@pytest.fixture
def fresh(monkeypatch):
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    clear_settings_cache()
    auth.reset_token_verifier()
    storage.set_attachment_store(None)
    yield monkeypatch
    monkeypatch.undo()
    clear_settings_cache()
    auth.reset_token_verifier()
    storage.set_attachment_store(None)


def test_what_a_handler_validates_is_what_the_verifier_and_the_store_use(fresh):
    # Given a function's environment
    # When a handler validates its settings at its first invocation
    settings = runtime_settings()
    # Then the token verifier and the S3 adapter are built from those very settings
    assert settings.auth is auth_settings()
    assert auth.token_verifier()._settings is settings.auth
    assert storage.attachment_store().bucket == settings.attachments_bucket == "attachments-1"
    assert settings.storage.addressing_style == "path"
    assert settings.jwt_issuer == "https://issuer.test/pool"


def test_the_environment_is_read_once(fresh):
    # Given settings already read
    first = runtime_settings()
    # When the environment changes afterwards (nothing in a container does this)
    fresh.setenv("JWT_AUDIENCE", "someone-else")
    # Then the process keeps what it validated, until told to read again
    assert runtime_settings() is first and auth_settings().audience == "client-1"
    clear_settings_cache()
    assert auth_settings().audience == "someone-else"


@pytest.mark.parametrize("missing", ["WS_MANAGEMENT_ENDPOINT", "JWT_ISSUER", "JWT_AUDIENCE"])
def test_a_missing_setting_is_named(fresh, missing):
    # Given a function deployed without one of its settings
    fresh.delenv(missing)
    clear_settings_cache()
    # When a handler validates its settings
    # Then the error names the missing variable
    with pytest.raises(ConfigurationError, match=missing):
        runtime_settings()


def test_the_schema_resource_needs_its_secret_and_user(fresh):
    # Given the migrate function without DB_APP_USER
    fresh.setenv("DB_SECRET_ARN", "arn:aws:secretsmanager:eu-west-1:1:secret:db")
    fresh.delenv("DB_APP_USER", raising=False)
    # Then reading its settings names what is missing
    with pytest.raises(ConfigurationError, match="DB_APP_USER"):
        migrate_settings()
    # and with it set, the database name defaults to warroom
    fresh.setenv("DB_APP_USER", "warroom_app")
    fresh.delenv("DB_NAME", raising=False)
    assert migrate_settings().db_name == "warroom"
