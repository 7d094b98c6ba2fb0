"""Database access fit for Lambda behind RDS Proxy and for long-running local processes.

Rules that keep RDS Proxy from pinning a client connection: no server-side prepared
statements (`prepare_threshold=None`), no session `SET`, no advisory locks, no
sequences. Connections are autocommit; a multi-statement operation opens an explicit
transaction with `conn.transaction()`.
"""

from warroom.db.connections import (
    Database,
    PooledDatabase,
    SingleConnectionDatabase,
    get_database,
    reset_database,
    set_database,
)

__all__ = [
    "Database",
    "PooledDatabase",
    "SingleConnectionDatabase",
    "get_database",
    "reset_database",
    "set_database",
]
