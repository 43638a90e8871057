"""The package's layers depend one way: no cycles, no scorers <-> solvers, textclass at the
bottom, small modules, and every module importable on its own."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import equanimity

SRC = Path(equanimity.__file__).parent
MAX_LINES = 500
OVERSIZE_ALLOWED: set[str] = set()
INSPECT_INTERNAL = "equanimity._inspect_internal"
"""The one module allowed to import inspect-ai's private API."""
TEXTCLASS_MAY_IMPORT = {"equanimity.paths", "equanimity.yaml_source"}


def _modules() -> dict[str, Path]:
    out = {}
    for path in sorted(SRC.rglob("*.py")):
        parts = path.relative_to(SRC.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


MODULES = _modules()


def _imports(name: str, path: Path) -> set[str]:
    """Every equanimity module ``name`` imports, at top level or inside a function."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            targets = [f"{base}.{a.name}" for a in node.names] + [base]
        for target in targets:
            while target and target not in MODULES:
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


GRAPH = {name: _imports(name, path) for name, path in MODULES.items()}


def _in(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def test_graph_sees_the_package() -> None:
    assert len(MODULES) > 90
    assert "equanimity.textclass.refusal" in GRAPH["equanimity.scorers.labels"]


def test_no_import_cycles() -> None:
    state: dict[str, int] = {}
    cycles: list[list[str]] = []

    def visit(node: str, stack: list[str]) -> None:
        state[node] = 1
        for dep in sorted(GRAPH[node]):
            if state.get(dep) == 1:
                cycles.append([*stack[stack.index(dep) :], dep])
            elif dep not in state:
                visit(dep, [*stack, dep])
        state[node] = 2

    for name in sorted(GRAPH):
        if name not in state:
            visit(name, [name])
    assert cycles == []


def test_scorers_and_solvers_do_not_know_each_other() -> None:
    bad = [
        (a, b)
        for a, deps in GRAPH.items()
        for b in deps
        if (_in(a, "equanimity.scorers") and _in(b, "equanimity.solvers"))
        or (
            _in(a, "equanimity.solvers")
            and (_in(b, "equanimity.scorers") or _in(b, "equanimity.textclass"))
        )
    ]
    assert bad == []


def test_textclass_imports_nothing_above_it() -> None:
    bad = [
        (a, b)
        for a, deps in GRAPH.items()
        if _in(a, "equanimity.textclass")
        for b in deps
        if not _in(b, "equanimity.textclass") and b not in TEXTCLASS_MAY_IMPORT
    ]
    assert bad == []


def test_no_module_over_500_lines() -> None:
    sizes = {n: len(p.read_text("utf-8").splitlines()) for n, p in MODULES.items()}
    over = {n: s for n, s in sizes.items() if s > MAX_LINES and n not in OVERSIZE_ALLOWED}
    assert over == {}


def _private_inspect_imports(path: Path) -> list[str]:
    """inspect_ai modules imported by ``path`` whose dotted name has a ``_private`` part."""
    found: list[str] = []
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        for n in names:
            parts = n.split(".")
            if parts[0] == "inspect_ai" and any(p.startswith("_") for p in parts[1:]):
                found.append(n)
    return found


def test_only_one_module_uses_inspects_private_api() -> None:
    users = {n: _private_inspect_imports(p) for n, p in MODULES.items()}
    assert {n for n, found in users.items() if found} == {INSPECT_INTERNAL}


def test_each_module_imports_on_its_own() -> None:
    code = (
        "import importlib, sys, traceback\n"
        "base = set(sys.modules)\n"
        "bad = []\n"
        f"for name in {sorted(MODULES)!r}:\n"
        "    for m in [m for m in sys.modules if m == 'equanimity' or m.startswith('equanimity.')]:\n"
        "        del sys.modules[m]\n"
        "    try:\n"
        "        importlib.import_module(name)\n"
        "    except Exception as exc:\n"
        "        bad.append(f'{name}: {type(exc).__name__}: {exc}')\n"
        "print('\\n'.join(bad))\n"
        "sys.exit(1 if bad else 0)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
