"""Gather every configured source into local folders: the package first, then S3 if configured.

`begin()` starts the S3 fetch in a child process and returns at once, so the caller can import Haystack
while the download runs; `SourceCollection.result()` waits for it (never past the S3 time budget).
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.settings import Settings, SettingsError
from core.sources import SourceError, SourceReport

logger = logging.getLogger("core.sources")
_PACKAGE_PARENT = str(Path(__file__).resolve().parent.parent.parent)  # the folder that holds `core`


@dataclass
class SourceCollection:
    """The configured sources being collected: the package folder at once, S3 in a child process."""

    settings: Settings
    reports: list[SourceReport]
    child: subprocess.Popen | None = None
    s3_client: Any = None

    def result(self) -> list[SourceReport]:
        settings = self.settings
        if not settings.pipelines_s3_uri:
            return self.reports
        from core.sources.s3_uri import parse_s3_uri

        uri = parse_s3_uri(settings.pipelines_s3_uri).uri
        try:
            report = self._fetch_in_process() if self.child is None else self._wait_for_child(uri)
        except SourceError as exc:
            if settings.pipelines_strict:
                raise SourceError(f"{exc} (HAYHOOKS_PIPELINES_STRICT is on: the cold start fails)") from None
            logger.error("Pipelines source failed, serving the others: %s", exc)
            report = SourceReport(kind="s3", uri=uri, ok=False, error=str(exc))
        if report.ok and not report.pinned:
            logger.warning(_unpinned_warning(uri))
        return [*self.reports, report]

    def _fetch_in_process(self) -> SourceReport:
        return _s3_source(self.settings, client=self.s3_client).fetch()

    def _wait_for_child(self, uri: str) -> SourceReport:
        assert self.child is not None
        timeout = self.settings.pipelines_s3_timeout + 2.0  # the child enforces the budget; this is a backstop
        try:
            out, err = self.child.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.child.kill()
            self.child.communicate()
            raise SourceError(
                f"{uri}: S3 did not answer within {self.settings.pipelines_s3_timeout:g} s "
                "(HAYHOOKS_PIPELINES_S3_TIMEOUT)"
            ) from None
        try:
            answer = json.loads(out.strip().splitlines()[-1])
        except (ValueError, IndexError):
            # the traceback goes to the log, for the operator; /status gets one line without local paths
            logger.error("The S3 fetch process failed:\n%s", err.strip()[-2000:])
            raise SourceError(f"{uri}: the S3 fetch process failed (exit code {self.child.returncode})") from None
        if "error" in answer:
            raise SourceError(answer["error"])
        data = answer["report"]
        data["directory"] = Path(data["directory"])
        return SourceReport(**data)


def begin(settings: Settings, *, s3_client: Any = None) -> SourceCollection:
    """Start collecting. With an injected `s3_client` (tests) S3 is fetched in this process at `result()`."""
    reports: list[SourceReport] = []
    if settings.pipelines_dir.is_dir():
        reports.append(
            SourceReport(kind="package", uri=str(settings.pipelines_dir), pinned=True, directory=settings.pipelines_dir)
        )
    elif not settings.pipelines_s3_uri:
        raise SettingsError(f"HAYHOOKS_PIPELINES_DIR: '{settings.pipelines_dir}' is not a directory")
    collection = SourceCollection(settings, reports, s3_client=s3_client)
    if settings.pipelines_s3_uri and s3_client is None:
        collection.child = _start_child(settings)
    return collection


def _s3_source(settings: Settings, client: Any = None):
    from core.sources.s3 import DEFAULT_ROOT, S3Source
    from core.sources.s3_uri import parse_s3_uri

    return S3Source(
        parse_s3_uri(settings.pipelines_s3_uri),
        timeout_s=settings.pipelines_s3_timeout,
        max_bytes=settings.pipelines_s3_max_mb * 1024 * 1024,
        concurrency=settings.pipelines_s3_concurrency,
        root=DEFAULT_ROOT,
        client=client,
    )


def _start_child(settings: Settings) -> subprocess.Popen:
    from core.sources.s3 import DEFAULT_ROOT

    job = {
        "uri": settings.pipelines_s3_uri,
        "timeout_s": settings.pipelines_s3_timeout,
        "max_bytes": settings.pipelines_s3_max_mb * 1024 * 1024,
        "concurrency": settings.pipelines_s3_concurrency,
        "root": str(DEFAULT_ROOT),
    }
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (_PACKAGE_PARENT, env.get("PYTHONPATH", "")) if p)
    return subprocess.Popen(
        [sys.executable, "-m", "core.sources.child", json.dumps(job)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def _unpinned_warning(uri: str) -> str:
    return (
        f"Pipelines source {uri} is not pinned: its objects can change between two cold starts, so two "
        "Lambda environments may serve different pipelines. Publish with infra/publish.py (its version "
        "names pin the content) or pin the bundle with ?versionId=."
    )
