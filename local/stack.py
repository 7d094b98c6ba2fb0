"""`make dev`: the whole system on one machine, through exactly the Lambda handlers.

    python -m local.stack [--port 8000] [--data-dir .local]

Starts the embedded PostgreSQL (or uses DATABASE_URL), applies the migrations, starts
moto's server for S3, loads demo data on first start, serves the gateway, and sweeps
expired connection rows on a timer (the cloud's scheduled `functions/sweep`); joins left pending
in a quiet room are flushed by in-process timers (the cloud's SQS delay queue, see
`warroom/flush_scheduler.py`). Prints `WARROOM_READY <url>` once it accepts connections.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import socket
import sys
import threading
import warnings
from pathlib import Path

from aiohttp import web

from local import aws
from local.containers import WarmContainers
from local.demo import DEMO_USERS, load_demo
from local.events import REGION
from local.gateway import Gateway, GatewayConfig, Handlers
from local.issuer import LocalIssuer
from local.sigv4 import SigningKeys
from warroom.fanout import register_transport

AUDIENCE = "warroom-local"


def _bind(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(512)
    sock.setblocking(False)
    return sock


def _database_url(data_dir: Path) -> str:
    url = os.environ.get("DATABASE_URL")
    if url:
        return url
    from warroom.db.embedded import embedded_database_url

    return embedded_database_url(data_dir / "pgdata")


def configure_environment(
    public_url: str, moto_url: str, database_url: str, transport: str = "inprocess"
) -> None:
    """The same settings the CDK app gives the functions, pointed at local stand-ins."""
    os.environ.update(
        {
            "DATABASE_URL": database_url,
            "DB_CONNECTION_MODE": "pool",
            "AWS_REGION": REGION,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_ENDPOINT_URL_S3": public_url + "/s3",
            "S3_ADDRESSING_STYLE": "path",
            "ATTACHMENTS_BUCKET": aws.ATTACHMENTS_BUCKET,
            "WS_MANAGEMENT_ENDPOINT": public_url,
            "WS_TRANSPORT": transport,
            "JWT_ISSUER": public_url + "/local-issuer",
            "JWT_AUDIENCE": AUDIENCE,
            "JWT_TOKEN_USE": "id",
        }
    )
    for name, value in {
        "POWERTOOLS_SERVICE_NAME": "warroom",
        "POWERTOOLS_METRICS_NAMESPACE": "WarRoom",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_DISABLED": "true",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
    }.items():
        os.environ.setdefault(name, value)


def _configure_push(data_dir: Path) -> None:
    """Web Push locally (issue 19): a VAPID key generated once into the data folder (the
    cloud keeps it in Secrets Manager), a background push worker and in-process
    escalation timers, and loopback push services allowed so tests can run their own."""
    key_file = data_dir / "vapid-private.pem"
    if not key_file.exists():
        from py_vapid import Vapid

        key = Vapid()
        key.generate_keys()
        key_file.write_bytes(key.private_pem())
        key_file.chmod(0o600)
    os.environ.update(
        {
            "VAPID_PRIVATE_KEY_FILE": str(key_file),
            "PUSH_ALLOW_LOOPBACK": "true",
            "PUSH_TRANSPORT": "inprocess",
        }
    )
    from warroom.push_queue import InProcessPushWorker, set_push_queue
    from warroom.settings import clear_settings_cache
    from warroom.webpush import send_notice

    clear_settings_cache()
    set_push_queue(InProcessPushWorker(send_notice))


def _handlers(containers: int) -> Handlers:
    # Loaded after the environment is set, as Lambda loads them in a fresh container.
    return Handlers(
        authorizer=WarmContainers("functions/connect/authorizer.py", containers),
        connect=WarmContainers("functions/connect/handler.py", containers),
        message=WarmContainers("functions/message/handler.py", containers),
        http=WarmContainers("functions/history/handler.py", containers),
    )


def _dev_login(user_id: str, display_name: str) -> dict[str, str]:
    from warroom.errors import ValidationFailed
    from warroom.logic import users

    try:
        user = users.sync_user(user_id, display_name)
    except ValidationFailed as exc:
        raise ValueError(exc.message) from exc
    return {"user_id": user.user_id, "display_name": user.display_name}


async def serve(args: argparse.Namespace) -> None:
    data_dir = Path(args.data_dir).resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    sock = _bind(args.host, args.port)
    port = sock.getsockname()[1]
    public_url = f"http://{args.host}:{port}"

    from warroom.db import get_database
    from warroom.db.migrate import upgrade
    from warroom.settings import clear_settings_cache

    database_url = _database_url(data_dir)
    moto, moto_url = aws.start_moto()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    configure_environment(public_url, moto_url, database_url, args.transport)
    # Ingest sources' secrets are sealed under a key file here (a KMS key in the cloud).
    os.environ.setdefault("INGEST_KEY_FILE", str(data_dir / "ingest-secrets.key"))
    clear_settings_cache()  # read again, now that DATABASE_URL (and the rest) are set
    upgrade(database_url)
    aws.provision(moto_url, REGION)
    if not args.no_demo:
        load_demo(get_database())

    _configure_push(data_dir)
    from warroom.paging import rearm_pending

    rearm_pending()  # escalation timers of pages left untaken when the stack last stopped
    issuer = LocalIssuer(public_url + "/local-issuer", AUDIENCE, data_dir / "issuer-key.pem")
    web_dir = Path(args.web_dir) if args.web_dir else None
    gateway = Gateway(
        GatewayConfig(
            public_url=public_url,
            web_dir=web_dir,
            s3_upstream=moto_url,
            signing=SigningKeys(
                os.environ["AWS_ACCESS_KEY_ID"], os.environ["AWS_SECRET_ACCESS_KEY"], REGION
            ),
            idle_timeout=args.idle_timeout,
            max_connection_seconds=args.max_connection_seconds,
            ping_interval=args.ping_interval,
            pong_timeout=args.pong_timeout,
            dev_users=[{"user_id": u, "display_name": n} for u, n, _, _ in DEMO_USERS],
        ),
        _handlers(args.containers),
        issuer,
        _dev_login,
    )
    # `WS_TRANSPORT=inprocess`: the handlers post straight to the gateway's sockets.
    in_process = gateway.transport()
    register_transport("inprocess", lambda endpoint: in_process)
    runner = web.AppRunner(gateway.app(), access_log=None, handle_signals=False)
    await runner.setup()
    await web.SockSite(runner, sock).start()
    simulator = _start_simulator(args, public_url)
    print(f"WARROOM_MOTO {moto_url}", flush=True)
    print(f"WARROOM_READY {public_url}", flush=True)
    print(f"War room is running on {public_url}  (Ctrl+C stops it)", flush=True)

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    sweeper = asyncio.create_task(_sweep_every(args.sweep_interval, stop))
    await stop.wait()
    if simulator is not None:
        simulator.set()
    sweeper.cancel()
    await runner.cleanup()
    await gateway.close()
    moto.stop()
    get_database().close()


def _start_simulator(args: argparse.Namespace, public_url: str) -> threading.Event | None:
    """`--simulate-line`: the demo line's gateway posting signed readings (issue 18)."""
    if not args.simulate_line:
        return None
    from local import simulate_line

    demo = simulate_line.prepare_demo_line()
    print(f"WARROOM_SIMULATOR line={demo.line_id} source={demo.source_id}", flush=True)
    stop = threading.Event()
    threading.Thread(
        target=simulate_line.run,
        args=(public_url, demo.source_id, demo.secret),
        kwargs={"cycle": args.simulate_cycle, "stop": stop},
        name="line-simulator",
        daemon=True,
    ).start()
    return stop


async def _sweep_every(interval: float, stop: asyncio.Event) -> None:
    """The cloud's EventBridge schedule of `functions/sweep`, as a timer."""
    from warroom.logic.maintenance import sweep

    loop = asyncio.get_running_loop()
    while not stop.is_set():
        try:
            await asyncio.wait_for(stop.wait(), timeout=interval)
        except TimeoutError:
            try:
                await loop.run_in_executor(None, sweep)
            except Exception:
                logging.getLogger("local.stack").exception("sweep failed")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    parser.add_argument("--data-dir", default=".local")
    parser.add_argument("--web-dir", default="web/dist")
    parser.add_argument("--idle-timeout", type=float, default=600.0, help="seconds, as API Gateway")
    parser.add_argument(
        "--max-connection-seconds", type=float, default=7200.0, help="2 hours, as API Gateway"
    )
    parser.add_argument(
        "--transport",
        choices=["inprocess", "http", "boto3"],
        default=os.environ.get("WS_TRANSPORT", "inprocess"),
        help="how handlers post to @connections: in process (fastest), or over HTTP as in the "
        "cloud (signed POST, or boto3); default $WS_TRANSPORT or inprocess",
    )
    parser.add_argument("--ping-interval", type=float, default=30.0)
    parser.add_argument("--pong-timeout", type=float, default=10.0)
    parser.add_argument("--no-demo", action="store_true", help="skip the demo room")
    parser.add_argument(
        "--sweep-interval", type=float, default=60.0, help="seconds between connection sweeps"
    )
    parser.add_argument(
        "--simulate-line",
        action="store_true",
        help="post signed readings for a demo line that sometimes crosses its alarm rule",
    )
    parser.add_argument(
        "--simulate-cycle", type=int, default=120, help="seconds between the simulator's crossings"
    )
    parser.add_argument(
        "--containers", type=int, default=8, help="warm containers per function (concurrency)"
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    # Metrics are off locally; Powertools would still warn on every invocation.
    warnings.filterwarnings("ignore", message="No application metrics to publish")
    try:
        asyncio.run(serve(args))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
