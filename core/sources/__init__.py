"""Where pipelines come from at cold start: the package (baked in) and, optionally, S3.

Each source ends as a local folder laid out like a pipelines folder; the loader does not know or care
where it came from. `SourceReport` is what `/status` says about each source.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


class SourceError(Exception):
    """A source could not provide its pipelines; the message names the source and the object at fault."""


@dataclass
class SourceReport:
    kind: str  # "package" | "s3"
    uri: str
    version: str | None = None
    pinned: bool = False
    ok: bool = True
    error: str | None = None
    files: int = 0
    bytes: int = 0
    ms: float = 0.0
    directory: Path | None = None
    # pipelines this source could not deliver intact (hash mismatch, missing object): name -> reason
    rejected: dict[str, str] = field(default_factory=dict)

    def as_status(self) -> dict[str, Any]:
        item: dict[str, Any] = {"kind": self.kind, "uri": self.uri, "ok": self.ok}
        if self.kind == "s3":
            item.update(
                version=self.version, pinned=self.pinned, files=self.files, bytes=self.bytes, ms=round(self.ms, 1)
            )
        if self.error:
            item["error"] = self.error
        return item
