"""Gather every configured source into local folders: the package first, then S3 if configured."""

from __future__ import annotations

import logging
from typing import Any

from core.settings import Settings, SettingsError
from core.sources import SourceError, SourceReport

logger = logging.getLogger("core.sources")


def collect(settings: Settings, *, s3_client: Any = None) -> list[SourceReport]:
    """One report per source. A failed S3 source is reported (or, with HAYHOOKS_PIPELINES_STRICT, raised)."""
    reports: list[SourceReport] = []
    if settings.pipelines_dir.is_dir():
        reports.append(
            SourceReport(kind="package", uri=str(settings.pipelines_dir), pinned=True, directory=settings.pipelines_dir)
        )
    elif not settings.pipelines_s3_uri:
        raise SettingsError(f"HAYHOOKS_PIPELINES_DIR: '{settings.pipelines_dir}' is not a directory")

    if settings.pipelines_s3_uri:
        from core.sources.s3 import S3Source
        from core.sources.s3_uri import parse_s3_uri

        source = S3Source(
            parse_s3_uri(settings.pipelines_s3_uri),
            timeout_s=settings.pipelines_s3_timeout,
            max_bytes=settings.pipelines_s3_max_mb * 1024 * 1024,
            concurrency=settings.pipelines_s3_concurrency,
            client=s3_client,
        )
        try:
            reports.append(source.fetch())
        except SourceError as exc:
            if settings.pipelines_strict:
                raise SourceError(f"{exc} (HAYHOOKS_PIPELINES_STRICT is on: the cold start fails)") from None
            logger.error("Pipelines source failed, serving the others: %s", exc)
            reports.append(SourceReport(kind="s3", uri=source.location.uri, ok=False, error=str(exc)))
    return reports
