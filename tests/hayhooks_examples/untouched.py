"""Serve examples with their `from hayhooks… import`s untouched, in a process where `hayhooks` is not installed.

Run by tests/hayhooks_examples/test_hayhooks_examples.py in a fresh interpreter, because a process that has
imported the real `hayhooks` keeps it:

    python -m tests.hayhooks_examples.untouched RESULT.json EXAMPLE ...

The installed `hayhooks` package (the dev venv may have one) is hidden first, as on Lambda, whose package
has none, and the imports are prepared as the Lambda cold start prepares them (`handler.prepare_imports`:
light FastAPI and NetworkX). Writes one JSON object to RESULT.json (stdout carries the service's logs): per
example, its exchanges (normalised as in the suite) and, for each pipeline that failed to load, why.
"""

from __future__ import annotations

import importlib.util
import json
import sys
import tempfile
from importlib.abc import MetaPathFinder
from pathlib import Path


class HideInstalledHayhooks(MetaPathFinder):
    """Put first on sys.meta_path: `hayhooks` is not found on the path, as if not installed.

    Finders added in front of it later (this project's `hayhooks` alias) are still asked before it.
    """

    def find_spec(self, name, path=None, target=None):
        if name == "hayhooks" or name.startswith("hayhooks."):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None


def main(names: list[str]) -> dict:
    sys.meta_path.insert(0, HideInstalledHayhooks())
    try:
        importlib.util.find_spec("hayhooks")
    except ModuleNotFoundError:
        pass
    else:
        raise AssertionError("hayhooks is still importable")

    import handler

    handler.prepare_imports()  # as the Lambda cold start: light FastAPI and NetworkX, posthog deferred
    from tests.hayhooks_examples import ours
    from tests.hayhooks_examples.cases import EXAMPLES

    chosen = [e for e in EXAMPLES if e.name in names]
    results: dict[str, dict] = {}
    with ours.fakes() as web, tempfile.TemporaryDirectory(prefix="hh-untouched-") as tmp:
        for example in chosen:
            handler = ours.cold_start(example, web, Path(tmp) / example.name, import_rule=False)
            results[example.name] = {
                "exchanges": ours.ask(handler, example, web),
                "failed": {name: handler.registry.failure_detail(name) for name in handler.registry.failed},
            }
            ours.shut_down(handler)
    return results


if __name__ == "__main__":
    Path(sys.argv[1]).write_text(json.dumps(main(sys.argv[2:])))
