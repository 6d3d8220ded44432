"""The rules of the house (docs/architecture.md), checked on the package's own imports.

Every ``import`` of the ``simulation`` package is read with the standard library's ``ast``
(including imports inside functions and under ``TYPE_CHECKING``). The test fails on an
import circle anywhere (inside a subpackage too), on an import that points up a floor, on
a module importing ``simulation/__init__.py``, and on the engine touching files, processes
or executors.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "simulation"

# Floors, lowest first: a room may import its own floor's modules and any lower floor,
# except where ALSO_FORBIDDEN says otherwise. "simulation.version" and "simulation.errors"
# are leaves every floor may read.
FLOORS = {
    "scenario": 0,
    "engine": 1,
    "analysis": 1,
    "runs": 2,
    "reporting": 3,
    "sweeps": 4,
    "decide": 4,
    "cli": 5,
    "ui": 5,
}
LEAVES = {"simulation.version", "simulation.errors"}
# Rooms on the same floor or below that still must not be imported.
ALSO_FORBIDDEN = {
    "engine": {"analysis"},    # the engine appends records; KPIs are computed elsewhere
    "analysis": {"engine"},    # pure functions over tables: no SimPy model
}
# The engine knows nothing of files, processes or executors.
ENGINE_FORBIDDEN_LIBS = {"os", "pathlib", "shutil", "multiprocessing", "concurrent",
                         "subprocess", "pyarrow", "dask", "distributed", "yaml"}


def module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path) -> list[tuple[int, str]]:
    """(line, imported module) for every import in a file, relative ones resolved."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            # "from simulation.x import y" may import the module simulation.x.y
            for a in node.names:
                sub = f"{mod}.{a.name}"
                found.append((node.lineno, sub if (ROOT / (sub.replace(".", "/") + ".py")).exists()
                              or (ROOT / sub.replace(".", "/")).is_dir() else mod))
    return found


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}
GRAPH = {m: sorted({imp for _line, imp in imports_of(p) if imp in MODULES})
         for m, p in MODULES.items()}


def room(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 2 or (len(parts) == 2 and parts[1] in FLOORS) else None


def strongly_connected(graph: dict[str, list[str]]) -> list[list[str]]:
    """Tarjan's algorithm: the groups of modules that import each other (circles)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, []):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1 or v in graph.get(v, []):
                groups.append(sorted(group))

    for v in graph:
        if v not in index:
            visit(v)
    return groups


def test_the_graph_is_read():
    """Sanity check of the reader itself, so an empty graph cannot pass the rules."""
    assert "simulation.engine.model" in MODULES
    assert "simulation.engine.secretary" in GRAPH["simulation.engine.model"]
    assert "simulation.scenario.schema" in GRAPH["simulation.scenario.io"]


def test_strongly_connected_finds_a_planted_circle():
    graph = {"a": ["b"], "b": ["c"], "c": ["a"], "d": ["a"]}
    assert strongly_connected(graph) == [["a", "b", "c"]]


def test_no_import_circles():
    assert strongly_connected(GRAPH) == []


def test_imports_point_down():
    wrong = []
    for module, path in MODULES.items():
        here = room(module)
        if here is None:
            continue
        for line, imp in imports_of(path):
            if imp not in MODULES or imp in LEAVES:
                continue
            there = room(imp)
            if there is None:  # the package's __init__ is checked below
                continue
            if FLOORS[there] > FLOORS[here] or there in ALSO_FORBIDDEN.get(here, set()):
                wrong.append(f"{path.relative_to(ROOT)}:{line} ({here}) imports {imp} ({there})")
    assert wrong == []


def test_nothing_imports_the_package_init():
    wrong = [f"{p.relative_to(ROOT)}:{line}" for m, p in MODULES.items()
             for line, imp in imports_of(p) if imp == "simulation" and m != "simulation"]
    assert wrong == []


def test_leaves_import_nothing_of_the_package():
    for leaf in LEAVES:
        assert GRAPH[leaf] == []


@pytest.mark.parametrize("module", sorted(m for m in MODULES if room(m) == "engine"))
def test_the_engine_knows_nothing_of_files_or_processes(module):
    libs = {imp.split(".")[0] for _line, imp in imports_of(MODULES[module])}
    assert libs & ENGINE_FORBIDDEN_LIBS == set()


def test_runs_know_nothing_of_html():
    for module in (m for m in MODULES if room(m) == "runs"):
        libs = {imp for _line, imp in imports_of(MODULES[module])}
        assert not any(i.startswith(("simulation.reporting", "matplotlib", "html")) for i in libs)


def test_reporting_never_runs_a_model():
    for module in (m for m in MODULES if room(m) == "reporting"):
        libs = {imp for _line, imp in imports_of(MODULES[module])}
        assert not any(i.startswith(("simulation.engine", "simulation.runs.runner", "simpy"))
                       for i in libs), module
