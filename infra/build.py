"""Build the Lambda artifact without Docker: what `sam build` runs through `make build-PipelinesFunction`.

    python -m infra.build --artifacts-dir .aws-sam/build/PipelinesFunction --arch arm64 --pipelines pipelines

1. the locked runtime dependencies (requirements.lock) and the pipelines folder's own requirements.txt
   files, resolved together (infra/requirements.py), as manylinux wheels for the target architecture and
   CPython 3.13, whatever machine builds;
2. `handler/`, `core/`, and the pipelines folder as `pipelines/`;
3. strip what Lambda never reads (tests, type stubs, C headers and sources, caches);
4. precompile every module to `.pyc` with this Python 3.13, in `unchecked-hash` mode: /var/task is
   read-only, so without them every cold start compiles everything again, and with timestamp checks a
   zip's file times could make Python distrust them;
5. check the size: past 250 MB unzipped Lambda refuses the package (sam deploy uploads it through S3,
   so there is no zipped limit); the zipped size is reported, with a warning above 50 MB, because
   Lambda downloads and unpacks it at every cold start.
"""

from __future__ import annotations

import argparse
import compileall
import io
import os
import py_compile
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from infra.requirements import conflicts_with_lock, requirement_files

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


def copy_sources(target: Path, pipelines: Path) -> None:
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in CODE:
        shutil.copytree(ROOT / name, target / name, ignore=ignore, dirs_exist_ok=True)
    if not pipelines.is_dir():
        raise SystemExit(f"the pipelines folder {pipelines} is not a directory (PIPELINES=path)")
    shutil.copytree(pipelines, target / "pipelines", ignore=ignore, dirs_exist_ok=True)


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


def precompile(target: Path) -> None:
    if sys.version_info[:2] != (3, 13):
        raise SystemExit(
            f"build with Python 3.13 (Lambda's python3.13), not {sys.version.split()[0]}: "
            "the .pyc files are only used by the same minor version"
        )
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
    print(
        f"artifact {target}: {unzipped / MB:.1f} MB unzipped (Lambda's limit {MAX_UNZIPPED / MB:.0f}), "
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
    install_dependencies(target, arch, requirements)
    copy_sources(target, pipelines)
    removed = strip(target)
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
