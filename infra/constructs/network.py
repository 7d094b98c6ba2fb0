"""The VPC the functions and the database live in.

How a function in a private subnet reaches each thing it calls:
- S3: a gateway endpoint (free, and the traffic never leaves AWS).
- Aurora and RDS Proxy: inside the VPC.
- The API Gateway management API (`post_to_connection`), Cognito's JWKS, Secrets Manager
  (migrations, rotation) and every other public AWS endpoint: the NAT — managed NAT
  gateways on prod, one NAT instance on dev. An `execute-api` *interface* endpoint is
  deliberately absent: it serves only *private* APIs, and with private DNS it would resolve
  every `*.execute-api` name in the VPC to itself and so break calls to our own public
  WebSocket API's `@connections` management endpoint. (A function outside the VPC would
  need no NAT, but then it could not reach Aurora: every function but the authorizer uses
  the database, and the fan-out functions need both.)
"""

from __future__ import annotations

from aws_cdk import aws_ec2 as ec2
from constructs import Construct

from infra.constants import NAT_INSTANCE_TYPE, VPC_CIDR, StageConfig
from infra.constructs.common import log_group
from infra.constructs.nag import acknowledge

# CDK's default user data runs one `yum install iptables-services -y`, without retry: on a
# 512 MB t4g.nano it loses a package-cache race now and then (aws-cdk issue tracker), and
# the instance then forwards nothing, so no function reaches Secrets Manager, Cognito or
# @connections and the first deploy rolls back. Here the install is retried with a clean
# cache, checked, and any failure fails the boot script loudly (cloud-init logs it).
NAT_INSTALL_ATTEMPTS = 10
NAT_USER_DATA_COMMANDS: tuple[str, ...] = (
    "set -euxo pipefail",
    'echo "net.ipv4.ip_forward=1" > /etc/sysctl.d/custom-ip-forwarding.conf',
    "sysctl -p /etc/sysctl.d/custom-ip-forwarding.conf",
    f"for attempt in $(seq 1 {NAT_INSTALL_ATTEMPTS}); do"
    " dnf clean all && dnf install -y iptables-services && break;"
    ' echo "iptables-services install failed (attempt $attempt)" >&2;'
    " sleep $((attempt * 6)); done",
    "rpm -q iptables-services",
    "systemctl enable --now iptables",
    "iptables -t nat -A POSTROUTING -o \"$(ip route show default | awk '{print $5; exit}')\""
    " -j MASQUERADE",
    "iptables -F FORWARD",
    "service iptables save",
)


class Network(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, config: StageConfig) -> None:
        super().__init__(scope, construct_id)

        self.vpc = ec2.Vpc(
            self,
            "Vpc",
            ip_addresses=ec2.IpAddresses.cidr(VPC_CIDR),
            max_azs=2,
            nat_gateways=config.nat_gateways,
            nat_gateway_provider=self._nat_provider(config),
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
                "S3": ec2.GatewayVpcEndpointOptions(service=ec2.GatewayVpcEndpointAwsService.S3),
            },
        )
        if self._nat_instances is not None:
            self._secure_nat_instances(self._nat_instances)
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

    def _nat_provider(self, config: StageConfig) -> ec2.NatProvider:
        if config.nat == "gateway":
            self._nat_instances: ec2.NatInstanceProviderV2 | None = None
            return ec2.NatProvider.gateway()
        # Amazon Linux 2023 with iptables masquerading. Outbound only: the default would
        # admit the whole internet; the VPC is admitted below.
        user_data = ec2.UserData.for_linux()
        user_data.add_commands(*NAT_USER_DATA_COMMANDS)
        self._nat_instances = ec2.NatProvider.instance_v2(
            instance_type=ec2.InstanceType(NAT_INSTANCE_TYPE),
            default_allowed_traffic=ec2.NatTrafficDirection.OUTBOUND_ONLY,
            user_data=user_data,
        )
        return self._nat_instances

    def _secure_nat_instances(self, nat: ec2.NatInstanceProviderV2) -> None:
        nat.connections.allow_from(
            ec2.Peer.ipv4(VPC_CIDR),
            ec2.Port.all_traffic(),
            "Traffic from the private subnets to forward",
        )
        for gateway in nat.gateway_instances:
            cfn = gateway.node.default_child
            assert isinstance(cfn, ec2.CfnInstance)
            # The root volume holds only the operating system, but encrypt it anyway.
            cfn.block_device_mappings = [
                ec2.CfnInstance.BlockDeviceMappingProperty(
                    device_name="/dev/xvda",
                    ebs=ec2.CfnInstance.EbsProperty(encrypted=True, volume_type="gp3"),
                )
            ]
            for rule, reason in (
                (
                    "AwsSolutions-EC28",
                    "Development stage's NAT instance: basic (5-minute) monitoring is enough"
                    " for a forwarder that keeps no state.",
                ),
                (
                    "AwsSolutions-EC29",
                    "The NAT instance is disposable: CloudFormation replaces it; termination"
                    " protection would only block `make destroy`.",
                ),
            ):
                acknowledge(gateway, rule, reason)
