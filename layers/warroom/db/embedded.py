"""The embedded default: a real PostgreSQL 16 from the `pgserver` package.

With DATABASE_URL unset every command (tests, `make dev`, `make migrate`, `make bench`)
uses this server, kept in a git-ignored folder of the checkout and reached over a Unix
socket. The server stops when the last process that started it exits.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

from warroom.settings import use_runtime_dir

_servers: dict[Path, Any] = {}
_lock = threading.Lock()


def embedded_server(data_dir: str | os.PathLike[str] = ".local/pgdata") -> Any:
    path = Path(data_dir).resolve()
    with _lock:
        if path not in _servers:
            path.parent.mkdir(parents=True, exist_ok=True)
            # pgserver keeps its lock file in the runtime dir; it must exist and be ours.
            runtime = path.parent / "run"
            runtime.mkdir(parents=True, exist_ok=True)
            runtime.chmod(0o700)
            use_runtime_dir(str(runtime))
            import pgserver  # imported late: it reads XDG_RUNTIME_DIR at import

            _servers[path] = pgserver.get_server(path, cleanup_mode="stop")
        return _servers[path]


def embedded_database_url(
    data_dir: str | os.PathLike[str] = ".local/pgdata", database: str = "postgres"
) -> str:
    return str(embedded_server(data_dir).get_uri(database))
