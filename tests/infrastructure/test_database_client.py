"""How the functions reach the database in the cloud: verified TLS with the CA bundle
shipped in the layer, and a connect timeout that is honoured. Plus the metric that makes
INTERNAL/UNAVAILABLE answers visible to the alarms. No AWS is called."""

from __future__ import annotations

import datetime
import socket
import ssl
import threading
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from cryptography import x509
from cryptography.x509.oid import NameOID

from warroom.db import connections
from warroom.errors import ServiceUnavailable
from warroom.settings import DatabaseSettings

pytestmark = [
    pytest.mark.infrastructure,
    pytest.mark.filterwarnings("ignore:No application metrics:UserWarning"),
    # One of AWS's published roots has a serial number RFC 5280 disallows; OpenSSL and
    # libpq accept it, cryptography only warns.
    pytest.mark.filterwarnings("ignore:Parsed a serial number:UserWarning"),
]


def _cloud_settings(**overrides: Any) -> DatabaseSettings:
    values: dict[str, Any] = {
        "mode": "single",
        "iam_auth": True,
        "host": "warroom-prod.proxy-abc.eu-west-1.rds.amazonaws.com",
        "user": "warroom_app",
        "region": "eu-west-1",
        "connect_timeout": 2,
    }
    values.update(overrides)
    return DatabaseSettings.model_validate(values)


def test_cloud_connections_verify_the_server_certificate_and_host_name(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given the settings of a function in the cloud (IAM tokens to RDS Proxy or Aurora)
    monkeypatch.setattr(connections, "_iam_token", lambda settings: "token")
    settings = _cloud_settings()
    # When building the connection parameters
    kwargs = connections._connection_kwargs(settings)
    # Then libpq checks the chain and the host name against the bundle in the package
    assert kwargs["sslmode"] == "verify-full"
    bundle = kwargs["sslrootcert"]
    assert bundle == str(connections.AWS_CA_BUNDLE)
    assert connections.AWS_CA_BUNDLE.is_file()
    # And the connect attempt gives up after the configured seconds
    assert kwargs["connect_timeout"] == 2


def test_local_connections_keep_their_own_tls_settings() -> None:
    # Given the local stack's settings (no IAM: the embedded server over a Unix socket)
    settings = DatabaseSettings.model_validate({"mode": "pool"})
    # When building the connection parameters
    kwargs = connections._connection_kwargs(settings)
    # Then nothing forces TLS on a socket that cannot speak it
    assert "sslmode" not in kwargs
    assert "sslrootcert" not in kwargs


def _common_name(cert: x509.Certificate) -> str:
    names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(names[0].value) if names else ""


def test_the_shipped_bundle_holds_the_cas_of_rds_proxy_and_of_aurora() -> None:
    # Given the bundle shipped in the layer
    pem = connections.AWS_CA_BUNDLE.read_bytes()
    certs = x509.load_pem_x509_certificates(pem)
    names = {_common_name(cert) for cert in certs}
    # Then RDS Proxy's ACM certificates can chain to the Amazon roots
    assert {f"Amazon Root CA {n}" for n in range(1, 5)} <= names
    # And Aurora's own certificates (a direct connection, the dev stage) to the RDS roots
    for region in ("us-east-1", "eu-west-1", "eu-central-1", "ap-southeast-2"):
        assert f"Amazon RDS {region} Root CA RSA2048 G1" in names
        assert f"Amazon RDS {region} Root CA ECC384 G1" in names
    # And none of them has expired
    now = datetime.datetime.now(datetime.UTC)
    assert all(cert.not_valid_after_utc > now for cert in certs)
    # And OpenSSL (what libpq uses) loads every one of them, comments notwithstanding
    context = ssl.create_default_context(cafile=str(connections.AWS_CA_BUNDLE))
    assert len(context.get_ca_certs()) == len(certs)


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A TCP port on loopback that accepts connections and never says a word."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    stop.set()
    thread.join()
    for conn in accepted:
        conn.close()
    listener.close()


@pytest.mark.timeout(30)
def test_a_database_that_does_not_answer_is_given_up_on(silent_server: int) -> None:
    # Given a database endpoint that accepts the connection and then says nothing
    settings = DatabaseSettings.model_validate(
        {"mode": "single", "host": "127.0.0.1", "port": silent_server, "connect_timeout": 2}
    )
    database = connections.SingleConnectionDatabase(settings)
    # When an operation needs a connection
    # Then the attempt ends with the service's typed error instead of waiting on
    with pytest.raises(ServiceUnavailable) as caught:
        database.run(lambda conn: conn.execute("SELECT 1"))
    assert isinstance(caught.value.__cause__, psycopg.OperationalError)


# --- the outage metric -------------------------------------------------------------------


@pytest.fixture
def metric_set(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "warroom-test")
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "WarRoom")
    from aws_lambda_powertools import Metrics

    metrics = Metrics()  # what a handler's @metrics.log_metrics flushes
    metrics.clear_metrics()
    yield metrics
    metrics.clear_metrics()


def _counted(metrics: Any) -> float:
    values = metrics.metric_set.get("ServerErrorAnswers", {}).get("Value", [])
    return float(sum(values))


@pytest.mark.parametrize("code", ["INTERNAL", "UNAVAILABLE"])
def test_server_error_answers_are_counted_for_the_alarm(metric_set: Any, code: str) -> None:
    from warroom.frames import error_frame
    from warroom.httpapi import _json_error

    # Given a handler's metrics, empty
    # When a WebSocket error frame and an HTTP error answer say the fault is ours
    error_frame(code, "something went wrong on our side")
    _json_error(500 if code == "INTERNAL" else 503, code, "something went wrong")
    # Then both are counted in the metric the outage alarm watches
    assert _counted(metric_set) == 2


@pytest.mark.parametrize("code", ["FORBIDDEN", "VALIDATION", "NOT_FOUND", "RATE_LIMITED"])
def test_client_errors_are_not_counted(metric_set: Any, code: str) -> None:
    from warroom.frames import error_frame
    from warroom.httpapi import _json_error

    # Given a handler's metrics, empty
    # When the client is told its request was wrong
    error_frame(code, "no")
    _json_error(400, code, "no")
    # Then nothing is counted: a client's mistake is not an outage
    assert _counted(metric_set) == 0
