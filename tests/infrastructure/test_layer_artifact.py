"""The deployed artifact: the layers `make layer` builds (infra/build_layer.py), opened.

- Every native file is an aarch64 ELF (Lambda runs on Graviton), and every extension
  module is built for CPython 3.12 or the stable ABI (abi3): a wheel for the build
  machine's x86_64 or 3.11 would import here and fail in Lambda.
- Every module a handler can import, following the `warroom` package's own imports
  (lazy ones inside functions too), is in the function's folder, its layers, the
  standard library, or what the Lambda Python runtime provides.

`make test` builds the layers first (`make layer`, cached in build/ until the pins change).
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

from infra.build_layer import RUNTIME_PROVIDED
from infra.constants import (
    BUILD_DIR,
    FN_MIGRATE,
    FUNCTIONS_DIR,
    LAMBDA_PYTHON_VERSION,
    REPO_ROOT,
)
from tests.infrastructure.conftest import ALL_FUNCTIONS

pytestmark = pytest.mark.infrastructure

LAYER = BUILD_DIR / "layer" / "python"
MIGRATE_LAYER = BUILD_DIR / "migrate" / "python"
EM_AARCH64 = 183  # ELF e_machine
CPYTHON_TAG = "cpython-" + LAMBDA_PYTHON_VERSION.replace(".", "")
# Importable in Lambda's Python runtime without a layer: the AWS SDK and its dependencies
# (import names of RUNTIME_PROVIDED) and the runtime interface client.
RUNTIME_MODULES = {"boto3", "botocore", "s3transfer", "jmespath", "dateutil", "six", "urllib3"}
RUNTIME_MODULES |= {"awslambdaric"}
# Statically reachable, never imported in Lambda: each with the reason.
LOCAL_ONLY = {
    # warroom.db.embedded: the local stack's embedded PostgreSQL, used only without
    # DATABASE_URL and DB_HOST (every function has DB_HOST).
    "pgserver",
}


@pytest.fixture(scope="module")
def layer() -> Path:
    # Given the shared layer as `make layer` wrote it
    assert (LAYER / "warroom").is_dir(), f"{LAYER} is missing: run `make layer` first"
    return LAYER


def _elf_machine(path: Path) -> int | None:
    head = path.read_bytes()[:20]
    if head[:4] != b"\x7fELF":
        return None
    return int.from_bytes(head[18:20], "little" if head[5] == 1 else "big")


def test_every_native_file_is_aarch64_and_every_extension_is_for_cpython_312(layer: Path) -> None:
    for root in (layer, MIGRATE_LAYER):
        # Given every file of the layer that is a native binary
        native = [p for p in root.rglob("*") if p.is_file() and _elf_machine(p) is not None]
        # Then each is built for aarch64
        wrong = [str(p.relative_to(root)) for p in native if _elf_machine(p) != EM_AARCH64]
        assert wrong == [], f"not aarch64: {wrong}"
        # And each extension module (importable .so, not a bundled shared library) is for
        # CPython 3.12 or the stable ABI
        modules = [p for p in native if p.name.endswith(".so") and ".libs" not in str(p.parent)]
        for module in modules:
            assert f".{CPYTHON_TAG}-aarch64-linux-gnu.so" in module.name or module.name.endswith(
                ".abi3.so"
            ), module
    # And the shared layer has the compiled ones it needs (a broken build would ship none)
    names = {p.name.split(".")[0] for p in layer.rglob("*.so")}
    assert {"_pydantic_core", "_psycopg"} <= names


def test_every_wheel_in_the_layer_is_for_linux_aarch64_or_pure(layer: Path) -> None:
    # Given the WHEEL file of every distribution in the layers
    for root in (layer, MIGRATE_LAYER):
        for wheel in root.glob("*.dist-info/WHEEL"):
            tags = [line.split(":", 1)[1].strip() for line in wheel.read_text().splitlines()
                    if line.startswith("Tag:")]  # fmt: skip
            # Then each is pure Python, or for CPython 3.12 / abi3 on Linux aarch64
            for tag in tags:
                _python, abi, platform = tag.split("-")
                pure = platform == "any" and abi == "none"
                native = "aarch64" in platform and "linux" in platform
                assert pure or (native and abi in {"cp312", "abi3"}), f"{wheel.parent.name}: {tag}"


def _imports(path: Path) -> set[str]:
    """Every module `path` imports, anywhere in it (lazy imports included), absolute."""
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def _source_of(module: str, roots: list[Path]) -> Path | None:
    parts = module.split(".")
    for root in roots:
        for candidate in (
            root.joinpath(*parts).with_suffix(".py"),
            root.joinpath(*parts, "__init__.py"),
        ):
            if candidate.is_file():
                return candidate
    return None


def _reachable_top_levels(handler: Path, roots: list[Path]) -> set[str]:
    """Top-level names of everything the handler can import, following our own modules."""
    seen: set[str] = set()
    tops: set[str] = set()
    queue = [handler]
    while queue:
        for module in _imports(queue.pop()):
            tops.add(module.split(".")[0])
            if module.split(".")[0] not in {"warroom", "functions"} or module in seen:
                continue
            seen.add(module)
            source = _source_of(module, roots)
            if source is not None:
                queue.append(source)
    return tops


@pytest.mark.parametrize("spec", ALL_FUNCTIONS, ids=lambda spec: spec.id)
def test_every_module_a_handler_imports_is_in_its_layers_or_the_runtime(layer: Path, spec) -> None:
    # Given the function's folder and its layers, as Lambda lays them out
    folder = FUNCTIONS_DIR / spec.folder
    roots = [folder, layer] + ([MIGRATE_LAYER] if spec is FN_MIGRATE else [])
    handler = folder / (spec.handler.split(".")[0] + ".py")
    # When following every import the handler can reach
    tops = _reachable_top_levels(handler, roots)
    # Then each is in the function's folder or a layer, the standard library, or the runtime
    present = {p.name.split(".")[0] for root in roots for p in root.iterdir()}
    missing = sorted(
        name
        for name in tops
        if name not in present
        and name not in sys.stdlib_module_names
        and name not in RUNTIME_MODULES
        and name not in LOCAL_ONLY
        and name not in {"__future__", "functions"}
    )
    assert missing == [], f"{spec.id} imports what Lambda will not have: {missing}"
    # And the layer's copy of our package is the one in the repository
    assert (layer / "warroom" / "settings.py").read_text() == (
        REPO_ROOT / "layers" / "warroom" / "settings.py"
    ).read_text(), "the layer is older than the code: run `make layer`"


def test_the_runtime_provided_list_matches_the_import_names() -> None:
    # Given the distributions the build leaves out because Lambda provides them
    # Then each one's import name is treated as present in the runtime
    import_names = {"python-dateutil": "dateutil"}
    assert {import_names.get(name, name) for name in RUNTIME_PROVIDED} <= RUNTIME_MODULES
