"""Publish a pipelines folder to S3 as a new, immutable version.

    python -m infra.publish team/ s3://my-bucket/pipelines/ --baked-in pipelines/            # a prefix version
    python -m infra.publish team/ s3://my-bucket/pipelines/ --baked-in pipelines/ --bundle   # one zip object

The folder is first checked (skip with --skip-validate): it is loaded locally exactly as the function
loads it, and every module its code imports must be in the deployed package (requirements.lock and the
baked-in folder's requirements.txt files, infra/check.py): a published folder cannot bring packages, so a
pipeline that fails to load or imports anything else stops the publish, naming the module. A pipeline
name that the baked-in folder (--baked-in, what `make build` packaged) also has stops it too: the
function would refuse to start with a pipeline in two sources. The version is written under the destination
(`<dest><version>/` or `<dest><version>.zip`) with a manifest of every file's size and sha256, and an
existing version is never overwritten. The last line printed is the value to deploy:

    HAYHOOKS_PIPELINES_S3_URI=s3://my-bucket/pipelines/2026-11-25T16-50-00Z-3f2a9c1e/

Credentials, region and endpoint come from the standard AWS configuration (profiles, environment,
`AWS_ENDPOINT_URL_S3`).
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import zipfile
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

from core.sources.manifest import MANIFEST_NAME, build_manifest, sha256_of
from core.sources.s3_uri import parse_s3_uri

IGNORED = ("__pycache__", ".git", ".DS_Store", ".venv")


class PublishError(Exception):
    pass


def _files(folder: Path) -> list[Path]:
    return sorted(
        p
        for p in folder.rglob("*")
        if p.is_file()
        and not any(part in IGNORED or part.startswith(".") for part in p.relative_to(folder).parts)
        and p.suffix not in (".pyc", ".pyo")
        and p.relative_to(folder).as_posix() != MANIFEST_NAME  # the published manifest takes that name
    )


def make_version(folder: Path, now: datetime) -> str:
    digest = sha256_of(b"".join(p.relative_to(folder).as_posix().encode() + p.read_bytes() for p in _files(folder)))
    return f"{now.strftime('%Y-%m-%dT%H-%M-%SZ')}-{digest[:8]}"


def overlap(folder: Path, baked_in: Path) -> list[str]:
    """Pipeline names both folders hold: the cold start refuses a pipeline in two sources."""
    from core.loader import discover

    if not baked_in.is_dir():
        return []
    if folder.resolve() == baked_in.resolve():
        return sorted(c.name for c in discover(folder)[0]) or ["(the same folder)"]
    names = {c.name for c in discover(folder)[0]}
    return sorted(names & {c.name for c in discover(baked_in)[0]})


def missing_imports(folder: Path, baked_in: Path | None) -> list[str]:
    """The folder's imports the deployed package lacks (a static scan: nothing of the folder is run)."""
    from infra.check import package_modules, runtime_site, served_by_our_code
    from infra.imports import imports_of, lacking
    from infra.requirements import requirement_files

    site = runtime_site(requirement_files(baked_in) if baked_in else [])
    imports = lacking(imports_of(folder), package_modules(site))
    return [
        f"{i.where(folder)}: imports {i.module}, which the deployed package lacks"
        for i in imports
        if not served_by_our_code(i.module.partition(".")[0])
    ]


def validate(folder: Path, baked_in: Path | None = None) -> None:
    """Load the folder as the function would; PublishError listing every pipeline that fails."""
    os.environ.setdefault("HAYSTACK_TELEMETRY_ENABLED", "False")
    from core.loader import load_registry
    from core.settings import Settings

    if baked_in is not None and (both := overlap(folder, baked_in)):
        raise PublishError(
            f"{', '.join(both)} also in the baked-in folder {baked_in}, nothing was uploaded: the function would "
            "refuse to start with a pipeline in two sources. Publish a folder of other pipelines (SRC=…), or "
            "remove them from one of the two"
        )
    missing = missing_imports(folder, baked_in)
    if missing:
        raise PublishError(
            "a published folder cannot bring packages, nothing was uploaded:\n  "
            + "\n  ".join(missing)
            + "\n  add them to the baked-in folder's requirements.txt, then make build and deploy first"
        )
    registry = load_registry(Settings(pipelines_dir=folder))
    if registry.failed:
        lines = "\n".join(f"  {f.name}: {f.reason}" for f in registry.failed.values())
        raise PublishError(f"{len(registry.failed)} pipeline(s) fail to load, nothing was uploaded:\n{lines}")
    if not registry.loaded:
        raise PublishError(f"{folder} holds no pipelines, nothing was uploaded")
    print(f"validated: {', '.join(registry.names())}", file=sys.stderr)


def publish(folder: Path, destination: str, *, bundle: bool, version: str | None = None, client=None) -> str:
    """Upload `folder` as a new version under `destination`; returns the S3 URI to deploy."""
    location = parse_s3_uri(destination)
    if location.is_bundle or location.version_id:
        raise PublishError(f"the destination must be a prefix ending in '/', got {destination!r}")
    if client is None:
        import boto3

        client = boto3.session.Session().client("s3")
    created = datetime.now(UTC)
    version = version or make_version(folder, created)
    manifest = build_manifest(folder, _files(folder), version, created.strftime("%Y-%m-%dT%H:%M:%SZ"))
    bucket = location.bucket

    if bundle:
        key = f"{location.key}{version}.zip"
        if _exists(client, bucket, key):
            raise PublishError(f"s3://{bucket}/{key} already exists: published versions are never overwritten")
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for entry in manifest.files:
                archive.writestr(entry.path, (folder / entry.path).read_bytes())
            archive.writestr(MANIFEST_NAME, manifest.to_json())
        response = client.put_object(Bucket=bucket, Key=key, Body=buffer.getvalue(), ContentType="application/zip")
        uri = f"s3://{bucket}/{key}"
        if response.get("VersionId") and response["VersionId"] != "null":
            uri += f"?versionId={response['VersionId']}"
    else:
        prefix = f"{location.key}{version}/"
        if client.list_objects_v2(Bucket=bucket, Prefix=prefix, MaxKeys=1).get("KeyCount", 0):
            raise PublishError(f"s3://{bucket}/{prefix} already exists: published versions are never overwritten")

        def upload(path: str) -> None:
            client.put_object(Bucket=bucket, Key=prefix + path, Body=(folder / path).read_bytes())

        with ThreadPoolExecutor(max_workers=16) as pool:
            list(pool.map(upload, [e.path for e in manifest.files]))
        # the manifest goes last: a version without one was interrupted and is never served as pinned
        client.put_object(
            Bucket=bucket, Key=prefix + MANIFEST_NAME, Body=manifest.to_json().encode(), ContentType="application/json"
        )
        uri = f"s3://{bucket}/{prefix}"
    print(f"published {len(manifest.files)} files as version {version}", file=sys.stderr)
    return uri


def _exists(client, bucket: str, key: str) -> bool:
    try:
        client.head_object(Bucket=bucket, Key=key)
        return True
    except Exception as exc:
        if getattr(exc, "response", {}).get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
            return False
        raise


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m infra.publish", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("folder", type=Path, help="the pipelines folder to publish (e.g. pipelines/)")
    parser.add_argument("destination", help="S3 prefix that holds the versions, e.g. s3://bucket/pipelines/")
    parser.add_argument("--bundle", action="store_true", help="upload one zip object instead of one object per file")
    parser.add_argument("--version", help="version name (default: UTC time and content hash)")
    parser.add_argument(
        "--baked-in",
        type=Path,
        help="the pipelines folder built into the package (make build's PIPELINES): names in both are refused, "
        "and its requirements.txt files count as installed",
    )
    parser.add_argument("--skip-validate", action="store_true", help="do not check and load the pipelines first")
    args = parser.parse_args(argv)

    folder = args.folder.resolve()
    if not folder.is_dir():
        parser.error(f"{args.folder} is not a directory")
    try:
        if not args.skip_validate:
            validate(folder, args.baked_in)
        uri = publish(folder, args.destination, bundle=args.bundle, version=args.version)
    except (PublishError, ValueError) as exc:
        print(f"publish failed: {exc}", file=sys.stderr)
        return 1
    print(f"deploy it with: sam deploy --parameter-overrides PipelinesS3Uri={uri}", file=sys.stderr)
    print(f"HAYHOOKS_PIPELINES_S3_URI={uri}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
