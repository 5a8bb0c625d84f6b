"""Hayhooks 2.1.0's `examples/`, taken from its sdist at test time (the code is Hayhooks', not ours to copy).

`pip download` fetches the sdist once into `.cache/` (gitignored), where its SHA-256 is checked before
anything in it runs; `HAYHOOKS_SDIST=/path/to/hayhooks-2.1.0.tar.gz` uses a copy already at hand instead
(checked the same way). `deploy()` copies an example's pipeline folders into a pipelines directory, with
the import rule applied (or not) and the example's edits from `cases.EDITS`.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

VERSION = "2.1.0"
SHA256 = "87927cb5f4a48729b0d13a14f6e3ef37f18d8508e140e6ee4f8ec2dc97cf22e2"
CACHE = Path(__file__).resolve().parents[2] / ".cache" / f"hayhooks-{VERSION}"

# The README's rule: `hayhooks.X` and `hayhooks.server.X` become `core.X` (and `hayhooks` itself `core`).
_HAYHOOKS_IMPORT = re.compile(r"^(\s*)from hayhooks(?:\.server)?((?:\.\w+)*) import ", re.MULTILINE)


class EditDidNotApply(AssertionError):
    """An edit's text is not in the example any more: the sdist is not the one the edits were written for."""


def sdist() -> Path:
    """The verified sdist tarball, downloaded on first use."""
    given = os.environ.get("HAYHOOKS_SDIST")
    path = Path(given) if given else CACHE / f"hayhooks-{VERSION}.tar.gz"
    if not path.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        pip = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--no-binary", ":all:"]
        subprocess.run([*pip, "--dest", str(CACHE), f"hayhooks=={VERSION}"], check=True)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != SHA256:
        raise RuntimeError(f"{path}: SHA-256 {digest}, expected {SHA256} (hayhooks {VERSION} sdist)")
    return path


def examples_dir() -> Path:
    """`examples/` of the sdist, extracted once under `.cache/`."""
    target = CACHE / "examples"
    done = CACHE / ".examples-extracted"
    if not done.exists():
        shutil.rmtree(target, ignore_errors=True)
        prefix = f"hayhooks-{VERSION}/examples/"
        with tarfile.open(sdist()) as tar:
            members = [m for m in tar.getmembers() if m.name.startswith(prefix)]
            for member in members:
                member.name = member.name[len(f"hayhooks-{VERSION}/") :]
            tar.extractall(CACHE, members=members, filter="data")
        done.touch()
    return target


def apply_import_rule(source: str) -> str:
    return _HAYHOOKS_IMPORT.sub(lambda m: f"{m.group(1)}from core{m.group(2)} import ", source)


def apply_edits(relative: str, source: str, edits: dict[str, list[tuple[str, str]]], web: str) -> str:
    for old, new in edits.get(relative, []):
        if source.count(old) != 1:
            raise EditDidNotApply(f"{relative}: expected {old!r} once, found it {source.count(old)} times")
        source = source.replace(old, new.replace("{web}", web))
    return source


def deploy(
    pipelines: dict[str, str],
    dest: Path,
    *,
    edits: dict[str, list[tuple[str, str]]],
    web: str,
    import_rule: bool,
) -> Path:
    """Copy each `name: folder under examples/` into `dest/name`; Python files get the edits (and the rule)."""
    root = examples_dir()
    for name, folder in pipelines.items():
        for path in sorted((root / folder).rglob("*")):
            if path.is_dir() or "__pycache__" in path.parts:
                continue
            target = dest / name / path.relative_to(root / folder)
            target.parent.mkdir(parents=True, exist_ok=True)
            if path.suffix != ".py":
                shutil.copyfile(path, target)
                continue
            source = apply_edits(path.relative_to(root).as_posix(), path.read_text(), edits, web)
            target.write_text(apply_import_rule(source) if import_rule else source)
    return dest
