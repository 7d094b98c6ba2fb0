"""The deploy pipeline: CDK Pipelines (`aws_cdk.pipelines.CodePipeline`), self-mutating.

    source (CodeStar connection) → synth (make lint, unit + integration + infrastructure
    tests, make synth) → update the pipeline itself → assets → dev (deploy, then
    `make smoke STAGE=dev` against it) → manual approval → prod (deploy, then a read-only
    smoke check)

`make pipeline` deploys this stack once (docs/deploy.md, "The deploy pipeline"); from
then on a push to the branch runs it, and a change to this file updates the pipeline
before anything else is deployed.

Context (or the same names in the environment, which the synth step sets so that the
pipeline it synthesizes is the one that runs):
- pipeline_connection_arn: the CodeStar (CodeConnections) connection to the repository;
- pipeline_repository: `owner/name` on that connection;
- pipeline_branch: the branch to deploy (default main).
Without a connection the stack still synthesizes (so that `make synth` and the tests cover
it) with a placeholder connection that cannot be deployed; `make pipeline` refuses.
"""

from __future__ import annotations

import os
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_codebuild as codebuild
from aws_cdk import aws_iam as iam
from aws_cdk import pipelines
from constructs import Construct

from infra.constants import STACK_NAME_PREFIX, stack_name, stage_config
from infra.constructs.nag import acknowledge
from infra.stack import StackInputs, WarRoomStack

PIPELINE_STACK_NAME = f"{STACK_NAME_PREFIX}-Pipeline"
CTX_CONNECTION_ARN = "pipeline_connection_arn"
CTX_REPOSITORY = "pipeline_repository"
CTX_BRANCH = "pipeline_branch"
PLACEHOLDER_CONNECTION_ARN = (
    "arn:aws:codeconnections:us-east-1:000000000000:connection/set-pipeline_connection_arn"
)
PLACEHOLDER_REPOSITORY = "set-pipeline_repository/war-room"
DEFAULT_BRANCH = "main"

# What the synth step runs: the checks of `make test` that need no browser, then synth.
SYNTH_COMMANDS = (
    "make lint",
    ".venv/bin/python -m pytest -q -p no:cacheprovider tests/unit tests/integration"
    " tests/infrastructure",
    "make synth",
)
# After prod's deploy: answers from the public endpoints only, no user created.
READ_ONLY_SMOKE_COMMANDS = (
    'curl -fsS --retry 5 --retry-all-errors "$HTTP_API_URL/api/health"',
    'curl -fsS --retry 5 --retry-all-errors "$WEB_URL/config.json" | grep -q \'"stage": *"prod"\'',
    'test "$(curl -s -o /dev/null -w "%{http_code}" "$HTTP_API_URL/api/rooms")" = 401',
)


def _setting(scope: Construct, key: str, default: str) -> str:
    value = scope.node.try_get_context(key) or os.environ.get(key.upper())
    return str(value) if value else default


class WarRoomStage(cdk.Stage):
    """One deployment of the application (the stack of `make deploy STAGE=…`)."""

    def __init__(
        self, scope: Construct, construct_id: str, *, stage: str, inputs: StackInputs, **kw: Any
    ) -> None:
        super().__init__(scope, construct_id, **kw)
        # The same CloudFormation stack name as `make deploy`: the pipeline takes it over.
        self.stack = WarRoomStack(
            self,
            "App",
            stack_name=stack_name(stage),
            config=stage_config(stage),
            inputs=inputs,
        )


class PipelineStack(cdk.Stack):
    def __init__(
        self, scope: Construct, construct_id: str, *, inputs: StackInputs, **kw: Any
    ) -> None:
        super().__init__(scope, construct_id, description="War room deploy pipeline", **kw)
        connection_arn = _setting(self, CTX_CONNECTION_ARN, PLACEHOLDER_CONNECTION_ARN)
        repository = _setting(self, CTX_REPOSITORY, PLACEHOLDER_REPOSITORY)
        branch = _setting(self, CTX_BRANCH, DEFAULT_BRANCH)
        source = pipelines.CodePipelineSource.connection(
            repository, branch, connection_arn=connection_arn
        )
        synth = pipelines.CodeBuildStep(
            "Synth",
            input=source,
            env={
                CTX_CONNECTION_ARN.upper(): connection_arn,
                CTX_REPOSITORY.upper(): repository,
                CTX_BRANCH.upper(): branch,
            },
            install_commands=["make install"],
            commands=list(SYNTH_COMMANDS),
            primary_output_directory="cdk.out",
        )
        self.pipeline = pipelines.CodePipeline(
            self,
            "Pipeline",
            pipeline_name=f"{STACK_NAME_PREFIX}",
            synth=synth,
            self_mutation=True,
            cross_account_keys=False,
            publish_assets_in_parallel=False,  # one CodeBuild action for every asset
            code_build_defaults=pipelines.CodeBuildOptions(
                build_environment=codebuild.BuildEnvironment(
                    build_image=codebuild.LinuxArmBuildImage.AMAZON_LINUX_2023_STANDARD_3_0,
                    compute_type=codebuild.ComputeType.LARGE,
                )
            ),
        )

        dev = WarRoomStage(self, "Dev", stage="dev", inputs=inputs)
        smoke = pipelines.CodeBuildStep(
            "SmokeDev",
            input=source,
            env_from_cfn_outputs={
                "HTTP_API_URL": dev.stack.outputs["HttpApiUrl"],
                "WEBSOCKET_URL": dev.stack.outputs["WebSocketUrl"],
                "USER_POOL_ID": dev.stack.outputs["UserPoolId"],
            },
            install_commands=["make install"],
            # The suite reads the stack's outputs itself and signs in throw-away users.
            commands=["make smoke STAGE=dev"],
            role_policy_statements=_smoke_policy(self, stack_name("dev")),
        )
        self.pipeline.add_stage(dev, post=[smoke])

        prod = WarRoomStage(self, "Prod", stage="prod", inputs=inputs)
        approval = pipelines.ManualApprovalStep(
            "PromoteToProd", comment="dev is deployed and its smoke test passed: deploy prod?"
        )
        read_only = pipelines.ShellStep(
            "SmokeProdReadOnly",
            env_from_cfn_outputs={
                "HTTP_API_URL": prod.stack.outputs["HttpApiUrl"],
                "WEB_URL": prod.stack.outputs["WebUrl"],
            },
            commands=list(READ_ONLY_SMOKE_COMMANDS),
        )
        self.pipeline.add_stage(prod, pre=[approval], post=[read_only])
        self.pipeline.build_pipeline()
        for rule, reason in PIPELINE_ACKNOWLEDGMENTS:
            acknowledge(self, rule, reason)
        self._acknowledge_generated_wildcards()

    def _acknowledge_generated_wildcards(self) -> None:
        """Each wildcard of the pipeline's generated policies, acknowledged one by one
        (cdk-nag's IAM5 is granular), so that a new wildcard still fails the synth."""
        for construct in self.node.find_all():
            if not isinstance(construct, iam.CfnPolicy):
                continue
            document = self.resolve(construct.policy_document)
            for statement in document.get("Statement", []):
                for action in _as_list(statement.get("Action")):
                    if "*" in str(action):
                        acknowledge(construct, f"AwsSolutions-IAM5[Action::{action}]", IAM5_REASON)
                for resource in _as_list(statement.get("Resource")):
                    text = _nag_text(resource)
                    if "*" in text:
                        acknowledge(construct, f"AwsSolutions-IAM5[Resource::{text}]", IAM5_REASON)


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [] if value is None else [value]


def _nag_text(value: Any) -> str:
    """A resolved policy value as cdk-nag writes it in a finding (`<Id.Arn>`, `<AWS::Region>`)."""
    if isinstance(value, str):
        return value
    if "Ref" in value:
        return f"<{value['Ref']}>"
    if "Fn::GetAtt" in value:
        return f"<{'.'.join(value['Fn::GetAtt'])}>"
    if "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return str(separator).join(_nag_text(part) for part in parts)
    return str(value)


IAM5_REASON = (
    "CDK Pipelines grants its roles wildcards under the pipeline's own artifact bucket,"
    " CodeBuild log groups and report groups, and the bootstrap roles it assumes; the dev"
    " smoke test may manage users in this account's pools (the pool is another stage's output)."
)


# The pipeline's roles, buckets and projects are written by aws-cdk-lib's CDK Pipelines
# (the documented way to deploy a CDK app); the one policy of ours is _smoke_policy.
PIPELINE_ACKNOWLEDGMENTS = (
    (
        "AwsSolutions-S1",
        "The pipeline's artifact bucket holds build outputs only; CloudTrail records access.",
    ),
    (
        "AwsSolutions-CB4",
        "The CodeBuild projects CDK Pipelines creates encrypt their artifacts with the"
        " pipeline bucket's key; they handle no customer data.",
    ),
)


def _smoke_policy(scope: cdk.Stack, smoke_stack: str) -> list[iam.PolicyStatement]:
    """The dev smoke test: read its stack's outputs, make and remove throw-away users."""
    stack_arn = scope.format_arn(
        service="cloudformation", resource="stack", resource_name=f"{smoke_stack}/*"
    )
    pool_arn = scope.format_arn(service="cognito-idp", resource="userpool", resource_name="*")
    return [
        iam.PolicyStatement(actions=["cloudformation:DescribeStacks"], resources=[stack_arn]),
        iam.PolicyStatement(
            actions=[
                "cognito-idp:AdminCreateUser",
                "cognito-idp:AdminSetUserPassword",
                "cognito-idp:AdminInitiateAuth",
                "cognito-idp:AdminDeleteUser",
            ],
            # The pool's id is an output of another stage's stack: no reference can name it.
            resources=[pool_arn],
        ),
    ]
