"""The stack, synthesized once per stage per test session (a synth costs seconds).

The real layers are not built for these tests: tiny stand-in folders are passed as
`layer_dir` / `migrate_layer_dir`, so the tests stay fast and need no network. Synthesis
runs the cdk-nag AwsSolutions checks exactly as `cdk synth` does; a violation fails the
fixture with cdk-nag's report.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import pytest

import infra  # noqa: F401  (sets the jsii Node-version variable before aws_cdk loads)
from infra.constants import (
    FN_AUTHORIZER,
    FN_CONNECT,
    FN_ESCALATE,
    FN_HISTORY,
    FN_MESSAGE,
    FN_MIGRATE,
    FN_PRESENCE_FLUSH,
    FN_PUSH,
    FN_SWEEP,
    FN_USER_SYNC,
    REPO_ROOT,
    StageConfig,
    stage_config,
)

# Every Lambda function of the stack, the deploy-time migration function last.
ALL_FUNCTIONS = (
    FN_CONNECT,
    FN_AUTHORIZER,
    FN_MESSAGE,
    FN_HISTORY,
    FN_USER_SYNC,
    FN_SWEEP,
    FN_PRESENCE_FLUSH,
    FN_PUSH,
    FN_ESCALATE,
    FN_MIGRATE,
)


@dataclass(frozen=True)
class Synthesized:
    config: StageConfig
    stack: Any  # infra.stack.WarRoomStack
    template: Any  # aws_cdk.assertions.Template
    outdir: Path
    template_file: Path  # the synthesized JSON, as `cdk synth` writes it

    @cached_property
    def resources(self) -> dict[str, dict[str, Any]]:
        """The template's resources as plain dicts (read once: each read crosses jsii)."""
        resources: dict[str, dict[str, Any]] = self.template.to_json()["Resources"]
        return resources

    def of_type(self, resource_type: str) -> dict[str, dict[str, Any]]:
        return {k: v for k, v in self.resources.items() if v["Type"] == resource_type}

    def logical_id(self, resource_type: str) -> str:
        """The logical id of the one resource of `resource_type`."""
        (logical_id,) = self.of_type(resource_type)
        return logical_id

    def logical_id_of_layer(self, description_start: str) -> str:
        """The logical id of the layer whose description starts with `description_start`."""
        (logical_id,) = [
            k for k, v in self.of_type("AWS::Lambda::LayerVersion").items()
            if str(v["Properties"].get("Description", "")).startswith(description_start)
        ]  # fmt: skip
        return logical_id

    def role_statements(self, role_logical_id: str) -> list[dict[str, Any]]:
        """Every statement of the policies attached to a role (its DefaultPolicy)."""
        return [
            statement
            for policy in self.of_type("AWS::IAM::Policy").values()
            if {"Ref": role_logical_id} in policy["Properties"]["Roles"]
            for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        ]

    def function_statements(self, service: str) -> list[dict[str, Any]]:
        fn = self.resources[self.function_id(service)]
        return self.role_statements(fn["Properties"]["Role"]["Fn::GetAtt"][0])

    def function_id(self, service: str) -> str:
        """The logical id of the function whose POWERTOOLS_SERVICE_NAME is `service`."""
        for logical_id, fn in self.of_type("AWS::Lambda::Function").items():
            variables = fn["Properties"].get("Environment", {}).get("Variables", {})
            if variables.get("POWERTOOLS_SERVICE_NAME") == service:
                return logical_id
        raise AssertionError(f"no function for service {service}")


@pytest.fixture(scope="session")
def stand_in_layers(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("layers")
    shared = root / "layer"
    (shared / "python" / "warroom").mkdir(parents=True)
    (shared / "python" / "warroom" / "__init__.py").write_text("")
    migrate = root / "migrate"
    (migrate / "python").mkdir(parents=True)
    (migrate / "migrations").mkdir()
    (migrate / "migrations" / "env.py").write_text("")
    return shared, migrate


def _synthesize(stage: str, layers: tuple[Path, Path], outdir: Path) -> Synthesized:
    import aws_cdk as cdk
    from aws_cdk.assertions import Template

    from infra.app import build

    context = json.loads((REPO_ROOT / "cdk.json").read_text())["context"]
    context.update(
        stage=stage,
        layer_dir=str(layers[0]),
        migrate_layer_dir=str(layers[1]),
        deploy_id="test-deploy",
    )
    app = cdk.App(context=context, outdir=str(outdir))
    stack = build(app)
    try:
        assembly = app.synth()
    except Exception as exc:  # cdk-nag violations surface as a failed validation
        report = outdir / "validation-report.json"
        details = report.read_text() if report.exists() else ""
        pytest.fail(f"synth of {stage} failed: {exc}\n{details}")
    artifact = assembly.get_stack_by_name(stack.stack_name)
    template = Template.from_json(artifact.template)
    return Synthesized(
        config=stage_config(stage),
        stack=stack,
        template=template,
        outdir=outdir,
        template_file=Path(artifact.template_full_path),
    )


@pytest.fixture(scope="session")
def synth(
    stand_in_layers: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory
) -> Callable[[str], Synthesized]:
    """Synthesize a stage on first use and keep it for the session."""
    cache: dict[str, Synthesized] = {}

    def get(stage: str) -> Synthesized:
        if stage not in cache:
            cache[stage] = _synthesize(
                stage, stand_in_layers, tmp_path_factory.mktemp(f"cdk-{stage}")
            )
        return cache[stage]

    return get


@pytest.fixture(scope="session", params=["dev", "prod"])
def stage(request: pytest.FixtureRequest, synth: Callable[[str], Synthesized]) -> Synthesized:
    """Each stage in turn, for what must hold on both."""
    return synth(str(request.param))


@pytest.fixture(scope="session")
def dev(synth: Callable[[str], Synthesized]) -> Synthesized:
    return synth("dev")


@pytest.fixture(scope="session")
def prod(synth: Callable[[str], Synthesized]) -> Synthesized:
    return synth("prod")
