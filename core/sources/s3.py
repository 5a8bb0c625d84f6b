"""Pipelines from S3, fetched at cold start into /tmp, verified, within a time budget.

Two layouts (`HAYHOOKS_PIPELINES_S3_URI`):

* a prefix, `s3://bucket/pipelines/v7/`, whose objects mirror a pipelines folder. With a
  `manifest.json` (written by `infra/publish.py`) exactly the listed files are fetched and each is
  checked against its size and sha256 (and read no further than that size); without one every object
  under the prefix is fetched.
* a bundle, `s3://bucket/pipelines/v7.zip`, optionally pinned to an object version
  (`...v7.zip?versionId=...`): one GET. A `manifest.json` inside is checked the same way.

A version name made by `infra/publish.py` ends in the manifest's digest, so the name pins the manifest,
which pins every file: a mismatch refuses the source. Other names (older publishes, hand-made prefixes)
load unpinned, with a warning, since their objects can change between two cold starts; a bundle's
`?versionId=` pins it whatever its name.

botocore is imported only here, so a function without an S3 source never pays for it. The client is the
standard one: region, credentials, `AWS_ENDPOINT_URL_S3`, `AWS_RETRY_MODE` / `AWS_MAX_ATTEMPTS` all come
from the usual AWS configuration.
"""

from __future__ import annotations

import shutil
import tempfile
import time
import uuid
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from pathlib import Path
from typing import Any

from core.sources import SourceError, SourceReport
from core.sources.archive import UnsafeArchive, read_zip, write_atomic
from core.sources.manifest import (
    MANIFEST_NAME,
    NAME_DIGEST_LENGTH,
    Manifest,
    ManifestError,
    path_conflict,
    pinned_digest,
    pipeline_of,
    safe_relative_path,
    sha256_of,
)
from core.sources.s3_uri import S3Location

DEFAULT_ROOT = Path(tempfile.gettempdir()) / "haystack-lambda"
_MANIFEST_CAP = 16 * 1024 * 1024


class _TimeBudget:
    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.end = time.monotonic() + seconds

    def remaining(self) -> float:
        return self.end - time.monotonic()


class S3Source:
    def __init__(
        self,
        location: S3Location,
        *,
        timeout_s: float = 6.0,
        max_bytes: int = 200 * 1024 * 1024,
        concurrency: int = 16,
        root: Path = DEFAULT_ROOT,
        client: Any = None,
    ) -> None:
        self.location = location
        self.timeout_s = timeout_s
        self.max_bytes = max_bytes
        self.concurrency = concurrency
        self.root = root
        self._client = client

    def client(self) -> Any:
        if self._client is None:
            # botocore, not boto3: the same configuration chain, about 35 ms less import and setup
            import botocore.session
            from botocore.config import Config

            self._client = botocore.session.get_session().create_client(
                "s3",
                config=Config(
                    connect_timeout=min(2.0, self.timeout_s),
                    read_timeout=self.timeout_s,
                    max_pool_connections=self.concurrency,
                ),
            )
        return self._client

    def fetch(self) -> SourceReport:
        """Download into a fresh folder under /tmp; SourceError (naming the object) if the source fails."""
        started = time.monotonic()
        report = SourceReport(kind="s3", uri=self.location.uri)
        target = self.root / f"s3-{uuid.uuid4().hex[:12]}"
        target.mkdir(parents=True)
        deadline = _TimeBudget(self.timeout_s)
        try:
            if self.location.is_bundle:
                self._fetch_bundle(target, report, deadline)
            else:
                self._fetch_prefix(target, report, deadline)
        except SourceError:
            shutil.rmtree(target, ignore_errors=True)
            raise
        except Exception as exc:  # a bug or the disk: still one line, and no local path (it reaches /status)
            shutil.rmtree(target, ignore_errors=True)
            raise SourceError(f"{self.location.uri}: the S3 fetch failed: {_without_paths(exc)}") from None
        for name in report.rejected:
            _remove_pipeline(target, name)
        report.directory = target
        report.ms = (time.monotonic() - started) * 1000
        return report

    # -- bundle ---------------------------------------------------------------------------------------

    def _fetch_bundle(self, target: Path, report: SourceReport, deadline: _TimeBudget) -> None:
        loc = self.location
        kwargs = {"Bucket": loc.bucket, "Key": loc.key}
        if loc.version_id:
            kwargs["VersionId"] = loc.version_id
        data = self._run(deadline, lambda: self._get_within_cap(kwargs, loc.uri, self.max_bytes))
        report.bytes = len(data)
        try:
            files = read_zip(data, max_bytes=self.max_bytes)
        except UnsafeArchive as exc:
            raise SourceError(f"bundle {loc.uri} refused: {exc}") from None
        manifest = self._manifest_from(files.pop(MANIFEST_NAME, None), loc.uri)
        named = self._check_name(manifest)
        # an object version is immutable too, whatever the name
        report.pinned = named or bool(loc.version_id)
        report.version = loc.name if named else manifest.version if manifest else loc.version_id
        if manifest:
            expected = {e.path: e for e in manifest.files}
            for path, entry in expected.items():
                content = files.get(path)
                problem = (
                    "is listed in the manifest but not in the bundle" if content is None else _mismatch(entry, content)
                )
                if problem:
                    self._reject(report, path, f"{loc.uri}!{path} {problem}")
            files = {p: c for p, c in files.items() if p in expected}
        for path, content in files.items():
            write_atomic(target, path, content)
        report.files = len(files)

    # -- prefix ---------------------------------------------------------------------------------------

    def _fetch_prefix(self, target: Path, report: SourceReport, deadline: _TimeBudget) -> None:
        loc = self.location
        manifest_key = {"Bucket": loc.bucket, "Key": loc.key + MANIFEST_NAME}
        raw = self._run(
            deadline,
            lambda: self._get_within_cap(manifest_key, loc.object_uri(MANIFEST_NAME), _MANIFEST_CAP, missing_ok=True),
        )
        manifest = self._manifest_from(raw, loc.uri)
        report.pinned = self._check_name(manifest)
        if manifest:
            report.version = loc.name if report.pinned else manifest.version
            wanted = [(e.path, e.size, e) for e in manifest.files]
        else:
            wanted = [(path, size, None) for path, size in self._run(deadline, self._list)]
            if not wanted:
                raise SourceError(f"{loc.uri}: no objects under this prefix (is the URI right? publish first)")
        total = sum(size for _, size, _ in wanted)
        if total > self.max_bytes:
            raise SourceError(
                f"{loc.uri}: {total} bytes to download, over the {self.max_bytes}-byte cap "
                "(HAYHOOKS_PIPELINES_S3_MAX_MB)"
            )

        def download(path: str, size: int, entry: Any) -> int:
            uri = loc.object_uri(path)
            # no object is read past the size the manifest (or the listing) gave it: the total stays
            # within the cap checked above, whatever the objects really hold
            try:
                content = self._get(
                    {"Bucket": loc.bucket, "Key": loc.key + path}, uri, size, missing_ok=entry is not None
                )
            except _TooLarge as exc:
                if entry is None:
                    raise SourceError(
                        f"{uri}: {exc.length} bytes, {size} when listed (changed while fetched)"
                    ) from None
                self._reject(report, path, f"{uri} {_size_mismatch(exc.length, entry.size)}")
                return 0
            if content is None:
                self._reject(report, path, f"{uri} is listed in the manifest but missing")
                return 0
            problem = _mismatch(entry, content) if entry is not None else None
            if problem:
                self._reject(report, path, f"{uri} {problem}")
                return 0
            write_atomic(target, path, content)
            return len(content)

        pool = ThreadPoolExecutor(max_workers=self.concurrency, thread_name_prefix="s3-fetch")
        try:
            futures = [pool.submit(download, *item) for item in wanted]
            done, pending = wait(futures, timeout=max(deadline.remaining(), 0), return_when=FIRST_EXCEPTION)
            for future in done:
                if future.exception() is not None:
                    raise future.exception()  # type: ignore[misc]
            if pending:
                raise SourceError(self._timeout_message(len(done), len(futures)))
            report.bytes = sum(f.result() for f in futures)
            report.files = sum(1 for f in futures if f.result())
        finally:
            pool.shutdown(wait=False, cancel_futures=True)

    def _list(self) -> list[tuple[str, int]]:
        loc = self.location
        found = []
        try:
            for page in self.client().get_paginator("list_objects_v2").paginate(Bucket=loc.bucket, Prefix=loc.key):
                for obj in page.get("Contents", []):
                    relative = obj["Key"][len(loc.key) :]
                    if not relative or relative.endswith("/"):
                        continue
                    try:
                        found.append((safe_relative_path(relative), obj["Size"]))
                    except ManifestError as exc:
                        raise SourceError(f"{loc.object_uri(relative)}: refused, {exc}") from None
        except SourceError:
            raise
        except Exception as exc:
            raise SourceError(_explain(exc, loc.uri, loc, listing=True)) from None
        if conflict := path_conflict([path for path, _ in found]):
            raise SourceError(f"{loc.object_uri(conflict[0])}: refused, it {conflict[1]}")
        return found

    # -- shared ---------------------------------------------------------------------------------------

    def _get_within_cap(self, kwargs: dict, uri: str, cap: int, *, missing_ok: bool = False) -> bytes | None:
        try:
            return self._get(kwargs, uri, cap, missing_ok=missing_ok)
        except _TooLarge as exc:
            setting = "" if cap == _MANIFEST_CAP else " (HAYHOOKS_PIPELINES_S3_MAX_MB)"
            raise SourceError(f"{uri}: {exc.length} bytes, over the {cap}-byte cap{setting}") from None

    def _get(self, kwargs: dict, uri: str, limit: int, *, missing_ok: bool = False) -> bytes | None:
        """The object's bytes; _TooLarge past `limit` (never reading more than one byte past it)."""
        try:
            response = self.client().get_object(**kwargs)
            length = response.get("ContentLength", 0)
            if length > limit:
                response["Body"].close()
                raise _TooLarge(length)
            data = response["Body"].read(limit + 1)
            if len(data) > limit:  # a body longer than its Content-Length said
                response["Body"].close()
                raise _TooLarge(len(data))
            return data
        except (SourceError, _TooLarge):
            raise
        except Exception as exc:
            if missing_ok and _code(exc) in ("NoSuchKey", "404"):
                return None
            raise SourceError(_explain(exc, uri, self.location)) from None

    def _run(self, deadline: _TimeBudget, call: Any) -> Any:
        """Run one S3 call within what is left of the budget."""
        pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="s3-fetch")
        try:
            future = pool.submit(call)
            done, _ = wait([future], timeout=max(deadline.remaining(), 0))
            if not done:
                raise SourceError(self._timeout_message(0, 1))
            return future.result()
        finally:
            pool.shutdown(wait=False, cancel_futures=True)

    def _timeout_message(self, done: int, total: int) -> str:
        return (
            f"{self.location.uri}: S3 did not answer within {self.timeout_s:g} s "
            f"(HAYHOOKS_PIPELINES_S3_TIMEOUT); {done} of {total} objects fetched"
        )

    def _manifest_from(self, raw: bytes | None, uri: str) -> Manifest | None:
        if raw is None:
            return None
        try:
            return Manifest.from_json(raw)
        except ManifestError as exc:
            raise SourceError(f"{uri}: {MANIFEST_NAME} refused: {exc}") from None

    def _check_name(self, manifest: Manifest | None) -> bool:
        """True if the version name pins this manifest; SourceError if it pins another (or one is missing).

        Without this, a file and its manifest overwritten in place would load as the published version.
        A name that pins nothing (published before names did, or chosen by hand) loads unpinned.
        """
        loc = self.location
        expected = pinned_digest(loc.name)
        if expected is None:
            return False
        if manifest is None:
            raise SourceError(f"{loc.uri}: {MANIFEST_NAME} is missing, but the version name pins one: refused")
        actual = manifest.digest()[:NAME_DIGEST_LENGTH]
        if actual != expected:
            raise SourceError(
                f"{loc.uri}: {MANIFEST_NAME} does not match the version name (its digest starts {actual}, the "
                f"name says {expected}): changed after publishing, refused"
            )
        return True

    def _reject(self, report: SourceReport, path: str, reason: str) -> None:
        name = pipeline_of(path)
        if name is None:  # a shared top-level file: every pipeline may depend on it
            raise SourceError(reason)
        report.rejected.setdefault(name, reason)


class _TooLarge(Exception):
    def __init__(self, length: int) -> None:
        self.length = length


def _size_mismatch(length: int, size: int) -> str:
    return f"is {length} bytes, the manifest says {size} (corrupt or changed after publishing)"


def _mismatch(entry: Any, content: bytes) -> str | None:
    if len(content) != entry.size:
        return _size_mismatch(len(content), entry.size)
    digest = sha256_of(content)
    if digest != entry.sha256:
        return (
            f"has sha256 {digest[:12]}…, the manifest says {entry.sha256[:12]}… (corrupt or changed after publishing)"
        )
    return None


def _remove_pipeline(target: Path, name: str) -> None:
    shutil.rmtree(target / name, ignore_errors=True)
    for suffix in (".yml", ".yaml"):
        (target / f"{name}{suffix}").unlink(missing_ok=True)


def _code(exc: Exception) -> str:
    response = getattr(exc, "response", None) or {}
    return str(response.get("Error", {}).get("Code", ""))


def _explain(exc: Exception, uri: str, loc: S3Location, *, listing: bool = False) -> str:
    """One line that says what went wrong with which object and what to do about it."""
    code = _code(exc)
    name = type(exc).__name__
    if code == "NoSuchBucket":
        return f"{loc.uri}: bucket '{loc.bucket}' does not exist"
    if code in ("NoSuchKey", "404", "NoSuchVersion"):
        return f"{uri}: object not found"
    if code in ("AccessDenied", "403", "AllAccessDisabled"):
        need = "s3:ListBucket on the bucket" if listing else "s3:GetObject" + ("Version" if loc.version_id else "")
        return f"{uri}: access denied; the function's role needs {need} for this prefix"
    if code in ("SlowDown", "Throttling", "ThrottlingException", "RequestLimitExceeded", "503"):
        return f"{uri}: S3 throttled the requests ({code}) and the retries ran out"
    if code in ("InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken", "InvalidToken"):
        return f"{uri}: the AWS credentials were refused ({code})"
    if name == "NoCredentialsError":
        return f"{uri}: no AWS credentials found"
    if name in ("ConnectTimeoutError", "ReadTimeoutError", "EndpointConnectionError", "ConnectionClosedError"):
        return f"{uri}: network error reaching S3 ({name}: {exc})"
    if code:
        return f"{uri}: S3 answered {code}: {getattr(exc, 'response', {}).get('Error', {}).get('Message', '')}"
    return f"{uri}: {_without_paths(exc)}"


def _without_paths(exc: Exception) -> str:
    """`Type: message`, leaving out the file names an OSError carries (local paths stay out of /status)."""
    if isinstance(exc, OSError) and exc.strerror:
        return f"{type(exc).__name__}: {exc.strerror}"
    return f"{type(exc).__name__}: {exc}"
