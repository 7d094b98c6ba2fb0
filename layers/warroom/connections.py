"""The connection table (DynamoDB): who is connected, to which room, as whom.

Item: connection_id (key), user_id, display_name, room_id (absent on user connections,
so the room index stays sparse), audience ("user" on user connections only), connected_at,
expires_at (TTL). Indexes:
- `by_room` (room_id): fan-out and presence;
- `by_user` (user_id): one person's connections (removal from a room, notifications);
- `user_connections` (audience): every open user connection in one query, so a message
  notifies all members' room lists with one read instead of one read per member. These
  are the people looking at their room list right now: a few hundred at a plant, far
  below what one index partition serves.
DynamoDB removes expired items lazily, so reads also drop rows past their expiry.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from warroom.errors import ConfigurationError, ServiceUnavailable
from warroom.lazy import Lazy

# API Gateway closes a WebSocket after 2 hours; keep rows a little longer than that.
CONNECTION_TTL_SECONDS = 2 * 3600 + 600
ROOM_INDEX = "by_room"
USER_INDEX = "by_user"
USER_CONNECTIONS_INDEX = "user_connections"


@dataclass(frozen=True)
class ConnectionRecord:
    connection_id: str
    user_id: str
    display_name: str
    room_id: str | None
    connected_at: str
    expires_at: int

    @property
    def is_user_connection(self) -> bool:
        return self.room_id is None


def _item(record: ConnectionRecord) -> dict[str, Any]:
    item: dict[str, Any] = {
        "connection_id": {"S": record.connection_id},
        "user_id": {"S": record.user_id},
        "display_name": {"S": record.display_name},
        "connected_at": {"S": record.connected_at},
        "expires_at": {"N": str(record.expires_at)},
    }
    if record.room_id is not None:
        item["room_id"] = {"S": record.room_id}
    else:
        item["audience"] = {"S": "user"}
    return item


def _record(item: dict[str, Any]) -> ConnectionRecord:
    return ConnectionRecord(
        connection_id=item["connection_id"]["S"],
        user_id=item["user_id"]["S"],
        display_name=item.get("display_name", {}).get("S", item["user_id"]["S"]),
        room_id=item["room_id"]["S"] if "room_id" in item else None,
        connected_at=item.get("connected_at", {}).get("S", ""),
        expires_at=int(item.get("expires_at", {}).get("N", "0")),
    )


class ConnectionStore:
    def __init__(self, table_name: str, client: Any | None = None) -> None:
        self.table_name = table_name
        self._client = client

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = boto3.client(
                "dynamodb", config=Config(retries={"max_attempts": 3, "mode": "standard"})
            )
        return self._client

    def put(self, record: ConnectionRecord) -> None:
        self._call("put_item", TableName=self.table_name, Item=_item(record))

    def get(self, connection_id: str) -> ConnectionRecord | None:
        response = self._call(
            "get_item",
            TableName=self.table_name,
            Key={"connection_id": {"S": connection_id}},
            ConsistentRead=True,
        )
        item = response.get("Item")
        if item is None:
            return None
        record = _record(item)
        return record if record.expires_at > time.time() else None

    def delete(self, connection_id: str) -> ConnectionRecord | None:
        response = self._call(
            "delete_item",
            TableName=self.table_name,
            Key={"connection_id": {"S": connection_id}},
            ReturnValues="ALL_OLD",
        )
        item = response.get("Attributes")
        return _record(item) if item else None

    def in_room(self, room_id: str) -> list[ConnectionRecord]:
        return self._query(ROOM_INDEX, "room_id", room_id)

    def of_user(self, user_id: str) -> list[ConnectionRecord]:
        return self._query(USER_INDEX, "user_id", user_id)

    def user_connections(self) -> list[ConnectionRecord]:
        return self._query(USER_CONNECTIONS_INDEX, "audience", "user")

    def _query(self, index: str, key: str, value: str) -> list[ConnectionRecord]:
        records: list[ConnectionRecord] = []
        now = time.time()
        kwargs: dict[str, Any] = {
            "TableName": self.table_name,
            "IndexName": index,
            "KeyConditionExpression": "#k = :v",
            "ExpressionAttributeNames": {"#k": key},
            "ExpressionAttributeValues": {":v": {"S": value}},
        }
        while True:  # paginate: a busy room can exceed one 1 MB page
            response = self._call("query", **kwargs)
            records.extend(r for r in map(_record, response.get("Items", [])) if r.expires_at > now)
            last = response.get("LastEvaluatedKey")
            if not last:
                return records
            kwargs["ExclusiveStartKey"] = last

    def _call(self, operation: str, **kwargs: Any) -> Any:
        try:
            return getattr(self.client, operation)(**kwargs)
        except (ClientError, BotoCoreError) as exc:
            raise ServiceUnavailable("the connection table is unavailable") from exc


def new_record(
    *, connection_id: str, user_id: str, display_name: str, room_id: str | None, connected_at: str
) -> ConnectionRecord:
    return ConnectionRecord(
        connection_id=connection_id,
        user_id=user_id,
        display_name=display_name,
        room_id=room_id,
        connected_at=connected_at,
        expires_at=int(time.time()) + CONNECTION_TTL_SECONDS,
    )


def _store_from_settings() -> ConnectionStore:
    table = os.environ.get("CONNECTIONS_TABLE")
    if not table:
        raise ConfigurationError("CONNECTIONS_TABLE is not set")
    return ConnectionStore(table)


_store = Lazy(_store_from_settings)
connection_store = _store.get
set_connection_store = _store.set
