"""The CDK app: `cdk synth -c stage=dev|prod` (see cdk.json and docs/deploy.md).

Context keys (all optional):
- stage: dev (default) or prod.
- layer_dir / migrate_layer_dir: the layer folders `python -m infra.build_layer` wrote
  (default build/layer and build/migrate); tests point them at tiny stand-ins.
- web_dir: the built client (default web/dist, or a placeholder page when it is missing).
- deploy_id: any new value re-runs the migrations custom resource (`make deploy` sets it).
- alarm_email: subscribe this address to the alarm topic.
- auth_domain_prefix: the Cognito hosted-UI prefix (default warroom-<stage>-<account>).
- region: the region to check the database CA bundle against (default $CDK_DEFAULT_REGION).
"""

from __future__ import annotations

import os
from pathlib import Path

import aws_cdk as cdk
from aws_cdk import Stack
from cdk_nag import AwsSolutionsChecks

from infra.ca_bundle import refuse_uncovered_region
from infra.constants import (
    CTX_ALARM_EMAIL,
    CTX_AUTH_DOMAIN_PREFIX,
    CTX_DEPLOY_ID,
    CTX_LAYER_DIR,
    CTX_MIGRATE_LAYER_DIR,
    CTX_REGION,
    CTX_STAGE,
    CTX_WEB_DIR,
    DEFAULT_LAYER_DIR,
    DEFAULT_MIGRATE_LAYER_DIR,
    REPO_ROOT,
    stack_name,
    stage_config,
)
from infra.constructs.web_hosting import resolve_web_dir
from infra.stack import StackInputs, WarRoomStack


def _layer_dir(app: cdk.App, key: str, default: Path) -> Path:
    configured = app.node.try_get_context(key)
    directory = (REPO_ROOT / configured).resolve() if configured else default
    if not (directory / "python").is_dir():
        raise SystemExit(
            f"{directory}/python is missing: build the layers first "
            "(`make layer`, i.e. `.venv/bin/python -m infra.build_layer`)"
        )
    return directory


def build(app: cdk.App) -> WarRoomStack:
    """Add the stage's stack, checked by cdk-nag's AwsSolutions rules, to `app`."""
    context = app.node.try_get_context
    config = stage_config(str(context(CTX_STAGE) or "dev"))
    inputs = stack_inputs(app)
    # The stack is environment-agnostic; when the caller's region is known (the CDK CLI
    # sets CDK_DEFAULT_REGION from the profile, or `-c region=…`), refuse one the database
    # CA bundle cannot verify. The template's own rule refuses it at deploy time too.
    region = context(CTX_REGION) or os.environ.get("CDK_DEFAULT_REGION")
    if region:
        refuse_uncovered_region(str(region))
    # No account or region: the stack is environment-agnostic, so synth makes no AWS
    # call (no lookups) and deploys to the account and region of the caller's profile.
    stack = WarRoomStack(app, stack_name(config.name), config=config, inputs=inputs)
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app, verbose=True))
    return stack


def build_pipeline(app: cdk.App) -> Stack:
    """Add the deploy pipeline (infra/pipeline.py), which deploys dev then prod."""
    from infra.pipeline import PIPELINE_STACK_NAME, PipelineStack

    return PipelineStack(app, PIPELINE_STACK_NAME, inputs=stack_inputs(app))


def stack_inputs(app: cdk.App) -> StackInputs:
    context = app.node.try_get_context
    return StackInputs(
        layer_dir=_layer_dir(app, CTX_LAYER_DIR, DEFAULT_LAYER_DIR),
        migrate_layer_dir=_layer_dir(app, CTX_MIGRATE_LAYER_DIR, DEFAULT_MIGRATE_LAYER_DIR),
        web_dir=resolve_web_dir(context(CTX_WEB_DIR)),
        deploy_id=_optional(context(CTX_DEPLOY_ID)),
        alarm_email=_optional(context(CTX_ALARM_EMAIL)),
        auth_domain_prefix=_optional(context(CTX_AUTH_DOMAIN_PREFIX)),
    )


def _optional(value: object) -> str | None:
    return str(value) if value not in (None, "") else None


def main() -> None:
    app = cdk.App()
    build(app)
    build_pipeline(app)
    app.synth()


if __name__ == "__main__":
    main()
