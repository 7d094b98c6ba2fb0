"""Two ways to hand out a connection for one short operation.

- `SingleConnectionDatabase`: one connection per warm Lambda container, opened on first
  use, reused across invocations and re-opened after a failure.
- `PooledDatabase`: a psycopg pool for long-running processes (the local stack, the
  benchmark), sized by DB_POOL_SIZE + DB_MAX_OVERFLOW, waiting at most DB_POOL_TIMEOUT
  seconds for a free connection and recycling connections after DB_POOL_RECYCLE seconds.

Both retry an operation once when the connection itself failed (a dropped connection, a
proxy that restarted): every operation of the message service is idempotent, sends
included, thanks to `client_msg_id`.

In the cloud (IAM authentication) the server's certificate is verified, host name
included (`sslmode=verify-full`), against `aws-ca-bundle.pem` beside this module: the
Amazon root CAs that RDS Proxy's certificate chains to, and the RDS regional root CAs that
Aurora presents when a function connects to it directly (infra/ca_bundle.py writes it).
A connection attempt gives up after DB_CONNECT_TIMEOUT seconds.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import psycopg
from psycopg.conninfo import conninfo_to_dict
from psycopg.rows import dict_row

if TYPE_CHECKING:
    # Imported where a pool is built: Lambda runs a single connection and never pays
    # for psycopg_pool's import at a cold start.
    from psycopg_pool import ConnectionPool

from warroom.errors import ServiceUnavailable
from warroom.settings import DatabaseSettings, database_settings

logger = logging.getLogger(__name__)

T = TypeVar("T")
Conn = psycopg.Connection[dict[str, Any]]

# Shipped in the layer with the package (build_layer copies layers/warroom whole).
AWS_CA_BUNDLE = Path(__file__).with_name("aws-ca-bundle.pem")


def tls_parameters() -> dict[str, str]:
    """libpq's TLS settings for RDS Proxy and Aurora: verified chain and host name."""
    return {"sslmode": "verify-full", "sslrootcert": str(AWS_CA_BUNDLE)}


class Database(Protocol):
    def run(self, operation: Callable[[Conn], T]) -> T:
        """Run `operation` with a connection taken for it and given back after."""

    def close(self) -> None: ...


def _connection_kwargs(settings: DatabaseSettings) -> dict[str, Any]:
    kwargs: dict[str, Any] = {
        "autocommit": True,
        "prepare_threshold": None,
        "row_factory": dict_row,
        "connect_timeout": settings.connect_timeout,
        "application_name": "warroom",
    }
    if settings.iam_auth:
        kwargs["password"] = _iam_token(settings)
        kwargs.update(tls_parameters())
    return kwargs


def _iam_token(settings: DatabaseSettings) -> str:
    """A 15-minute RDS IAM auth token: no database password anywhere in the config."""
    import boto3  # only on the IAM path

    if not settings.host:
        raise ServiceUnavailable("DB_IAM_AUTH needs DB_HOST (the RDS Proxy or cluster endpoint)")
    client = boto3.client("rds", region_name=settings.region)
    return client.generate_db_auth_token(
        DBHostname=settings.host, Port=settings.port, DBUsername=settings.user
    )


def _conninfo(settings: DatabaseSettings) -> str:
    if settings.url:
        return settings.url
    if settings.host:
        return psycopg.conninfo.make_conninfo(
            host=settings.host, port=settings.port, dbname=settings.name, user=settings.user
        )
    from warroom.db.embedded import embedded_database_url

    return embedded_database_url(settings.embedded_dir)


def _is_connection_failure(exc: BaseException) -> bool:
    return isinstance(exc, psycopg.OperationalError) and not isinstance(
        exc, psycopg.errors.QueryCanceled
    )


class SingleConnectionDatabase:
    """One lazily opened connection, for a Lambda container that runs one request at a time."""

    def __init__(self, settings: DatabaseSettings, conninfo: str | None = None) -> None:
        self._settings = settings
        self._conninfo = conninfo
        self._conn: Conn | None = None
        self._lock = threading.Lock()

    def _connect(self) -> Conn:
        if self._conninfo is None:
            self._conninfo = _conninfo(self._settings)
        try:
            return psycopg.connect(self._conninfo, **_connection_kwargs(self._settings))
        except psycopg.OperationalError as exc:
            raise ServiceUnavailable("the database cannot be reached right now") from exc

    def _connection(self) -> Conn:
        if self._conn is None or self._conn.closed or self._conn.broken:
            self._conn = self._connect()
        return self._conn

    def run(self, operation: Callable[[Conn], T]) -> T:
        with self._lock:
            for attempt in (1, 2):
                conn = self._connection()
                try:
                    return operation(conn)
                except psycopg.Error as exc:
                    if not _is_connection_failure(exc):
                        raise
                    self.close()
                    if attempt == 2:
                        raise ServiceUnavailable("the database connection failed") from exc
                    logger.warning("database connection failed; reconnecting once")
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            finally:
                self._conn = None


class PooledDatabase:
    def __init__(self, settings: DatabaseSettings, conninfo: str | None = None) -> None:
        self._settings = settings
        self._conninfo = conninfo
        self._pool: ConnectionPool[Conn] | None = None
        self._lock = threading.Lock()

    def _get_pool(self) -> ConnectionPool[Conn]:
        if self._pool is None:
            with self._lock:
                if self._pool is None:
                    from psycopg_pool import ConnectionPool

                    s = self._settings
                    conninfo = self._conninfo or _conninfo(s)
                    pool: ConnectionPool[Conn] = ConnectionPool(
                        conninfo,
                        kwargs=lambda: _connection_kwargs(s),
                        min_size=min(s.pool_size, 4),
                        max_size=s.pool_size + s.max_overflow,
                        timeout=s.pool_timeout,
                        max_lifetime=s.pool_recycle,
                        max_idle=60.0,
                        open=False,
                        name="warroom",
                    )
                    pool.open(wait=False)
                    self._pool = pool
        return self._pool

    @contextmanager
    def _borrow(self) -> Iterator[Conn]:
        from psycopg_pool import PoolTimeout

        try:
            with self._get_pool().connection() as conn:
                yield conn
        except PoolTimeout as exc:
            raise ServiceUnavailable(
                f"no database connection was free within {self._settings.pool_timeout:g} s; "
                "the service is overloaded, try again"
            ) from exc

    def run(self, operation: Callable[[Conn], T]) -> T:
        for attempt in (1, 2):
            try:
                with self._borrow() as conn:
                    return operation(conn)
            except psycopg.Error as exc:
                if not _is_connection_failure(exc):
                    raise
                if attempt == 2:
                    raise ServiceUnavailable("the database connection failed") from exc
                # After a failover every pooled connection is dead, not just this one:
                # test the idle ones (dropping the broken) before the retry takes one.
                logger.warning("database connection failed; checking the pool and retrying once")
                self._get_pool().check()
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()
            self._pool = None


_database: Database | None = None
_database_lock = threading.Lock()


def get_database() -> Database:
    """The process-wide database, built on first use from the validated settings."""
    global _database
    if _database is None:
        with _database_lock:
            if _database is None:
                settings = database_settings()
                if settings.mode == "single":
                    _database = SingleConnectionDatabase(settings)
                else:
                    _database = PooledDatabase(settings)
    return _database


def set_database(database: Database | None) -> None:
    """Swap the process-wide database (tests, the local stack)."""
    global _database
    with _database_lock:
        _database = database


def reset_database() -> None:
    global _database
    with _database_lock:
        if _database is not None:
            _database.close()
        _database = None


def migration_connect(url: str | None = None) -> psycopg.Connection[Any]:
    """A plain (non-autocommit) connection for Alembic, honouring the same settings.

    What `url` itself says wins over the settings: libpq takes keyword arguments over the
    URL, so the migration function's `connect_timeout` (long enough for a paused Aurora
    to resume) would otherwise be cut back to DB_CONNECT_TIMEOUT."""
    settings = database_settings()
    kwargs = _connection_kwargs(settings)
    kwargs.pop("row_factory")
    kwargs["autocommit"] = False
    if url:
        for key in conninfo_to_dict(url):
            kwargs.pop(key, None)
    return psycopg.connect(url or _conninfo(settings), **kwargs)
