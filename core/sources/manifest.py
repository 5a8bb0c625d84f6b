"""The manifest of a published pipelines version: every file with its size and sha256.

Written by `infra/publish.py` next to the files (`manifest.json` at the root of the prefix or bundle),
read at cold start to verify each downloaded file. The format is plain JSON:

```json
{"format": 1, "version": "2026-11-25T16-50-00Z-3f2a9c1e04b7d2a65c8e1f03", "created": "2026-11-25T16:50:00Z",
 "files": [{"path": "search_docs/pipeline_wrapper.py", "size": 1234, "sha256": "…"}]}
```

The version name ends in the first 24 hex digits of the manifest's own digest (`version_name`), so the
name deployed in `HAYHOOKS_PIPELINES_S3_URI` pins the manifest, and the manifest pins every file: a file
and its manifest overwritten in place no longer match the name.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

MANIFEST_NAME = "manifest.json"
FORMAT = 1
_SHA256 = re.compile(r"[0-9a-fA-F]{64}")
# 96 bits: forging a manifest with the same leading digits is a second preimage of that size, far out of
# reach (8 digits, 32 bits, would take a GPU seconds)
NAME_DIGEST_LENGTH = 24
_PINNING_NAME = re.compile(rf".+-([0-9a-f]{{{NAME_DIGEST_LENGTH}}})")


class ManifestError(ValueError):
    pass


@dataclass(frozen=True)
class ManifestEntry:
    path: str
    size: int
    sha256: str


@dataclass(frozen=True)
class Manifest:
    version: str
    files: tuple[ManifestEntry, ...]
    created: str = ""

    def digest(self) -> str:
        """sha256 of the file list (paths, sizes, hashes; not the version or date): what a version name pins."""
        listing = [[e.path, e.size, e.sha256] for e in sorted(self.files, key=lambda e: e.path)]
        return sha256_of(json.dumps(listing, separators=(",", ":")).encode())

    def to_json(self) -> str:
        return json.dumps(
            {
                "format": FORMAT,
                "version": self.version,
                "created": self.created,
                "files": [{"path": e.path, "size": e.size, "sha256": e.sha256} for e in self.files],
            },
            indent=2,
        )

    @classmethod
    def from_json(cls, text: str | bytes) -> Manifest:
        try:
            data = json.loads(text)
            if data.get("format") != FORMAT:
                raise ManifestError(f"unsupported manifest format {data.get('format')!r} (expected {FORMAT})")
            files = tuple(_entry(f) for f in data["files"])
            if conflict := path_conflict([e.path for e in files]):
                raise ManifestError(f"'{conflict[0]}' {conflict[1]}")
            return cls(version=str(data["version"]), files=files, created=str(data.get("created", "")))
        except ManifestError:
            raise
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ManifestError(f"manifest is not valid: {exc}") from exc


def version_name(label: str, manifest: Manifest) -> str:
    """`<label>-<the first 24 hex digits of the manifest's digest>`: the name pins the content."""
    return f"{label}-{manifest.digest()[:NAME_DIGEST_LENGTH]}"


def pinned_digest(name: str) -> str | None:
    """The digest a version name pins (`version_name`), or None for a name that pins nothing (older
    publishes, hand-made prefixes)."""
    match = _PINNING_NAME.fullmatch(name)
    return match.group(1) if match else None


def _entry(item: dict) -> ManifestEntry:
    path, size, digest = safe_relative_path(item["path"]), item["size"], item["sha256"]
    # strict types: a size is what every download is held to, so "12", 1.5, True or -5 are refused
    if type(size) is not int or size < 0:
        raise ManifestError(f"'{path}' has size {size!r}: a size is a whole number of bytes, 0 or more")
    if not isinstance(digest, str) or not _SHA256.fullmatch(digest):
        raise ManifestError(f"'{path}' has sha256 {digest!r}: 64 hexadecimal digits expected")
    return ManifestEntry(path, size, digest.lower())


def safe_relative_path(name: str) -> str:
    """A relative POSIX path that stays inside its folder, or ManifestError."""
    if not name or "\\" in name or "\x00" in name:
        raise ManifestError(f"unsafe path {name!r}")
    path = PurePosixPath(name)
    if path.is_absolute() or any(part in ("..", "") for part in path.parts) or name.startswith("/"):
        raise ManifestError(f"path {name!r} would escape the pipelines folder")
    return path.as_posix()


def path_conflict(paths: list[str]) -> tuple[str, str] | None:
    """The first path that cannot be written beside the others, and why: written to disk, one would
    silently replace the other (a duplicate) or fail half-way (a file and a folder of one name)."""
    seen: set[str] = set()
    for path in paths:
        if path in seen:
            return path, "appears twice"
        seen.add(path)
    for path in paths:
        for parent in PurePosixPath(path).parents:
            if parent.as_posix() in seen:
                return path, f"is inside '{parent.as_posix()}', which is a file"
    return None


def pipeline_of(path: str) -> str | None:
    """The pipeline a file belongs to: its top folder, or the stem of a top-level YAML file."""
    parts = PurePosixPath(path).parts
    if len(parts) > 1:
        return parts[0]
    if parts[0].endswith((".yml", ".yaml")):
        return PurePosixPath(parts[0]).stem
    return None


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def build_manifest(folder: Path, files: list[Path], version: str, created: str) -> Manifest:
    """The manifest of `files` (paths inside `folder`), in the order given."""
    entries = []
    for file in files:
        data = file.read_bytes()
        entries.append(ManifestEntry(file.relative_to(folder).as_posix(), len(data), sha256_of(data)))
    return Manifest(version=version, files=tuple(entries), created=created)
