"""The one helper every Lambda function is made with.

Every function gets the same shape: Python on arm64 with the shared layer (the `warroom`
package and its dependencies, built by `python -m infra.build_layer`), a private subnet,
active tracing, a log group with a retention, and the Powertools settings. A caller adds
only what differs: the handler, its environment and its grants.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from aws_cdk import Duration
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from infra.constants import (
    FUNCTIONS_DIR,
    LAMBDA_PYTHON_VERSION,
    METRICS_NAMESPACE,
    FunctionSpec,
    StageConfig,
)
from infra.constructs.common import log_group
from infra.constructs.nag import LAMBDA_BASIC_EXECUTION, LAMBDA_VPC_ACCESS, acknowledge, finding
from infra.constructs.network import Network

RUNTIME = lambda_.Runtime.PYTHON_3_12
ARCHITECTURE = lambda_.Architecture.ARM_64
# The layer's compiled wheels (pydantic-core, psycopg-binary, …) are built for this version.
if RUNTIME.name != f"python{LAMBDA_PYTHON_VERSION}":
    raise RuntimeError(f"{RUNTIME.name} does not match the layer's {LAMBDA_PYTHON_VERSION}")
# What never belongs in a function's code asset.
ASSET_EXCLUDES = ["__pycache__", "*.pyc", ".pytest_cache", "tests"]


class FunctionFactory(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: StageConfig,
        network: Network,
        layer_dir: Path,
    ) -> None:
        super().__init__(scope, construct_id)
        self._config = config
        self._network = network
        self.shared_layer = self.layer(
            "SharedLayer", layer_dir, "The warroom package and its runtime dependencies"
        )
        self.functions: list[tuple[FunctionSpec, lambda_.Function]] = []

    def layer(self, construct_id: str, directory: Path, description: str) -> lambda_.LayerVersion:
        """A layer from a folder holding `python/` (and anything else to put under /opt)."""
        return lambda_.LayerVersion(
            self,
            construct_id,
            code=lambda_.Code.from_asset(str(directory)),
            compatible_runtimes=[RUNTIME],
            compatible_architectures=[ARCHITECTURE],
            description=description,
        )

    def create(
        self,
        spec: FunctionSpec,
        *,
        environment: Mapping[str, str],
        extra_layers: Sequence[lambda_.ILayerVersion] = (),
        security_group: ec2.ISecurityGroup | None = None,
    ) -> lambda_.Function:
        fn_logs = log_group(self, f"{spec.id}Logs", self._config)
        fn = lambda_.Function(
            self,
            spec.id,
            description=spec.description,
            runtime=RUNTIME,
            architecture=ARCHITECTURE,
            code=lambda_.Code.from_asset(str(FUNCTIONS_DIR / spec.folder), exclude=ASSET_EXCLUDES),
            handler=spec.handler,
            layers=[self.shared_layer, *extra_layers],
            memory_size=spec.memory_mb,
            timeout=Duration.seconds(spec.timeout_s),
            vpc=self._network.vpc,
            vpc_subnets=self._network.private_subnets,
            security_groups=[security_group or self._network.functions_security_group],
            tracing=lambda_.Tracing.ACTIVE,
            log_group=fn_logs,
            environment={
                "POWERTOOLS_SERVICE_NAME": spec.service,
                "POWERTOOLS_METRICS_NAMESPACE": METRICS_NAMESPACE,
                "LOG_LEVEL": self._config.log_level,
                **environment,
            },
        )
        # Granular: only the two AWS policies every VPC function needs, and X-Ray's
        # trace upload, which has no resource-level permissions.
        for policy in (LAMBDA_BASIC_EXECUTION, LAMBDA_VPC_ACCESS):
            acknowledge(
                fn,
                finding("AwsSolutions-IAM4", policy),
                "AWSLambdaBasicExecutionRole (its logs) and AWSLambdaVPCAccessExecutionRole"
                " (its network interfaces) are the documented minimum for a VPC function.",
            )
        acknowledge(
            fn,
            "AwsSolutions-L1",
            f"{RUNTIME.name} is the runtime the shared layer's compiled wheels are built for"
            " (infra/build_layer.py); Lambda supports it until 2028.",
        )
        acknowledge(
            fn,
            finding("AwsSolutions-IAM5", "Resource::*"),
            "xray:PutTraceSegments and xray:PutTelemetryRecords (and, for the dev sweep,"
            " cloudwatch:GetMetricStatistics) support only Resource '*'.",
        )
        self.functions.append((spec, fn))
        return fn
