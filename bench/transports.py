"""CPU per fan-out recipient: boto3's `post_to_connection` against the lean SigV4-signed
POST on a urllib3 keep-alive pool, posting to a local `@connections` endpoint.

The endpoint runs in a child process, so `time.process_time()` of this process counts
only the posting side: what a Lambda invocation pays (and is billed) per recipient.
Both transports go through the Broadcaster, as the handlers do: a fan-out of one frame
to `--recipients` connections, repeated `--rounds` times, after a warm-up.

Run: `make bench` (or `.venv/bin/python -m bench.transports`).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from warroom.fanout import Boto3Transport, Broadcaster, SigV4HttpTransport, Transport

STAGE = "bench"


def serve(port_file: str, latency: float) -> None:
    """The stand-in Management API: 200 for every post after `latency` seconds, as a
    post from Lambda to API Gateway in the same region takes a few milliseconds (so the
    fan-out threads wait on the network as they do there, instead of contending for the
    interpreter lock)."""
    import asyncio

    from aiohttp import web

    async def post(request: web.Request) -> web.Response:
        await request.read()
        if latency:
            await asyncio.sleep(latency)
        return web.Response(status=200)

    async def health(request: web.Request) -> web.Response:
        return web.Response(text="ok")

    async def main() -> None:
        app = web.Application()
        app.router.add_post(f"/{STAGE}/@connections/{{connection_id}}", post)
        app.router.add_get("/health", health)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0, backlog=512)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        Path(port_file).write_text(str(port))
        await asyncio.Event().wait()

    asyncio.run(main())


class NoStore:
    def forget_gone(self, connection_id: str) -> bool:
        raise AssertionError("the stand-in endpoint never answers 410")


@dataclass
class Figure:
    name: str
    cpu_us: float
    wall_us: float


def measure(name: str, transport: Transport, recipients: int, rounds: int) -> Figure:
    broadcaster = Broadcaster("unused", NoStore(), transport=transport)  # type: ignore[arg-type]
    ids = [f"conn{i:04d}=" for i in range(recipients)]
    frame = {"type": "message", "message": {"content": "reading 91 °C at press 4", "seq": 1}}
    for _ in range(max(2, rounds // 10)):  # warm-up: client, pool, signer, code paths
        broadcaster.to_connections(ids, frame)
    cpu, wall = time.process_time(), time.perf_counter()
    for _ in range(rounds):
        report = broadcaster.to_connections(ids, frame)
        assert report.delivered == recipients, report
    posts = recipients * rounds
    return Figure(
        name,
        (time.process_time() - cpu) / posts * 1e6,
        (time.perf_counter() - wall) / posts * 1e6,
    )


def run(recipients: int, rounds: int, latency_ms: float) -> dict[str, Figure]:
    port_file = f"/tmp/warroom-bench-endpoint-{os.getpid()}"
    child = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "bench.transports",
            "--serve",
            port_file,
            "--latency-ms",
            str(latency_ms),
        ]
    )
    try:
        deadline = time.monotonic() + 20
        port_path = Path(port_file)
        while not port_path.exists() or not port_path.read_text():
            if time.monotonic() > deadline or child.poll() is not None:
                raise RuntimeError("the stand-in endpoint did not start")
            time.sleep(0.05)
        port = int(port_path.read_text())
        urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=5).read()
        endpoint = f"http://127.0.0.1:{port}/{STAGE}"
        os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
        os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")
        os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
        figures = {
            "boto3": measure("boto3", Boto3Transport(endpoint), recipients, rounds),
            "http": measure("http", SigV4HttpTransport(endpoint), recipients, rounds),
        }
    finally:
        child.terminate()
        child.wait(timeout=10)
        if os.path.exists(port_file):
            os.unlink(port_file)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--recipients", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument(
        "--latency-ms", type=float, default=5.0, help="the endpoint's answer time per post"
    )
    parser.add_argument("--serve", metavar="PORT_FILE", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.latency_ms / 1000)
        return
    print(
        f"== CPU per fan-out recipient: {args.rounds} fan-outs to {args.recipients} "
        f"connections through the Broadcaster; endpoint in another process, answering "
        f"in {args.latency_ms:g} ms =="
    )
    figures = run(args.recipients, args.rounds, args.latency_ms)
    for figure in figures.values():
        print(
            f"  {figure.name:6s} {figure.cpu_us:7.0f} µs CPU per recipient"
            f"   {figure.wall_us:7.0f} µs wall per recipient"
        )
    saving = 1 - figures["http"].cpu_us / figures["boto3"].cpu_us
    verdict = "used in Lambda (WS_TRANSPORT=http, the default)" if saving >= 0.5 else "below 50 %"
    print(f"  lean SigV4 POST saves {saving:.0%} of boto3's CPU per recipient: {verdict}")


if __name__ == "__main__":
    main()
