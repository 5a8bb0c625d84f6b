"""docs/architecture.md names modules: each one it names exists, so a rename cannot leave it pointing nowhere."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "architecture.md"


def _named_paths() -> set[str]:
    """`core/x.py`, `core/x`, `handler/y.Name` and `core/openai/` as the document writes them."""
    found = set()
    for match in re.finditer(r"`((?:core|handler)/[\w/.-]*)", DOC.read_text()):
        path = match.group(1)
        if not path.endswith((".py", "/")):
            path = path.split(".")[0]  # `core/app.create_app` -> core/app
        found.add(path)
    return found


def test_every_module_the_architecture_page_names_exists():
    named = _named_paths()
    assert len(named) > 30  # the page names the request and cold-start paths module by module
    missing = sorted(
        path
        for path in named
        if not (ROOT / path).exists() and not (ROOT / f"{path}.py").exists() and not (ROOT / path).is_dir()
    )
    assert missing == []


def test_the_readme_layout_links_it():
    assert "(docs/architecture.md)" in (ROOT / "README.md").read_text()
