"""The module map of docs/design.md, held by tests (issue 14): configuration is read in
`warroom.settings` only, the domain layer (`logic/`) reaches nothing outward, and the
shared package has no import cycle, function-level imports included."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "layers"
# What the domain layer may never reach: delivery and fan-out (who hears of a change),
# the S3 adapter, the WebSocket and HTTP front ends, and the AWS SDK.
OUTWARD = (
    "warroom.delivery",
    "warroom.fanout",
    "warroom.files",
    "warroom.storage",
    "warroom.connections",
    "warroom.realtime",
    "warroom.httpapi",
    "warroom.routes",
    "boto3",
    "botocore",
)


def _module_name(path: Path, root: Path = PACKAGE) -> str:
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path, root: Path = PACKAGE) -> set[str]:
    """Every module `path` imports, anywhere in it (inside functions too), as dotted
    names; `from a import b` counts as `a` and `a.b`."""
    name = _module_name(path, root)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, base] if base else parts)
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def _reaches(imported: str, target: str) -> bool:
    return imported == target or imported.startswith(target + ".")


def test_the_import_walk_sees_function_level_imports(tmp_path):
    # Given a module that imports delivery only inside a function (as maintenance once did)
    module = tmp_path / "warroom" / "logic" / "maintenance.py"
    module.parent.mkdir(parents=True)
    module.write_text("def later():\n    from ..delivery import room_delivery\n")
    # When the walk reads it
    found = imports_of(module, tmp_path)
    # Then the hidden import is found
    assert any(_reaches(m, "warroom.delivery") for m in found)


def test_nothing_under_logic_imports_delivery_files_fanout_or_any_adapter():
    # Given every module of the domain layer
    modules = sorted((PACKAGE / "warroom" / "logic").rglob("*.py"))
    assert modules
    # When their imports are walked, function-level ones included
    outward = {
        f"{path.relative_to(PACKAGE)} imports {imported}"
        for path in modules
        for imported in imports_of(path)
        for target in OUTWARD
        if _reaches(imported, target)
    }
    # Then none reaches outward
    assert outward == set()


def _unit(module: str) -> str:
    """`warroom.logic.rooms` → `warroom.logic`: cycles are looked for between the
    package's modules and subpackages, as wholes."""
    return ".".join(module.split(".")[:2])


def test_the_shared_package_has_no_import_cycle():
    # Given the import graph of the shared package, one node per module or subpackage
    known = {_module_name(p) for p in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for path in PACKAGE.rglob("*.py"):
        source = _unit(_module_name(path))
        for imported in imports_of(path):
            if imported in known and _unit(imported) != source:
                graph.setdefault(source, set()).add(_unit(imported))
    # When it is walked depth first
    cycles: list[list[str]] = []
    state: dict[str, str] = {}

    def visit(node: str, trail: list[str]) -> None:
        state[node] = "open"
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "open":
                cycles.append([*trail[trail.index(nxt) :], nxt])
            elif nxt not in state:
                visit(nxt, [*trail, nxt])
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    # Then no chain of imports comes back to where it started
    assert cycles == []


def test_only_settings_reads_the_environment():
    # Given every Python file of the shared package and the functions
    files = [*PACKAGE.rglob("*.py"), *(ROOT / "functions").rglob("*.py")]
    # When they are searched for reads of the environment
    readers = {
        str(path.relative_to(ROOT))
        for path in files
        if re.search(r"os\.environ|os\.getenv", path.read_text())
    }
    # Then only warroom/settings.py reads it
    assert readers == {"layers/warroom/settings.py"}
