"""`HAYHOOKS_PIPELINES_S3_URI`: a prefix (`s3://bucket/pipelines/v7/`) or a bundle (`s3://bucket/v7.zip`)."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit


@dataclass(frozen=True)
class S3Location:
    bucket: str
    key: str  # a prefix ending in '/' (or empty), or a bundle's object key
    version_id: str | None = None

    @property
    def is_bundle(self) -> bool:
        return self.key.endswith(".zip")

    @property
    def name(self) -> str:
        """The version's name: the bundle's file name without `.zip`, or the prefix's last folder."""
        return self.key.rstrip("/").rsplit("/", 1)[-1].removesuffix(".zip")

    @property
    def uri(self) -> str:
        suffix = f"?versionId={self.version_id}" if self.version_id else ""
        return f"s3://{self.bucket}/{self.key}{suffix}"

    def object_uri(self, relative: str) -> str:
        return f"s3://{self.bucket}/{self.key}{relative}"


def parse_s3_uri(uri: str) -> S3Location:
    """`s3://bucket/prefix/` or `s3://bucket/key.zip[?versionId=...]`, else ValueError saying why."""
    parts = urlsplit(uri)
    if parts.scheme != "s3" or not parts.netloc:
        raise ValueError(f"must look like s3://bucket/prefix/ or s3://bucket/key.zip, got {uri!r}")
    key = parts.path.lstrip("/")
    query = parse_qs(parts.query)
    version_id = query.pop("versionId", [None])[0]
    if query or parts.fragment:
        raise ValueError(f"only ?versionId=... may follow the key, got {uri!r}")
    if key and not key.endswith("/") and not key.endswith(".zip"):
        raise ValueError(f"must end with '/' (a prefix) or '.zip' (a bundle), got {uri!r}")
    if version_id and not key.endswith(".zip"):
        raise ValueError(f"?versionId pins a bundle object; a prefix is pinned by its manifest.json, got {uri!r}")
    return S3Location(parts.netloc, key, version_id)
