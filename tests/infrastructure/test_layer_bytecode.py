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


def _shim(folder: Path, name: str, body: str) -> Path:
    """An executable script named like an interpreter (what pyenv or asdf put on PATH)."""
    folder.mkdir(parents=True, exist_ok=True)
    script = folder / name
    script.write_text("#!/bin/sh\n" + body + "\n")
    script.chmod(0o755)
    return script


def test_a_shim_of_the_target_version_that_fails_is_not_trusted(
    tmp_path: Path, monkeypatch, capsys
):
    # Given a `python3.99` on PATH (standing for 3.12) that is a shim which fails
    shims = tmp_path / "shims"
    _shim(shims, "python3.99", 'echo "pyenv: python3.99: command not found" >&2; exit 127')
    monkeypatch.setenv("PATH", f"{shims}:/usr/bin:/bin")
    monkeypatch.delenv("LAMBDA_PYTHON", raising=False)
    monkeypatch.setattr(build_layer, "LAMBDA_PYTHON_VERSION", "3.99")
    (tmp_path / "layer" / "mod.py").parent.mkdir()
    (tmp_path / "layer" / "mod.py").write_text("X = 1\n")
    # When compiling the layer
    written = build_layer.compile_bytecode(tmp_path / "layer")
    # Then the shim was run, found wanting, and no ".pyc written" claim is made
    out = capsys.readouterr().out
    assert written is False
    assert ".pyc written" not in out
    assert "not a working Python 3.99" in out
    assert not list((tmp_path / "layer").rglob("*.pyc"))


def test_a_target_version_name_for_another_version_is_not_trusted(tmp_path: Path, monkeypatch):
    # Given LAMBDA_PYTHON pointing at a script that runs, but reports another version
    fake = _shim(tmp_path / "bin", "python3.99", 'echo "3.98"')
    monkeypatch.setenv("LAMBDA_PYTHON", str(fake))
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    monkeypatch.setattr(build_layer, "LAMBDA_PYTHON_VERSION", "3.99")
    # When looking for Lambda's interpreter
    # Then it is refused
    assert build_layer.lambda_interpreter() is None


def test_an_interpreter_that_writes_nothing_is_reported_as_writing_nothing(
    tmp_path: Path, monkeypatch, capsys
):
    # Given an interpreter that answers the version probe but compiles nothing
    fake = _shim(tmp_path / "bin", "python3.99", 'case "$2" in *version_info*) echo 3.99;; esac')
    monkeypatch.setenv("LAMBDA_PYTHON", str(fake))
    monkeypatch.setattr(build_layer, "LAMBDA_PYTHON_VERSION", "3.99")
    (tmp_path / "layer").mkdir()
    (tmp_path / "layer" / "mod.py").write_text("X = 1\n")
    # When compiling
    written = build_layer.compile_bytecode(tmp_path / "layer")
    # Then the build counts the files, finds none and says so
    out = capsys.readouterr().out
    assert written is False
    assert "wrote no cpython-399 .pyc" in out
    assert ".pyc written" not in out


def test_the_written_bytecode_is_counted(tmp_path: Path, monkeypatch, capsys):
    # Given a build whose target version is this interpreter's, and two modules
    monkeypatch.setattr(build_layer, "LAMBDA_PYTHON_VERSION", THIS_PYTHON)
    (tmp_path / "a.py").write_text("A = 1\n")
    (tmp_path / "b.py").write_text("B = 2\n")
    # When compiling
    assert build_layer.compile_bytecode(tmp_path) is True
    # Then the report gives the number of files actually written
    tag = sys.implementation.cache_tag
    assert f"2 {tag} .pyc written for 2 modules" in capsys.readouterr().out
