"""The layer's bytecode: written for Lambda's Python, or an honest note when this machine
has no interpreter of that version."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from infra import build_layer

pytestmark = pytest.mark.infrastructure

THIS_PYTHON = f"{sys.version_info.major}.{sys.version_info.minor}"


def test_bytecode_is_unchecked_hash_pyc_for_the_target_version(tmp_path: Path, monkeypatch):
    # Given a layer folder and a build whose target version is this interpreter's
    monkeypatch.setattr(build_layer, "LAMBDA_PYTHON_VERSION", THIS_PYTHON)
    package = tmp_path / "python" / "pkg"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("VALUE = 1\n")
    # When it is compiled
    assert build_layer.compile_bytecode(tmp_path / "python") is True
    # Then the module has a .pyc for that version, hash-based and never checked against
    # the source (PEP 552 flags: 0b01)
    (pyc,) = (package / "__pycache__").glob("__init__.*.pyc")
    tag = sys.implementation.cache_tag
    assert pyc.name == f"__init__.{tag}.pyc"
    assert int.from_bytes(pyc.read_bytes()[4:8], "little") == 0b01


def test_without_an_interpreter_of_the_target_version_the_build_says_so(
    tmp_path: Path, monkeypatch, capsys
):
    # Given a target version this machine does not have
    monkeypatch.setattr(build_layer, "LAMBDA_PYTHON_VERSION", "3.99")
    monkeypatch.delenv("LAMBDA_PYTHON", raising=False)
    (tmp_path / "mod.py").write_text("X = 1\n")
    # When compiling
    assert build_layer.compile_bytecode(tmp_path) is False
    # Then nothing is written for the wrong version, and the build explains why
    assert not list(tmp_path.rglob("*.pyc"))
    assert "no Python 3.99 here" in capsys.readouterr().out
