"""moto's server mode as the local DynamoDB and S3, with the same table and bucket
shapes as the CDK app creates."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from typing import Any

import boto3

CONNECTIONS_TABLE = "warroom-connections"
ATTACHMENTS_BUCKET = "warroom-attachments"


class MotoProcess:
    """moto's server in its own process: DynamoDB and S3 work then runs beside the
    gateway instead of competing with it for one interpreter lock."""

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


def create_connection_table(client: Any, name: str = CONNECTIONS_TABLE) -> None:
    def index(index_name: str, key: str) -> dict[str, Any]:  # sorted by connection_id
        return {
            "IndexName": index_name,
            "KeySchema": [
                {"AttributeName": key, "KeyType": "HASH"},
                {"AttributeName": "connection_id", "KeyType": "RANGE"},
            ],
            "Projection": {"ProjectionType": "ALL"},
        }

    existing = client.list_tables()["TableNames"]
    if name in existing:
        return
    client.create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[
            {"AttributeName": "connection_id", "AttributeType": "S"},
            {"AttributeName": "room_id", "AttributeType": "S"},
            {"AttributeName": "user_id", "AttributeType": "S"},
            {"AttributeName": "audience", "AttributeType": "S"},
        ],
        KeySchema=[{"AttributeName": "connection_id", "KeyType": "HASH"}],
        GlobalSecondaryIndexes=[
            index("by_room", "room_id"),
            index("by_user", "user_id"),
            index("user_connections", "audience"),
        ],
    )
    client.update_time_to_live(
        TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires_at"}
    )


def create_bucket(client: Any, name: str = ATTACHMENTS_BUCKET) -> None:
    buckets = {b["Name"] for b in client.list_buckets().get("Buckets", [])}
    if name not in buckets:
        client.create_bucket(Bucket=name)


def provision(endpoint: str, region: str) -> None:
    create_connection_table(boto3.client("dynamodb", endpoint_url=endpoint, region_name=region))
    create_bucket(boto3.client("s3", endpoint_url=endpoint, region_name=region))
