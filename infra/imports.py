"""What a pipelines folder imports, read from its source: nothing is imported or run.

Relative imports and modules that live in the pipeline's own folder are the folder's business and left out;
so are imports that may fail on purpose (under `try: … except ImportError`) and type-checking-only ones.
What remains must come from the Lambda package: the standard library, requirements.lock and the folder's
requirements, or this project's own code.
"""

from __future__ import annotations

import ast
import sys
from dataclasses import dataclass
from pathlib import Path

_OPTIONAL_ERRORS = {"ImportError", "ModuleNotFoundError", "Exception", "BaseException"}


@dataclass(frozen=True)
class Import:
    pipeline: str  # the pipeline folder or YAML-less module it belongs to: the first part of its path
    file: Path
    line: int
    module: str  # absolute and dotted: "trafilatura", "hayhooks.open_webui"
    names: tuple[str, ...] = ()  # for `from module import a, b`

    def where(self, folder: Path) -> str:
        return f"{folder.name}/{self.file.relative_to(folder).as_posix()}:{self.line}"


def _python_files(folder: Path) -> list[Path]:
    return sorted(
        p
        for p in folder.rglob("*.py")
        if not any(part.startswith(".") or part == "__pycache__" for part in p.relative_to(folder).parts)
    )


def _local_names(directory: Path) -> set[str]:
    """Modules and packages sitting in `directory`: an absolute import of one of them is in-folder."""
    return {p.stem if p.suffix == ".py" else p.name for p in directory.iterdir() if p.suffix == ".py" or p.is_dir()}


def _is_optional(handlers: list[ast.ExceptHandler]) -> bool:
    for handler in handlers:
        if handler.type is None:
            return True
        types = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
        if any(isinstance(t, ast.Name) and t.id in _OPTIONAL_ERRORS for t in types):
            return True
    return False


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


class _Collector(ast.NodeVisitor):
    def __init__(self) -> None:
        self.found: list[tuple[int, str, tuple[str, ...]]] = []

    def visit_Try(self, node: ast.Try) -> None:
        if not _is_optional(node.handlers):
            for child in node.body:
                self.visit(child)
        for child in [*node.handlers, *node.orelse, *node.finalbody]:
            self.visit(child)

    visit_TryStar = visit_Try

    def visit_If(self, node: ast.If) -> None:
        if _is_type_checking(node.test):
            for child in node.orelse:
                self.visit(child)
        else:
            self.generic_visit(node)

    def visit_Import(self, node: ast.Import) -> None:
        self.found.extend((node.lineno, alias.name, ()) for alias in node.names)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level == 0 and node.module:
            self.found.append((node.lineno, node.module, tuple(alias.name for alias in node.names)))


def imports_of(folder: Path) -> list[Import]:
    """Every absolute import in the folder's Python files that the folder itself does not provide."""
    folder = folder.resolve()
    root_names = _local_names(folder)
    result = []
    for file in _python_files(folder):
        try:
            tree = ast.parse(file.read_bytes(), filename=str(file))
        except SyntaxError:
            continue  # loading reports it, with the line
        collector = _Collector()
        collector.visit(tree)
        relative = file.relative_to(folder)
        pipeline = relative.parts[0].removesuffix(".py")
        local = root_names | _local_names(file.parent)
        if len(relative.parts) > 1:
            local |= _local_names(folder / relative.parts[0])
        for line, module, names in collector.found:
            if module.partition(".")[0] not in local:
                result.append(Import(pipeline, file, line, module, names))
    return result


def site_modules(site: Path) -> set[str]:
    """Top-level importable names in a `pip install --target` folder."""
    names = set()
    for entry in site.iterdir():
        if entry.is_dir():
            if not entry.name.endswith((".dist-info", ".data")) and entry.name not in ("__pycache__", "bin"):
                names.add(entry.name)
        elif entry.suffix in (".py", ".so", ".pyd"):
            names.add(entry.name.split(".", 1)[0])
    return names


def lacking(imports: list[Import], available: set[str]) -> list[Import]:
    """The imports whose top-level module is neither in `available` nor in the standard library."""
    return [i for i in imports if (top := i.module.partition(".")[0]) not in available and top not in _STDLIB]


_STDLIB = set(sys.stdlib_module_names) | {"__future__"}
