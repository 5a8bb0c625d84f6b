"""No import cycle among the modules of `core/` and `handler/`.

Static: each module's source is parsed (nothing is imported) and its imports read. Only the imports
that run when the module is imported count: those at module level, including inside a module-level
`if`/`try`/`with` and in class bodies, but not under `if TYPE_CHECKING:` and not inside functions.
A function-local import runs later, once every module it needs is complete, so it cannot take part in
an import-time cycle (and such imports are how cold start keeps rarely used modules out). Counting them
too, the cycles left are listed in `DEFERRED_CYCLES`: none may be added.

An edge goes to the imported module and to the packages above it that the importer is not itself
inside (importing `core.routes.run` runs `core/routes/__init__.py` first; a module inside `core.routes`
finds that package already being imported). `from pkg import name` counts `pkg.name` when it is a
module of ours, else `pkg`.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("core", "handler")


def _modules(root: Path = ROOT) -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _import_time_statements(body: list[ast.stmt]) -> list[ast.Import | ast.ImportFrom]:
    """The import statements that run when a module with this body is imported."""
    found: list[ast.Import | ast.ImportFrom] = []
    for node in body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            found.append(node)
        elif isinstance(node, ast.If):
            if not _is_type_checking(node.test):
                found += _import_time_statements(node.body)
            found += _import_time_statements(node.orelse)
        elif isinstance(node, (ast.Try, ast.TryStar)):
            for block in (node.body, *(h.body for h in node.handlers), node.orelse, node.finalbody):
                found += _import_time_statements(block)
        elif isinstance(node, (ast.With, ast.ClassDef)):
            found += _import_time_statements(node.body)
    return found


def _all_statements(body: list[ast.stmt]) -> list[ast.Import | ast.ImportFrom]:
    return [
        node for statement in body for node in ast.walk(statement) if isinstance(node, (ast.Import, ast.ImportFrom))
    ]


def _package_of(module: str, path: Path) -> str:
    return module if path.name == "__init__.py" else module.rpartition(".")[0]


def _targets(module: str, path: Path, statement: ast.Import | ast.ImportFrom, known: set[str]) -> set[str]:
    if isinstance(statement, ast.Import):
        return {alias.name for alias in statement.names}
    base = statement.module or ""
    if statement.level:
        package = _package_of(module, path).split(".")
        anchor = ".".join(package[: len(package) - (statement.level - 1)])
        base = f"{anchor}.{base}" if base else anchor
    named = {f"{base}.{alias.name}" for alias in statement.names}
    return {name for name in named if name in known} or {base}


def import_graph(root: Path = ROOT, *, deferred: bool = False) -> dict[str, set[str]]:
    """module -> the modules of ours it imports at import time (and in its functions too, if `deferred`)."""
    statements = _all_statements if deferred else _import_time_statements
    modules = _modules(root)
    known = set(modules)
    graph: dict[str, set[str]] = {}
    for module, path in modules.items():
        edges: set[str] = set()
        for statement in statements(ast.parse(path.read_text(), str(path)).body):
            for target in _targets(module, path, statement, known):
                parts = target.split(".")
                for depth in range(1, len(parts) + 1):
                    candidate = ".".join(parts[:depth])
                    if candidate in known and candidate != module and not module.startswith(candidate + "."):
                        edges.add(candidate)
        graph[module] = edges
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected group of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_import_cycle_in_core_or_handler():
    assert cycles(import_graph()) == []


# cycles only through function-local imports (harmless at import time, but a knot to a reader)
DEFERRED_CYCLES = [["core.hayhooks_settings", "core.settings"]]  # Hayhooks' settings object, built on first use


def test_no_new_cycle_through_function_local_imports():
    found = cycles(import_graph(deferred=True))
    assert [cycle for cycle in found if cycle not in DEFERRED_CYCLES] == []


def test_the_graph_sees_imports_of_every_kind():
    graph = import_graph()
    assert "core.redact" in graph["core.logs"]  # `from core.redact import redact`
    assert {"core.routes", "core.routes.run"} <= graph["core.app"]  # the package runs first
    assert "core.no_pydantic_v1" in graph["core.app"]  # `from core import no_pydantic_v1`: a module
    assert "haystack" not in graph["core.tracing"]  # third-party modules are not ours


def test_function_local_and_type_checking_imports_do_not_count(tmp_path):
    (tmp_path / "core").mkdir()
    (tmp_path / "handler").mkdir()
    (tmp_path / "core" / "__init__.py").write_text("")
    (tmp_path / "handler" / "__init__.py").write_text("")
    (tmp_path / "core" / "a.py").write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from core import b\n"
        "def later():\n    from core.b import thing\n"
        "try:\n    from . import c\nexcept ImportError:\n    pass\n"
    )
    (tmp_path / "core" / "b.py").write_text("import core.a\n")
    (tmp_path / "core" / "c.py").write_text("class K:\n    from core.a import later\n")
    graph = import_graph(tmp_path)
    assert graph["core.a"] == {"core.c"}
    assert graph["core.b"] == {"core.a"}
    assert cycles(graph) == [["core.a", "core.c"]]  # a class body runs at import time


@pytest.mark.parametrize(
    ("graph", "expected"),
    [
        ({"a": {"b"}, "b": {"c"}, "c": set()}, []),
        ({"a": {"b"}, "b": {"c"}, "c": {"a"}}, [["a", "b", "c"]]),
        ({"a": {"b"}, "b": {"a"}, "c": {"d"}, "d": {"c"}, "e": {"a"}}, [["a", "b"], ["c", "d"]]),
    ],
)
def test_cycles(graph, expected):
    assert sorted(cycles(graph)) == expected
