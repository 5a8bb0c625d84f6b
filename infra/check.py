"""`make check`: load a pipelines folder as Lambda will, before it is deployed.

    python -m infra.check pipelines/

1. The Python side of the Lambda package, for this machine's architecture: requirements.lock and the
   folder's requirements.txt files, installed as infra/build.py installs them (binary wheels for CPython
   3.13, resolved together), cached under .check/ by content.
2. In a bare Python 3.13 (.venv-runtime, Lambda's /var/runtime) with only that and this project's code on
   its path, as on Lambda (no dev tools, no Hayhooks): core's loader loads the folder, then every module the
   folder's code imports (infra/imports.py, including imports inside functions, which loading alone does
   not reach) is imported, and every name imported from it looked up.
3. Any module or name the package lacks, and any pipeline that fails to load, is reported with where it
   is used, and the exit status is 1.

The environment is passed on (secrets a wrapper's setup() reads, HAYHOOKS_ADDITIONAL_PYTHON_PATH), except
HAYHOOKS_PIPELINES_S3_URI: published folders are checked by `make publish`.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from infra.imports import Import, imports_of, site_modules
from infra.requirements import REQUIREMENTS_FILE, requirement_files

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / ".check"
RUNTIME_PYTHON = ROOT / ".venv-runtime/bin/python"

# Runs in the runtime Python: load the folder, then resolve each import. Prints one JSON line.
_PROBE = """
import importlib, json, sys
from core.loader import load_registry
from core.settings import Settings

registry = load_registry(Settings.from_env())
failed = [{"name": f.name, "stage": f.stage, "reason": f.reason} for f in registry.failed.values()]
unresolved = []
for index, item in enumerate(json.loads(sys.argv[1])):
    try:
        module = importlib.import_module(item["module"])
    except ImportError as exc:
        unresolved.append({"index": index, "error": f"{type(exc).__name__}: {exc}"})
        continue
    except Exception as exc:
        unresolved.append({"index": index, "error": f"importing it raised {type(exc).__name__}: {exc}"})
        continue
    for name in item["names"]:
        if name == "*" or hasattr(module, name):
            continue
        try:
            importlib.import_module(f"{item['module']}.{name}")
        except ImportError:
            unresolved.append({"index": index, "error": f"cannot import name {name!r} from {item['module']!r}"})
print(json.dumps({"loaded": sorted(registry.loaded), "failed": failed, "unresolved": unresolved}))
"""


class CheckError(Exception):
    pass


def host_arch() -> str:
    return "arm64" if platform.machine() in ("aarch64", "arm64") else "x86_64"


def runtime_site(requirements: list[Path], arch: str | None = None) -> Path:
    """requirements.lock plus `requirements`, installed for `arch` (default: this machine), cached by content."""
    from infra.build import LOCK, UNUSED_ON_LAMBDA, install_runtime

    arch = arch or host_arch()
    digest = hashlib.sha256(arch.encode() + LOCK.read_bytes() + " ".join(UNUSED_ON_LAMBDA).encode())
    for file in requirements:
        digest.update(b"\0" + file.read_bytes())
    site = CACHE / f"site-{arch}-{digest.hexdigest()[:16]}"
    if site.is_dir():
        return site
    CACHE.mkdir(exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix="installing-", dir=CACHE))
    try:
        print(f"installing the Lambda package's dependencies for {arch} into {site.relative_to(ROOT)}", file=sys.stderr)
        install_runtime(staging, arch, requirements)
        for old in CACHE.glob(f"site-{arch}-*"):  # one site per architecture is enough
            shutil.rmtree(old, ignore_errors=True)
        staging.rename(site)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return site


def package_modules(site: Path) -> set[str]:
    """Top-level modules the Lambda package holds: its dependencies and this project's code."""
    from infra.build import CODE

    return site_modules(site) | set(CODE)


def served_by_our_code(name: str) -> bool:
    """A top-level module this project's code provides under another name (an alias of core)."""
    import importlib.util

    from infra.build import CODE

    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return False
    origin = Path(spec.origin).resolve() if spec and spec.origin else None
    return origin is not None and any(origin.is_relative_to(ROOT / code) for code in CODE)


def _code_only(directory: Path) -> Path:
    """A folder with this project's code and nothing else from the checkout (no tests/, infra/, pipelines/)."""
    from infra.build import CODE

    for name in CODE:
        (directory / name).symlink_to(ROOT / name, target_is_directory=True)
    return directory


def _hint(item: Import, folder: Path) -> str:
    top = item.module.partition(".")[0]
    if top == "hayhooks":
        return "this project serves the Hayhooks imports it implements, not that one (README, Migrating from Hayhooks)"
    return (
        f"add the distribution that provides it to {folder.name}/{REQUIREMENTS_FILE} "
        f"(or {folder.name}/{item.pipeline}/{REQUIREMENTS_FILE})"
    )


def check(folder: Path) -> tuple[list[str], list[str]]:
    """(pipelines loaded, problems that would stop Lambda from serving the folder as it is)."""
    folder = folder.resolve()
    if not folder.is_dir():
        raise CheckError(f"{folder} is not a directory")
    if not RUNTIME_PYTHON.exists():
        raise CheckError(f"{RUNTIME_PYTHON} is missing: run make install")
    site = runtime_site(requirement_files(folder))
    imports = imports_of(folder)
    with tempfile.TemporaryDirectory(prefix="check-") as work:
        code = _code_only(Path(work))
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "HAYHOOKS_PIPELINES_S3_URI")}
        env.update(
            PYTHONPATH=f"{code}{os.pathsep}{site}",
            PYTHONDONTWRITEBYTECODE="1",  # nothing written into the user's folder
            HAYHOOKS_PIPELINES_DIR=str(folder),
            HAYHOOKS_STARTUP_DEPLOY_STRATEGY="parallel",  # lazy would load nothing
            HAYSTACK_TELEMETRY_ENABLED=env.get("HAYSTACK_TELEMETRY_ENABLED", "False"),
        )
        payload = json.dumps([{"module": i.module, "names": list(i.names)} for i in imports])
        proc = subprocess.run(
            [str(RUNTIME_PYTHON), "-c", _PROBE, payload],
            cwd=code,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
    try:
        result = json.loads(proc.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        raise CheckError(f"loading {folder} in the runtime Python failed:\n{proc.stderr.strip()[-3000:]}") from None
    problems = []
    for item in result["unresolved"]:
        imported = imports[item["index"]]
        statement = (
            f"from {imported.module} import {', '.join(imported.names)}"
            if imported.names
            else f"import {imported.module}"
        )
        problems.append(
            f"{imported.where(folder)}: `{statement}`: the Lambda package lacks it ({item['error']}); "
            + _hint(imported, folder)
        )
    for failure in result["failed"]:
        problems.append(f"pipeline '{failure['name']}' fails to load ({failure['stage']}): {failure['reason']}")
    if not result["loaded"] and not result["failed"]:
        problems.append(f"{folder} holds no pipelines")
    return result["loaded"], problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m infra.check", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("folder", type=Path, nargs="?", default=Path(os.environ.get("PIPELINES") or "pipelines"))
    parser.add_argument("--json", action="store_true", help="print the problems as a JSON list")
    args = parser.parse_args(argv)
    try:
        loaded, problems = check(args.folder)
    except (CheckError, SystemExit) as exc:
        if isinstance(exc, SystemExit) and not isinstance(exc.code, str):
            raise
        print(f"make check: {exc.code if isinstance(exc, SystemExit) else exc}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(problems))
    if problems:
        print(
            f"make check: {len(problems)} problem(s) in {args.folder}, what Lambda would meet at cold start:\n  "
            + "\n  ".join(problems),
            file=sys.stderr,
        )
        return 1
    print(f"make check: {args.folder} loads as Lambda will load it: {', '.join(loaded)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
