"""A pipelines folder's own dependencies: which `requirements.txt` files it has, and whether they fit the lock.

The folder's `requirements.txt` and each pipeline folder's own (`<folder>/<pipeline>/requirements.txt`) are
one set: every pipeline runs in the same Python process, so they are installed together, resolved with
requirements.lock (the runtime pins). A requirement on a pinned package whose pin it excludes is reported
here naming both; a conflict deeper down is left to pip's resolver, whose message names the packages.
"""

from __future__ import annotations

import re
from pathlib import Path

try:  # the build runs on any Python 3.13, which has pip (it installs with it) but maybe not packaging
    from packaging.requirements import InvalidRequirement, Requirement
except ImportError:  # pragma: no cover - depends on the interpreter
    from pip._vendor.packaging.requirements import InvalidRequirement, Requirement

REQUIREMENTS_FILE = "requirements.txt"


def canonical_name(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_files(folder: Path) -> list[Path]:
    """The folder's requirements.txt first, then each pipeline folder's own, by name."""
    files = [folder / REQUIREMENTS_FILE] if (folder / REQUIREMENTS_FILE).is_file() else []
    if folder.is_dir():
        files += sorted(p for p in folder.glob(f"*/{REQUIREMENTS_FILE}") if p.is_file())
    return files


def locked_pins(lock: Path) -> dict[str, str]:
    """`name==version` lines of a pip freeze: canonical name -> version."""
    pins = {}
    for line in lock.read_text().splitlines():
        name, sep, version = line.split("#", 1)[0].strip().partition("==")
        if sep:
            pins[canonical_name(name)] = version.strip()
    return pins


def requirements_in(file: Path) -> list[tuple[int, Requirement]]:
    """(line number, requirement) for each requirement line; pip options (-r, --index-url, …) are pip's."""
    found = []
    for number, raw in enumerate(file.read_text().splitlines(), start=1):
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith(("#", "-")):
            continue
        try:
            found.append((number, Requirement(line)))
        except InvalidRequirement as exc:
            raise SystemExit(f"{file}:{number}: not a requirement pip understands: {line!r} ({exc})") from None
    return found


def conflicts_with_lock(files: list[Path], lock: Path) -> list[str]:
    """One message per requirement that excludes the version requirements.lock pins, naming both."""
    pins = locked_pins(lock)
    problems = []
    for file in files:
        for number, requirement in requirements_in(file):
            pinned = pins.get(canonical_name(requirement.name))
            if pinned is not None and not requirement.specifier.contains(pinned, prereleases=True):
                problems.append(
                    f"{file}:{number}: {requirement} conflicts with the runtime pin "
                    f"{requirement.name}=={pinned} in {lock.name}: the function has one {requirement.name}; "
                    "loosen the requirement (or change the pin with make lock, and test everything again)"
                )
    return problems
