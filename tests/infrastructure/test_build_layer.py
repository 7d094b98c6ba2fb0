"""The layer build: what goes in, for which platform, and when pip is skipped."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

from infra import build_layer
from infra.constants import REPO_ROOT

pytestmark = pytest.mark.infrastructure


def test_layer_requirements_come_from_pyproject_without_the_aws_sdk() -> None:
    # Given the project's pinned dependencies
    # When reading them for the layers
    runtime, tools = build_layer.project_requirements(REPO_ROOT / "pyproject.toml")
    names = {build_layer.requirement_name(spec) for spec in runtime}
    # Then the shared layer has the runtime dependencies but not boto3 (Lambda has it)
    assert {"aws-lambda-powertools", "pydantic", "psycopg", "psycopg-pool", "pyjwt"} <= names
    assert "boto3" not in names
    assert all("==" in spec for spec in runtime)
    # And the migration layer gets exactly the pinned Alembic and SQLAlchemy
    assert [build_layer.requirement_name(spec) for spec in tools] == ["alembic", "sqlalchemy"]
    assert all("==" in spec for spec in tools)


def test_pip_targets_lambda_arm64_python_312_binaries_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a pip that records its command line instead of downloading
    calls: list[list[str]] = []

    def fake_run(command: list[str], check: bool) -> Any:
        calls.append(command)
        return subprocess.CompletedProcess(command, 0)

    monkeypatch.setattr(build_layer.subprocess, "run", fake_run)
    target = tmp_path / "layer" / "python"
    # When installing a requirement set twice
    build_layer.pip_install(["pydantic==2.14.3"], target)
    build_layer.pip_install(["pydantic==2.14.3"], target)
    # Then pip ran once (the stamp file skipped the second run)
    assert len(calls) == 1
    command = calls[0]
    # And it asked for manylinux aarch64 wheels for CPython 3.12, and no source builds
    assert "--only-binary=:all:" in command
    platforms = [command[i + 1] for i, arg in enumerate(command) if arg == "--platform"]
    assert platforms[0] == "manylinux2014_aarch64"
    assert "manylinux_2_28_aarch64" in platforms and "manylinux_2_34_aarch64" in platforms
    assert command[command.index("--python-version") + 1] == "3.12"
    assert command[command.index("--target") + 1] == str(target)
    # And a changed requirement set runs pip again
    build_layer.pip_install(["pydantic==2.14.4"], target)
    assert len(calls) == 2


def test_sdk_pulled_in_by_a_dependency_is_removed_from_the_layer(tmp_path: Path) -> None:
    # Given a layer folder where pip installed botocore (as aws-xray-sdk pulls it in)
    target = tmp_path / "python"
    (target / "botocore" / "data" / "s3" / "2006-03-01").mkdir(parents=True)
    (target / "botocore" / "__init__.py").write_text("")
    (target / "botocore" / "data" / "s3" / "2006-03-01" / "service-2.json").write_text("{}")
    dist_info = target / "botocore-1.44.8.dist-info"
    dist_info.mkdir()
    (dist_info / "RECORD").write_text(
        "botocore/__init__.py,sha256=x,0\n"
        "botocore/data/s3/2006-03-01/service-2.json,sha256=y,2\n"
        "botocore-1.44.8.dist-info/RECORD,,\n"
    )
    (target / "pydantic").mkdir()
    # When removing the distribution
    build_layer.remove_distribution(target, "botocore")
    # Then its files, folders and metadata are gone and the rest stays
    assert sorted(p.name for p in target.iterdir()) == ["pydantic"]


def test_the_layer_copy_of_warroom_carries_the_database_ca_bundle(tmp_path: Path) -> None:
    # Given the shared package as build_layer copies it into the layer
    build_layer.copy_tree(REPO_ROOT / "layers" / "warroom", tmp_path / "warroom")
    # Then the CA bundle the connections verify TLS with is there, where the code looks
    bundle = tmp_path / "warroom" / "db" / "aws-ca-bundle.pem"
    assert bundle.read_bytes() == (REPO_ROOT / "layers/warroom/db/aws-ca-bundle.pem").read_bytes()


def test_a_source_only_pure_python_package_is_built_as_a_pure_wheel_and_offered(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a pip that records its command lines, and builds a pure wheel when asked
    calls: list[list[str]] = []

    def fake_run(command: list[str], check: bool) -> Any:
        calls.append(command)
        if "wheel" in command:
            out = Path(command[command.index("--wheel-dir") + 1])
            (out / "http_ece-1.2.1-py3-none-any.whl").write_bytes(b"")
        return subprocess.CompletedProcess(command, 0)

    monkeypatch.setattr(build_layer.subprocess, "run", fake_run)
    target = tmp_path / "layer" / "python"
    # When the requirements include http-ece (published as source only)
    build_layer.pip_install(["http-ece==1.2.1", "pydantic==2.14.3"], target)
    # Then only http-ece was built, without its dependencies, and the arm64 install
    # (still binaries only) was pointed at the built wheel
    wheel, install = calls
    assert wheel[wheel.index("wheel") :][-1] == "http-ece==1.2.1" and "--no-deps" in wheel
    assert "--only-binary=:all:" in install
    assert install[install.index("--find-links") + 1] == wheel[wheel.index("--wheel-dir") + 1]


def test_a_source_package_that_builds_native_code_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a "pure" package whose build turns out to be for this machine's platform
    def fake_run(command: list[str], check: bool) -> Any:
        if "wheel" in command:
            out = Path(command[command.index("--wheel-dir") + 1])
            (out / "http_ece-1.2.1-cp311-cp311-linux_x86_64.whl").write_bytes(b"")
        return subprocess.CompletedProcess(command, 0)

    monkeypatch.setattr(build_layer.subprocess, "run", fake_run)
    # When the layer is built, then it stops before installing anything
    with pytest.raises(SystemExit, match="pure-Python wheels"):
        build_layer.pip_install(["http-ece==1.2.1"], tmp_path / "layer" / "python")
