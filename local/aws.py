"""moto's server mode as the local S3, with the bucket the CDK app creates. (The
connection table lives in PostgreSQL, beside the messages.)"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from typing import Any

import boto3

ATTACHMENTS_BUCKET = "warroom-attachments"


class MotoProcess:
    """moto's server in its own process: S3 work then runs beside the gateway instead of
    competing with it for one interpreter lock."""

    def __init__(self) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                if self.process.poll() is not None:
                    break
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("moto's server did not start")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()


def start_moto() -> tuple[MotoProcess, str]:
    server = MotoProcess()
    return server, server.url


def create_bucket(client: Any, name: str = ATTACHMENTS_BUCKET) -> None:
    buckets = {b["Name"] for b in client.list_buckets().get("Buckets", [])}
    if name not in buckets:
        client.create_bucket(Bucket=name)


def provision(endpoint: str, region: str) -> None:
    create_bucket(boto3.client("s3", endpoint_url=endpoint, region_name=region))
