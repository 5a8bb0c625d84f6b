"""Build the Lambda artifact without Docker: what `sam build` runs through `make build-PipelinesFunction`.

    python -m infra.build --artifacts-dir .aws-sam/build/PipelinesFunction --arch arm64 --pipelines pipelines

1. the locked runtime dependencies (requirements.lock) and the pipelines folder's own requirements.txt
   files, resolved together (infra/requirements.py), as manylinux wheels for the target architecture and
   CPython 3.13, whatever machine builds;
2. `handler/`, `core/`, and the pipelines folder as `pipelines/`;
3. strip what Lambda never reads (tests, type stubs, C headers and sources, caches, and two distributions
   the function never imports: UNUSED_ON_LAMBDA);
4. precompile every module to `.pyc` with this Python 3.13, in `unchecked-hash` mode: /var/task is
   read-only, so without them every cold start compiles everything again, and with timestamp checks a
   zip's file times could make Python distrust them; the largest libraries (BYTECODE_ONLY) ship as
   bytecode alone;
5. check the size: past 250 MB unzipped Lambda refuses the package (sam deploy uploads it through S3,
   so there is no zipped limit); the zipped size is reported, with a warning above 50 MB, because
   Lambda downloads and unpacks it at every cold start.
"""

from __future__ import annotations

import argparse
import compileall
import csv
import io
import os
import py_compile
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from infra.requirements import canonical_name, conflicts_with_lock, locked_pins, requirement_files, requirements_in

ROOT = Path(__file__).resolve().parent.parent
LOCK = ROOT / "requirements.lock"
CODE = ("handler", "core")
SOURCES = (*CODE, "pipelines")  # in the artifact; pipelines/ is copied from the folder given
PLATFORMS = {
    "arm64": ("manylinux_2_28_aarch64", "manylinux_2_17_aarch64", "manylinux2014_aarch64"),
    "x86_64": ("manylinux_2_28_x86_64", "manylinux_2_17_x86_64", "manylinux2014_x86_64"),
}
MB = 1024 * 1024  # Lambda counts its limits in MiB
MAX_UNZIPPED = 250 * MB  # Lambda's limit for a zip package, unzipped (code and layers), however uploaded
WARN_ZIPPED = 50 * MB  # Lambda's limit for a zip uploaded directly; via S3 it only costs cold-start time
STRIP_DIRS = {"tests", "test", "__pycache__"}
# botocore ships models for ~450 AWS services (17 MB zipped, a third of the budget). Keep the ones the
# function calls (S3 sources; SSM, Secrets Manager, X-Ray for production settings; Bedrock for wrappers;
# STS/SSO for the credential chain). A wrapper calling another service: add it here, or set
# KEEP_BOTOCORE_SERVICES=svc1,svc2 when building.
BOTOCORE_SERVICES = {
    "s3",
    "sts",
    "sso",
    "sso-oidc",
    "ssm",
    "secretsmanager",
    "xray",
    "bedrock",
    "bedrock-runtime",
    "lambda",
    "dynamodb",
    "sqs",
    "sns",
}
STRIP_SUFFIXES = {".pyi", ".h", ".c", ".pyx", ".pxd", ".pxi"}
# In the lock only because another distribution declares them, and never imported on Lambda (checked with a
# cold start, /run and MCP requests on the built artifact): mcp declares uvicorn for MCPServer.run(), its
# own HTTP server; click is uvicorn's command line. Present, they cost every cold start: `import httpx`
# imports click for its CLI (~25 ms CPU here), and sse_starlette imports uvicorn to patch its shutdown. In
# dependency order; kept when the pipelines folder's requirements name one, or bring a package needing it.
UNUSED_ON_LAMBDA = ("uvicorn", "click")
# The largest pure-Python libraries of the lock ship as bytecode only (`x.pyc` where `x.py` was): their
# sources are about 7 MB of the zipped artifact, downloaded and unpacked at every cold start. Reviewed: none
# reads its own source at run time (anyio does, to build its lazy exports: it keeps its sources). Tracebacks
# show file, line and function for their frames, without the line's text. Haystack, our code and the
# pipelines keep their sources. KEEP_PYTHON_SOURCES=1 (make build) keeps every source.
BYTECODE_ONLY = {
    "openai",
    "networkx",
    "numpy",
    "posthog",
    "aws-lambda-powertools",
    "pydantic",
    "botocore",
    "mcp",
    "aiohttp",
}
TASK_ROOT = "/var/task"  # where Lambda unpacks a zip package: the path sourceless frames name


class BudgetExceeded(SystemExit):
    pass


class RequirementsConflict(SystemExit):
    pass


def install_dependencies(target: Path, arch: str, requirements: list[Path] = ()) -> None:
    """requirements.lock and `requirements` in one pip resolution, for `arch`: a conflict fails the build."""
    problems = conflicts_with_lock(list(requirements), LOCK)
    if problems:
        raise RequirementsConflict("pipeline requirements conflict with the runtime lock:\n  " + "\n  ".join(problems))
    command = [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "--no-compile",
        "--target",
        str(target),
        "--only-binary=:all:",
        "--python-version",
        "3.13",
        "--implementation",
        "cp",
        "-r",
        str(LOCK),
    ]
    for file in requirements:
        command += ["-r", str(file)]
    for platform in PLATFORMS[arch]:
        command[4:4] = ["--platform", platform]
    if subprocess.run(command).returncode != 0:
        named = ", ".join(str(f) for f in requirements)
        raise RequirementsConflict(
            f"pip could not install {LOCK.name}" + (f" together with {named}" if named else "") + f" for {arch}: "
            "its reason is above (a requirement that needs another version of a pinned package, or one "
            "with no manylinux wheel for Python 3.13 on this architecture)"
        )


def install_runtime(target: Path, arch: str, requirements: list[Path] = ()) -> int:
    """The function's third-party packages, as `make check` must see them too: install_dependencies, less the
    distributions Lambda never imports (unused_distributions). Returns the bytes that removed."""
    install_dependencies(target, arch, requirements)
    installed = distributions(target)
    return sum(remove_distribution(target, installed[name]) for name in unused_distributions(target, requirements))


def copy_sources(target: Path, pipelines: Path) -> None:
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in CODE:
        shutil.copytree(ROOT / name, target / name, ignore=ignore, dirs_exist_ok=True)
    if not pipelines.is_dir():
        raise SystemExit(f"the pipelines folder {pipelines} is not a directory (PIPELINES=path)")
    shutil.copytree(pipelines, target / "pipelines", ignore=ignore, dirs_exist_ok=True)


def distributions(target: Path) -> dict[str, Path]:
    """canonical name -> .dist-info folder, of what pip installed into `target`."""
    found = {}
    for info in target.glob("*.dist-info"):
        name = info.name.removesuffix(".dist-info").rsplit("-", 1)[0]
        found[canonical_name(name)] = info
    return found


def required_names(info: Path) -> set[str]:
    """Canonical names in the distribution's Requires-Dist lines, whatever their markers (extras included)."""
    metadata = info / "METADATA"
    lines = metadata.read_text(errors="replace").splitlines() if metadata.is_file() else []
    names = set()
    for line in lines:
        if line.startswith("Requires-Dist:"):
            spec = line.removeprefix("Requires-Dist:").strip()
            names.add(canonical_name(re.match(r"[A-Za-z0-9._-]+", spec).group(0)))
    return names


def unused_distributions(target: Path, requirements: list[Path] = ()) -> list[str]:
    """The UNUSED_ON_LAMBDA distributions installed in `target` that nothing of the pipelines folder needs:
    not named by its requirements, not required by a package its requirements brought (not in the lock),
    nor by another of them that stays."""
    named = {canonical_name(r.name) for file in requirements for _, r in requirements_in(file)}
    locked = set(locked_pins(LOCK))
    installed = distributions(target)
    kept = {name for name in installed if name not in locked} | (named & set(UNUSED_ON_LAMBDA))
    unused = []
    for name in UNUSED_ON_LAMBDA:
        if name not in installed or name in kept:
            continue
        if any(name in required_names(installed[other]) for other in kept if other in installed):
            kept.add(name)
        else:
            unused.append(name)
    return unused


def remove_distribution(target: Path, info: Path) -> int:
    """Delete the files its RECORD lists (inside `target`), the folders left empty, and its metadata."""
    removed = 0
    root = target.resolve()
    folders = set()
    for row in csv.reader((info / "RECORD").read_text().splitlines()):
        path = (target / row[0]).resolve() if row else None
        if path is None or not path.is_relative_to(root) or not path.is_file():
            continue
        removed += path.stat().st_size
        path.unlink()
        folders.update(p for p in path.parents if p != root and p.is_relative_to(root))
    for folder in sorted(folders, key=lambda p: len(p.parts), reverse=True):
        cache = folder / "__pycache__"
        if cache.is_dir() and not any(cache.iterdir()):
            cache.rmdir()
        if folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()
    if info.is_dir():
        removed += sum(f.stat().st_size for f in info.rglob("*") if f.is_file())
        shutil.rmtree(info)
    return removed


def strip(target: Path) -> int:
    removed = 0
    for path in sorted(target.rglob("*"), key=lambda p: len(p.parts), reverse=True):
        if not path.exists():
            continue
        relative = path.relative_to(target)
        if relative.parts[0] in SOURCES:
            continue  # our own code ships as written
        if path.is_dir() and path.name in STRIP_DIRS:
            removed += sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
            shutil.rmtree(path)
        elif path.is_file() and (path.suffix in STRIP_SUFFIXES or path.name == "py.typed"):
            removed += path.stat().st_size
            path.unlink()
    models = target / "botocore" / "data"
    keep = BOTOCORE_SERVICES | {s.strip() for s in os.environ.get("KEEP_BOTOCORE_SERVICES", "").split(",") if s}
    if models.is_dir():
        for service in models.iterdir():
            if service.is_dir() and service.name not in keep:
                removed += sum(f.stat().st_size for f in service.rglob("*") if f.is_file())
                shutil.rmtree(service)
    for bin_dir in (target / "bin",):  # console scripts: Lambda never runs them
        if bin_dir.is_dir():
            removed += sum(f.stat().st_size for f in bin_dir.rglob("*") if f.is_file())
            shutil.rmtree(bin_dir)
    return removed


def bytecode_only_folders(target: Path) -> list[Path]:
    """Top-level folders whose every module belongs to a BYTECODE_ONLY distribution (unless
    KEEP_PYTHON_SOURCES is set): a folder shared with another distribution (a namespace) keeps its sources."""
    if os.environ.get("KEEP_PYTHON_SOURCES", "") not in ("", "0"):
        return []
    owners: dict[str, set[str]] = {}
    for name, info in distributions(target).items():
        for row in csv.reader((info / "RECORD").read_text().splitlines()):
            if row and row[0].endswith(".py") and "/" in row[0] and not row[0].startswith(".."):
                owners.setdefault(row[0].split("/", 1)[0], set()).add(name)
    return [target / top for top, names in sorted(owners.items()) if names <= BYTECODE_ONLY and top not in SOURCES]


def precompile(target: Path) -> None:
    if sys.version_info[:2] != (3, 13):
        raise SystemExit(
            f"build with Python 3.13 (Lambda's python3.13), not {sys.version.split()[0]}: "
            "the .pyc files are only used by the same minor version"
        )
    for folder in bytecode_only_folders(target):  # x.pyc beside x.py, then without it; frames name /var/task
        ok = compileall.compile_dir(
            str(folder),
            quiet=2,
            workers=0,
            legacy=True,
            ddir=f"{TASK_ROOT}/{folder.name}",
            invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
        )
        if not ok:
            raise SystemExit(f"compileall failed in {folder.name}: a module in the artifact does not compile")
        for source in folder.rglob("*.py"):
            source.unlink()
    ok = compileall.compile_dir(
        str(target),
        quiet=2,
        workers=0,
        invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
        ddir=None,
    )
    if not ok:
        raise SystemExit("compileall failed: a module in the artifact does not compile")


def sizes(target: Path) -> tuple[int, int]:
    unzipped = sum(f.stat().st_size for f in target.rglob("*") if f.is_file())
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
        for file in sorted(target.rglob("*")):
            if file.is_file():
                archive.write(file, file.relative_to(target).as_posix())
    return unzipped, len(buffer.getvalue())


def check_budget(target: Path) -> tuple[int, int]:
    unzipped, zipped = sizes(target)
    arch_file = target / "BUILD_ARCH"
    arch = arch_file.read_text().strip() if arch_file.is_file() else "unknown architecture"
    print(
        f"artifact {target} ({arch}): {unzipped / MB:.1f} MB unzipped (Lambda's limit {MAX_UNZIPPED / MB:.0f}), "
        f"{zipped / MB:.1f} MB zipped"
    )
    if unzipped > MAX_UNZIPPED:
        raise BudgetExceeded(
            f"size budget exceeded: {unzipped / MB:.1f} MB unzipped > {MAX_UNZIPPED / MB:.0f} MB, Lambda refuses "
            "a zip package this size: drop requirements, or deploy a container image (README, Dependencies)"
        )
    if zipped > WARN_ZIPPED:
        print(
            f"warning: {zipped / MB:.1f} MB zipped > {WARN_ZIPPED / MB:.0f} MB: deployable (sam deploy uploads via "
            "S3), but Lambda downloads and unpacks every MB at each cold start",
            file=sys.stderr,
        )
    return unzipped, zipped


def build(target: Path, arch: str, pipelines: Path | None = None) -> tuple[int, int]:
    pipelines = (pipelines or ROOT / "pipelines").resolve()
    target.mkdir(parents=True, exist_ok=True)
    requirements = requirement_files(pipelines)
    if requirements:
        print(f"pipeline requirements: {', '.join(str(f) for f in requirements)}", file=sys.stderr)
    removed = install_runtime(target, arch, requirements)
    copy_sources(target, pipelines)
    removed += strip(target)
    print(f"stripped {removed / MB:.1f} MB Lambda never reads", file=sys.stderr)
    precompile(target)
    (target / "BUILD_ARCH").write_text(arch + "\n")
    return check_budget(target)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m infra.build", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--artifacts-dir",
        type=Path,
        default=os.environ.get("ARTIFACTS_DIR"),
        help="where to build (sam build passes ARTIFACTS_DIR)",
    )
    parser.add_argument(
        "--arch",
        choices=sorted(PLATFORMS),
        default=None,
        help="Lambda architecture (default: the function's, as sam build resolved it; else arm64)",
    )
    parser.add_argument(
        "--pipelines",
        type=Path,
        default=Path(os.environ.get("PIPELINES") or ROOT / "pipelines"),
        help="the pipelines folder to package, with its requirements.txt files (default: $PIPELINES or pipelines/)",
    )
    parser.add_argument("--check-only", action="store_true", help="only check the size budget of a built artifact")
    args = parser.parse_args(argv)
    if args.artifacts_dir is None:
        parser.error("--artifacts-dir (or ARTIFACTS_DIR) is required")
    if args.check_only:
        check_budget(args.artifacts_dir)
    else:
        build(args.artifacts_dir, resolve_arch(args.arch, function_architecture(args.artifacts_dir)), args.pipelines)
    return 0


def function_architecture(artifacts_dir: Path, function: str = "PipelinesFunction") -> str | None:
    """The architecture `sam build` resolved for the function (template, samconfig.toml and
    --parameter-overrides), from the build graph it writes before it builds (.aws-sam/build.toml, beside
    the build folder). SAM passes a Makefile build only ARTIFACTS_DIR; this is where the rest is."""
    import tomllib

    graph = Path(artifacts_dir).resolve().parent.parent / "build.toml"
    try:
        definitions = tomllib.loads(graph.read_text()).get("function_build_definitions", {})
    except (OSError, tomllib.TOMLDecodeError):
        return None
    for definition in definitions.values():
        if function in definition.get("functions", []):
            return definition.get("architecture")
    return None


def resolve_arch(asked: str | None, function_arch: str | None) -> str:
    """Build for the function's architecture; an explicit one that differs fails, naming both."""
    if asked and function_arch and asked != function_arch:
        raise SystemExit(
            f"asked to build for {asked} (ARCH / --arch) but the function's architecture is {function_arch} "
            f"(template parameter Architecture): run `make build ARCH={function_arch}`, or "
            f"`sam build --parameter-overrides Architecture={asked}`"
        )
    if function_arch and function_arch not in PLATFORMS:
        raise SystemExit(f"the function's architecture {function_arch!r} is not one of {', '.join(PLATFORMS)}")
    return asked or function_arch or "arm64"


if __name__ == "__main__":
    sys.exit(main())
