"""The VPC the functions and the database live in.

How a function in a private subnet reaches each thing it calls:
- DynamoDB and S3: gateway endpoints (free, and the traffic never leaves AWS).
- Aurora and RDS Proxy: inside the VPC.
- The API Gateway management API (`post_to_connection`), Cognito's JWKS and every other
  public AWS endpoint: the NAT gateway. An `execute-api` *interface* endpoint with private
  DNS is deliberately absent: it would resolve every `*.execute-api` name in the VPC to the
  endpoint, which only serves *private* APIs, and so break calls to our own public
  WebSocket API's management endpoint.
"""

from __future__ import annotations

from aws_cdk import aws_ec2 as ec2
from constructs import Construct

from infra.constants import StageConfig
from infra.constructs.common import log_group


class Network(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, config: StageConfig) -> None:
        super().__init__(scope, construct_id)

        self.vpc = ec2.Vpc(
            self,
            "Vpc",
            max_azs=2,
            nat_gateways=config.nat_gateways,
            subnet_configuration=[
                ec2.SubnetConfiguration(
                    name="public", subnet_type=ec2.SubnetType.PUBLIC, cidr_mask=24
                ),
                ec2.SubnetConfiguration(
                    name="private",
                    subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS,
                    cidr_mask=22,
                ),
            ],
            gateway_endpoints={
                "DynamoDb": ec2.GatewayVpcEndpointOptions(
                    service=ec2.GatewayVpcEndpointAwsService.DYNAMODB
                ),
                "S3": ec2.GatewayVpcEndpointOptions(service=ec2.GatewayVpcEndpointAwsService.S3),
            },
        )
        flow_logs = log_group(self, "FlowLogs", config)
        self.vpc.add_flow_log(
            "FlowLog",
            destination=ec2.FlowLogDestination.to_cloud_watch_logs(flow_logs),
            traffic_type=ec2.FlowLogTrafficType.REJECT,
        )

        self.private_subnets = ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS)
        # One group for every function: the proxy and the cluster admit it on 5432, and
        # IAM (rds-db:connect) decides which of them may actually log in.
        self.functions_security_group = ec2.SecurityGroup(
            self,
            "FunctionsSg",
            vpc=self.vpc,
            description="Lambda functions of the war room",
            allow_all_outbound=True,  # HTTPS to AWS APIs through the NAT and endpoints
        )
