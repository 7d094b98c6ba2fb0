"""The deploy pipeline (infra/pipeline.py): CDK Pipelines, self-mutating, in the order
source → synth → dev → smoke → approval → prod (→ a read-only check of prod)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from infra.constants import REPO_ROOT

pytestmark = pytest.mark.infrastructure

CONNECTION = "arn:aws:codeconnections:eu-west-1:123456789012:connection/abc-123"
REPOSITORY = "factory-it/war-room"


@pytest.fixture(scope="module")
def synthesized(
    stand_in_layers: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Any]:
    import aws_cdk as cdk
    from cdk_nag import AwsSolutionsChecks

    from infra.app import build_pipeline

    context = json.loads((REPO_ROOT / "cdk.json").read_text())["context"]
    context.update(
        layer_dir=str(stand_in_layers[0]),
        migrate_layer_dir=str(stand_in_layers[1]),
        pipeline_connection_arn=CONNECTION,
        pipeline_repository=REPOSITORY,
    )
    app = cdk.App(context=context, outdir=str(tmp_path_factory.mktemp("cdk-pipeline")))
    stack = build_pipeline(app)
    # cdk-nag's AwsSolutions rules, as `cdk synth` runs them (a violation fails the synth)
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    assembly = app.synth()
    artifact = assembly.get_stack_by_name(stack.stack_name)
    return {"template": artifact.template, "file": Path(artifact.template_full_path)}


@pytest.fixture(scope="module")
def pipeline(synthesized: dict[str, Any]) -> dict[str, Any]:
    template: dict[str, Any] = synthesized["template"]
    return template


@pytest.fixture(scope="module")
def pipeline_file(synthesized: dict[str, Any]) -> Path:
    path: Path = synthesized["file"]
    return path


def _resources(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == kind}


def _actions(template: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """Every action as (stage name, action), in the order the pipeline runs them."""
    (pipe,) = _resources(template, "AWS::CodePipeline::Pipeline").values()
    ordered = []
    for stage in pipe["Properties"]["Stages"]:
        for action in sorted(stage["Actions"], key=lambda a: a.get("RunOrder", 1)):
            ordered.append((stage["Name"], action))
    return ordered


def _buildspec(template: dict[str, Any], action: dict[str, Any]) -> str:
    project = action["Configuration"]["ProjectName"]["Ref"]
    return json.dumps(template["Resources"][project]["Properties"]["Source"]["BuildSpec"])


def _index(actions: list[tuple[str, dict[str, Any]]], name: str) -> int:
    (index,) = [i for i, (_, a) in enumerate(actions) if a["Name"] == name]
    return index


def test_the_pipeline_runs_source_synth_dev_smoke_approval_prod_in_that_order(pipeline) -> None:
    # Given the pipeline's stages and actions, in running order
    actions = _actions(pipeline)
    names = [a["Name"] for _, a in actions]
    providers = [a["ActionTypeId"]["Provider"] for _, a in actions]
    # Then the first pulls the repository through the connection named by context
    assert providers[0] == "CodeStarSourceConnection"
    source = actions[0][1]["Configuration"]
    assert source["ConnectionArn"] == CONNECTION
    assert source["FullRepositoryId"] == REPOSITORY and source["BranchName"] == "main"
    # And then: synth, the pipeline's own update, dev, its smoke test, the approval, prod,
    # and the read-only check of prod
    order = [
        _index(actions, "Synth"),
        _index(actions, "SelfMutate"),
        _index(actions, "WarRoom-dev.Deploy"),
        _index(actions, "SmokeDev"),
        _index(actions, "PromoteToProd"),
        _index(actions, "WarRoom-prod.Deploy"),
        _index(actions, "SmokeProdReadOnly"),
    ]
    assert order == sorted(order) and order[0] > 0
    assert providers[_index(actions, "PromoteToProd")] == "Manual"
    assert "WarRoom-prod.Deploy" not in names[: _index(actions, "PromoteToProd")]
    # And the stages deploy the same CloudFormation stacks `make deploy` makes
    stacks = [
        a["Configuration"].get("StackName") for _, a in actions if a["Name"].endswith("Deploy")
    ]
    assert stacks == ["WarRoom-dev", "WarRoom-prod"]


def test_synth_lints_tests_and_synthesizes(pipeline) -> None:
    # Given the synth action's build
    actions = _actions(pipeline)
    spec = _buildspec(pipeline, actions[_index(actions, "Synth")][1])
    # Then it runs the lint, the unit, integration and infrastructure tests, then synth, in order
    steps = ["make lint", "tests/unit tests/integration tests/infrastructure", "make synth"]
    positions = [spec.index(step) for step in steps]
    assert positions == sorted(positions)
    # And it synthesizes with the same connection, so the pipeline it writes is this one
    project = actions[_index(actions, "Synth")][1]["Configuration"]["ProjectName"]["Ref"]
    variables = pipeline["Resources"][project]["Properties"]["Environment"]["EnvironmentVariables"]
    env = {v["Name"]: v["Value"] for v in variables}
    assert env["PIPELINE_CONNECTION_ARN"] == CONNECTION
    assert env["PIPELINE_REPOSITORY"] == REPOSITORY


def test_the_dev_smoke_test_runs_against_the_deployed_stage_outputs(pipeline) -> None:
    # Given the smoke action after dev's deploy
    actions = _actions(pipeline)
    smoke = actions[_index(actions, "SmokeDev")][1]
    deploy = actions[_index(actions, "WarRoom-dev.Deploy")][1]
    # Then it runs `make smoke STAGE=dev`
    assert "make smoke STAGE=dev" in _buildspec(pipeline, smoke)
    # And reads the stage's outputs from the deploy action's variables
    env = json.loads(smoke["Configuration"]["EnvironmentVariables"])
    by_name = {v["name"]: v["value"] for v in env}
    namespace = deploy["Namespace"]
    assert by_name["HTTP_API_URL"] == f"#{{{namespace}.HttpApiUrl}}"
    assert by_name["WEBSOCKET_URL"] == f"#{{{namespace}.WebSocketUrl}}"


def test_prod_is_checked_read_only(pipeline) -> None:
    # Given the check after prod's deploy
    actions = _actions(pipeline)
    spec = _buildspec(pipeline, actions[_index(actions, "SmokeProdReadOnly")][1])
    # Then it only reads: health, the published config, and a 401 without a token
    assert "/api/health" in spec and "config.json" in spec and "401" in spec
    assert "make smoke" not in spec and "POST" not in spec


def test_the_pipeline_updates_itself(pipeline) -> None:
    # Given the self-mutation action
    actions = _actions(pipeline)
    spec = _buildspec(pipeline, actions[_index(actions, "SelfMutate")][1])
    # Then it deploys the pipeline stack from the synthesized assembly
    assert "cdk -a . deploy" in spec and "WarRoom-Pipeline" in spec


def test_cfn_lint_finds_no_error_in_the_pipeline_template(pipeline_file: Path) -> None:
    import subprocess
    import sys

    # Given the pipeline's template as `make synth` writes it
    # When cfn-lint checks it as `make synth` does
    result = subprocess.run(
        [
            str(Path(sys.executable).with_name("cfn-lint")),
            "--non-zero-exit-code",
            "error",
            "--ignore-checks",
            "E3703",
            "--",
            str(pipeline_file),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    # Then it finds no error
    assert result.returncode == 0, result.stdout
