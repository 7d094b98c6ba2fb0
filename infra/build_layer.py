"""Build the Lambda layers with pip, for Lambda's platform, without Docker.

    .venv/bin/python -m infra.build_layer            # `make layer`

- build/layer/python/    the runtime dependencies of pyproject.toml (boto3 left out: the
                         Lambda runtime has it) plus a copy of layers/warroom.
- build/migrate/python/  Alembic and SQLAlchemy (the migration function only), and
  build/migrate/migrations/  a copy of migrations/ (/opt/migrations in the function).

Wheels are chosen for Linux on arm64 (Graviton) and CPython 3.12:
`--platform manylinux2014_aarch64 --only-binary=:all:`, plus each manylinux_2_N_aarch64 up
to 2.34 for packages that only publish newer wheels (Lambda's Amazon Linux 2023 has glibc
2.34).
pip runs only when the pinned requirements change: a stamp file holds their hash. The
copies of our own code are refreshed on every run.

Bytecode: /opt is read-only in Lambda, so a layer without `.pyc` files is compiled again
in memory at every cold start (for this layer, a large part of the import time). The
files are written by an interpreter of Lambda's version (`.pyc` is version-specific):
this one if it matches, else `$LAMBDA_PYTHON` or `python3.12` on PATH; with none (the
Debian 12 build machines have only 3.11) the build says so and ships sources only.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Iterable
from pathlib import Path

from infra.constants import (
    BUILD_DIR,
    LAMBDA_PYTHON_VERSION,
    LAYER_PIP_PLATFORMS,
    MIGRATIONS_LAYER_SUBDIR,
    REPO_ROOT,
)

# The AWS SDK and its dependencies ship with the Lambda Python runtime. A second copy in the
# layer would come first on sys.path and pair the runtime's boto3 with another botocore, so
# they are left out (and removed when another package, e.g. aws-xray-sdk, pulls them in).
RUNTIME_PROVIDED = {
    "boto3",
    "botocore",
    "s3transfer",
    "jmespath",
    "python-dateutil",
    "six",
    "urllib3",
}
# What the migration function needs on top of the shared layer.
MIGRATION_TOOLS = ("alembic", "sqlalchemy")
STAMP_FILE = ".requirements.sha256"
COPY_IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")


def requirement_name(spec: str) -> str:
    """The normalized project name of a requirement such as `psycopg[binary]==3.3.9`."""
    match = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", spec.strip())
    if not match:
        raise SystemExit(f"cannot read the requirement {spec!r}")
    return re.sub(r"[-_.]+", "-", match.group(0)).lower()


def project_requirements(pyproject: Path) -> tuple[list[str], list[str]]:
    """(runtime requirements for the shared layer, migration tools), pinned as in pyproject."""
    project = tomllib.loads(pyproject.read_text())["project"]
    runtime = [
        spec for spec in project["dependencies"] if requirement_name(spec) not in RUNTIME_PROVIDED
    ]
    optional: Iterable[str] = (
        spec for group in project.get("optional-dependencies", {}).values() for spec in group
    )
    tools = sorted({spec for spec in optional if requirement_name(spec) in MIGRATION_TOOLS})
    missing = set(MIGRATION_TOOLS) - {requirement_name(spec) for spec in tools}
    if missing:
        raise SystemExit(f"pyproject.toml pins no version of {sorted(missing)}")
    return runtime, tools


# Pure-Python packages published as source only (no wheel on PyPI): built here into a
# py3-none-any wheel, which runs anywhere, and offered to the arm64 install with
# --find-links. Anything else must come as a wheel (no native code built on this machine).
PURE_PYTHON_SDISTS = frozenset({"http-ece"})  # issue 19's Web Push encryption (RFC 8291)


def build_pure_wheels(requirements: list[str], wheel_dir: Path) -> list[str]:
    """Build the wheels of the source-only pure-Python requirements; pip's extra args."""
    pure = [r for r in requirements if requirement_name(r) in PURE_PYTHON_SDISTS]
    if not pure:
        return []
    shutil.rmtree(wheel_dir, ignore_errors=True)
    wheel_dir.mkdir(parents=True)
    for requirement in pure:
        command = [
            sys.executable, "-m", "pip", "wheel", "--quiet", "--disable-pip-version-check",
            "--no-deps", "--wheel-dir", str(wheel_dir), requirement,
        ]  # fmt: skip
        subprocess.run(command, check=True)
    built = sorted(wheel_dir.glob("*.whl"))
    native = [w.name for w in built if not w.name.endswith("-none-any.whl")]
    if len(built) != len(pure) or native:
        raise SystemExit(f"expected pure-Python wheels for {pure}, built {[w.name for w in built]}")
    return ["--find-links", str(wheel_dir)]


def pip_install(requirements: list[str], target: Path) -> None:
    """Install `requirements` into `target` for Lambda (arm64, CPython 3.12), unless the
    stamp says this exact set is already there."""
    stamp = target.parent / STAMP_FILE
    digest = hashlib.sha256(
        "\n".join([*sorted(requirements), LAMBDA_PYTHON_VERSION, *LAYER_PIP_PLATFORMS]).encode()
    ).hexdigest()
    if target.is_dir() and stamp.is_file() and stamp.read_text().strip() == digest:
        print(f"{target}: requirements unchanged, pip skipped")
        return
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    platforms = [arg for platform in LAYER_PIP_PLATFORMS for arg in ("--platform", platform)]
    find_links = build_pure_wheels(requirements, target.parent / "pure-wheels")
    command = [
        sys.executable, "-m", "pip", "install",
        "--quiet", "--disable-pip-version-check", "--no-compile",
        "--target", str(target),
        *platforms,
        "--implementation", "cp",
        "--python-version", LAMBDA_PYTHON_VERSION,
        "--only-binary=:all:",
        *find_links,
        *requirements,
    ]  # fmt: skip
    print(f"{target}: pip install {' '.join(requirements)}")
    subprocess.run(command, check=True)
    # Console scripts are useless in a layer and name the build machine's interpreter.
    shutil.rmtree(target / "bin", ignore_errors=True)
    for name in sorted(RUNTIME_PROVIDED):
        remove_distribution(target, name)
    stamp.write_text(digest + "\n")


def remove_distribution(target: Path, name: str) -> None:
    """Delete every file pip installed for distribution `name` (from its RECORD)."""
    for dist_info in target.glob("*.dist-info"):
        # `<name>-<version>.dist-info`, with any "-" of the name written as "_"
        if requirement_name(dist_info.name.split("-", 1)[0]) != name:
            continue
        record = dist_info / "RECORD"
        paths = [line.split(",", 1)[0] for line in record.read_text().splitlines() if line]
        for relative in paths:
            (target / relative).unlink(missing_ok=True)
        shutil.rmtree(dist_info, ignore_errors=True)
        folders = {folder for p in paths for folder in (target / p).parents}
        for folder in sorted(folders, key=len_parts, reverse=True):  # deepest first
            inside = folder.is_relative_to(target) and folder != target
            if inside and folder.is_dir() and not any(folder.iterdir()):
                folder.rmdir()
        print(f"{target}: removed {name} (the Lambda runtime provides it)")


def len_parts(path: Path) -> int:
    return len(path.parts)


def copy_tree(source: Path, destination: Path) -> None:
    if destination.exists():
        shutil.rmtree(destination)
    shutil.copytree(source, destination, ignore=COPY_IGNORE)


def lambda_interpreter() -> str | None:
    """An interpreter of Lambda's Python version, or None if this machine has none.

    A candidate found by name is run first and must report that version: a `python3.12`
    on PATH may be a shim (pyenv, asdf) that fails, or a link to another version."""
    if f"{sys.version_info.major}.{sys.version_info.minor}" == LAMBDA_PYTHON_VERSION:
        return sys.executable
    candidates = [os.environ.get("LAMBDA_PYTHON"), shutil.which(f"python{LAMBDA_PYTHON_VERSION}")]
    for candidate in filter(None, candidates):
        version = interpreter_version(candidate)
        if version == LAMBDA_PYTHON_VERSION:
            return candidate
        print(f"{candidate}: not a working Python {LAMBDA_PYTHON_VERSION} ({version or 'fails'})")
    return None


def interpreter_version(interpreter: str) -> str | None:
    """`major.minor` as the interpreter itself reports it, or None if it does not run."""
    probe = "import sys; print('%d.%d' % sys.version_info[:2])"
    try:
        done = subprocess.run(
            [interpreter, "-c", probe], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return (done.stdout.strip() or None) if done.returncode == 0 else None


def count_bytecode(target: Path, tag: str) -> int:
    """The `.pyc` files of cache tag `tag` (e.g. cpython-312) under `target`."""
    return sum(1 for _ in target.rglob(f"*.{tag}.pyc"))


def compile_bytecode(target: Path) -> bool:
    """Write `.pyc` files for Lambda's Python next to every module in `target`.

    Unchecked hash-based files (PEP 552): a zip keeps modification times only to two
    seconds, so timestamp-based ones could look stale after Lambda unpacks the layer, and
    a published layer never changes, so checking the source would be wasted work."""
    interpreter = lambda_interpreter()
    if interpreter is None:
        print(
            f"{target}: no Python {LAMBDA_PYTHON_VERSION} here (this is "
            f"{sys.version_info.major}.{sys.version_info.minor}); the layer ships without "
            f".pyc files. Set LAMBDA_PYTHON to a {LAMBDA_PYTHON_VERSION} interpreter to add them."
        )
        return False
    command = [
        interpreter, "-m", "compileall", "-q", "-j", "0",
        "--invalidation-mode", "unchecked-hash", str(target),
    ]  # fmt: skip
    # Non-zero when some file does not compile (packages ship the odd template or test
    # written for another Python); the modules that Lambda imports still get theirs.
    if subprocess.run(command, check=False).returncode != 0:
        print(f"{target}: some files did not compile (see above)")
    # Trust the files, not the exit status: count what was written for Lambda's version.
    tag = "cpython-" + LAMBDA_PYTHON_VERSION.replace(".", "")
    written = count_bytecode(target, tag)
    sources = sum(1 for _ in target.rglob("*.py"))
    if written == 0:
        print(f"{target}: {interpreter} wrote no {tag} .pyc; the layer ships sources only")
        return False
    print(f"{target}: {written} {tag} .pyc written for {sources} modules by {interpreter}")
    return True


def build(build_dir: Path = BUILD_DIR) -> None:
    runtime, tools = project_requirements(REPO_ROOT / "pyproject.toml")

    layer = build_dir / "layer" / "python"
    pip_install(runtime, layer)
    copy_tree(REPO_ROOT / "layers" / "warroom", layer / "warroom")
    compile_bytecode(layer)

    migrate = build_dir / "migrate"
    pip_install(tools, migrate / "python")
    copy_tree(REPO_ROOT / MIGRATIONS_LAYER_SUBDIR, migrate / MIGRATIONS_LAYER_SUBDIR)
    compile_bytecode(migrate / "python")
    print(f"layers ready in {build_dir}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build-dir", type=Path, default=BUILD_DIR)
    build(parser.parse_args().build_dir)


if __name__ == "__main__":
    main()
