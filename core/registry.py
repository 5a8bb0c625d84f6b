"""What cold start produced: the pipelines that loaded and the ones that did not, with the reason."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from core.models import RunEndpointSpec
from core.sources import SourceReport

Kind = Literal["wrapper", "yaml"]


@dataclass(frozen=True)
class LoadedPipeline:
    name: str
    kind: Kind
    path: Path
    wrapper: Any
    run: RunEndpointSpec | None  # None for wrappers with only chat / responses methods
    load_ms: float
    source: str = "package"  # "package" | "s3"
    version: str | None = None  # the published version it came from, when the source has one


@dataclass(frozen=True)
class FailedPipeline:
    name: str
    kind: Kind
    path: Path
    stage: str  # import | contract | setup | model | yaml | discover
    reason: str  # one line: what failed and why, never a traceback
    traceback: str | None = None
    source: str = "package"
    version: str | None = None

    def as_status(self, *, show_tracebacks: bool) -> dict[str, Any]:
        item: dict[str, Any] = {
            "name": self.name,
            "kind": self.kind,
            "stage": self.stage,
            "reason": self.reason,
            "source": self.source,
        }
        if show_tracebacks and self.traceback:
            item["traceback"] = self.traceback
        return item


@dataclass
class Registry:
    loaded: dict[str, LoadedPipeline] = field(default_factory=dict)
    failed: dict[str, FailedPipeline] = field(default_factory=dict)
    sources: list[SourceReport] = field(default_factory=list)
    init_ms: float = 0.0

    def names(self) -> list[str]:
        return list(self.loaded)

    def get(self, name: str) -> LoadedPipeline | None:
        return self.loaded.get(name)

    def failure_detail(self, name: str) -> str | None:
        """What a request for a pipeline that failed to load is told (None: it did not fail)."""
        failed = self.failed.get(name)
        return f"Pipeline '{name}' failed to load: {failed.reason}" if failed else None
