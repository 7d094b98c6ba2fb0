"""The WebSocket connection table: who is connected, to which room, until when.

Rows are short-lived (a connection lasts at most two hours in API Gateway); `expires_at`
lets DynamoDB drop the ones whose `$disconnect` never ran. The indexes are the fan-out's
read paths: every connection in a room, every connection of a user, and every open user
connection (the room lists to notify), which is sparse on `audience`.
"""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from infra.constants import (
    CONNECTIONS_INDEX_BY_ROOM,
    CONNECTIONS_INDEX_BY_USER,
    CONNECTIONS_INDEX_USER_CONNECTIONS,
    CONNECTIONS_PARTITION_KEY,
    CONNECTIONS_TTL_ATTRIBUTE,
)
from infra.constructs.nag import acknowledge, arn_finding


class ConnectionTable(Construct):
    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        connection_id = dynamodb.Attribute(
            name=CONNECTIONS_PARTITION_KEY, type=dynamodb.AttributeType.STRING
        )
        self.table = dynamodb.Table(
            self,
            "Table",
            partition_key=connection_id,
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            time_to_live_attribute=CONNECTIONS_TTL_ATTRIBUTE,
            encryption=dynamodb.TableEncryption.AWS_MANAGED,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            # Nothing here outlives a connection: a re-created table loses no data.
            removal_policy=RemovalPolicy.DESTROY,
        )
        for index_name, partition in (
            (CONNECTIONS_INDEX_BY_ROOM, "room_id"),
            (CONNECTIONS_INDEX_BY_USER, "user_id"),
            (CONNECTIONS_INDEX_USER_CONNECTIONS, "audience"),
        ):
            self.table.add_global_secondary_index(
                index_name=index_name,
                partition_key=dynamodb.Attribute(
                    name=partition, type=dynamodb.AttributeType.STRING
                ),
                sort_key=connection_id,
                projection_type=dynamodb.ProjectionType.ALL,
            )

    def grant_read_write(self, grantee: lambda_.IFunction) -> None:
        self.table.grant_read_write_data(grantee)
        self._acknowledge_indexes(grantee)

    def grant_read(self, grantee: lambda_.IFunction) -> None:
        self.table.grant_read_data(grantee)
        self._acknowledge_indexes(grantee)

    def _acknowledge_indexes(self, grantee: lambda_.IFunction) -> None:
        acknowledge(
            grantee,
            arn_finding(self.table, "/index/*"),
            "Queries on the table's own indexes (by_room, by_user, user_connections): index names are fixed,"
            " the grant covers this table's indexes only.",
        )
