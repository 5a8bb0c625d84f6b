"""Fail the init with one line when the artifact was built for the other architecture.

`infra/build.py` writes the architecture it installed wheels for into `BUILD_ARCH` at the artifact's
root. Without this check an arm64 artifact on an x86_64 function (or the reverse) fails on the first
compiled module it imports, with an ImportError that names neither architecture. Standard library only,
and run before anything else is imported.
"""

from __future__ import annotations

import platform
from pathlib import Path

_MACHINES = {"aarch64": "arm64", "arm64": "arm64", "x86_64": "x86_64", "amd64": "x86_64"}


class ArchitectureMismatch(RuntimeError):
    pass


def check_architecture(build_arch_file: Path | None = None, machine: str | None = None) -> None:
    path = build_arch_file or Path(__file__).parent.parent / "BUILD_ARCH"
    try:
        built = path.read_text().strip()
    except OSError:
        return  # not a built artifact (a checkout, make run, tests): nothing to compare
    running = _MACHINES.get((machine or platform.machine()).lower(), machine or platform.machine())
    if built and built != running:
        raise ArchitectureMismatch(
            f"this artifact was built for {built} but the function runs on {running}: "
            f"rebuild with `sam build --parameter-overrides Architecture={running}` "
            f"or deploy with Architecture={built}"
        )
