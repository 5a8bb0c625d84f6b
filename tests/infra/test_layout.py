"""The tools in infra/ (bench, soak, build, publish) stand on their own: they never import the test suite."""

import ast
from pathlib import Path

INFRA = Path(__file__).resolve().parents[2] / "infra"


def _imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_no_infra_module_imports_the_tests():
    offenders = {
        path.name: sorted(name for name in _imported_modules(path) if name == "tests" or name.startswith("tests."))
        for path in sorted(INFRA.glob("*.py"))
    }
    assert len(offenders) > 5, "infra/ should hold the bench, soak, build and publish scripts"
    assert {name: mods for name, mods in offenders.items() if mods} == {}
