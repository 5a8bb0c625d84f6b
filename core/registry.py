"""What cold start produced: the pipelines that loaded and the ones that did not, with the reason."""

from __future__ import annotations

import logging
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from core.redact import redact
from core.run_spec import RunEndpointSpec
from core.sources import SourceReport

Kind = Literal["wrapper", "yaml"]
State = Literal["loaded", "pending", "failed"]

logger = logging.getLogger("core.registry")


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
    # what served its `from hayhooks … import`s: "core" (core/hayhooks_alias.py) or "hayhooks"; None: it has none
    hayhooks_imports: str | None = None
    durable: bool = False  # served with Hayhooks' durable routes (HAYHOOKS_DURABLE_MODE, core/routes/durable.py)


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
    """The pipelines of this environment. With the lazy strategy some start `pending`: found at cold start,
    loaded on first use (`load_pending`, from core/lazy.py), by one thread while any others wait."""

    loaded: dict[str, LoadedPipeline] = field(default_factory=dict)
    failed: dict[str, FailedPipeline] = field(default_factory=dict)
    sources: list[SourceReport] = field(default_factory=list)
    init_ms: float = 0.0
    pending: dict[str, Any] = field(default_factory=dict)  # name -> what `load` needs (a loader Candidate)
    load: Callable[[Any], LoadedPipeline | FailedPipeline] | None = None
    on_load: list[Callable[[LoadedPipeline | FailedPipeline], None]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def names(self) -> list[str]:
        """The pipelines loaded so far (Hayhooks' `/status` `pipelines`)."""
        return list(self.loaded)  # a copy made in one step: a lazy load may be adding to it in a thread

    def loaded_pipelines(self) -> list[LoadedPipeline]:
        return list(self.loaded.values())

    def failed_pipelines(self) -> list[FailedPipeline]:
        return list(self.failed.values())

    def states(self) -> dict[str, State]:
        """Every pipeline this environment knows, by name, with its state."""
        with self._lock:
            states: dict[str, State] = {name: "loaded" for name in self.loaded}
            states.update({name: "pending" for name in self.pending})
            states.update({name: "failed" for name in self.failed})
        return dict(sorted(states.items()))

    def get(self, name: str) -> LoadedPipeline | None:
        """A loaded pipeline; never loads one (see `load_pending`)."""
        return self.loaded.get(name)

    def load_pending(self, name: str) -> None:
        """Load a pending pipeline now (blocking); a no-op once it is loaded or failed.

        The pipeline leaves `pending` only after the listeners ran (its route exists), so a request that
        finds it no longer pending always finds its route.
        """
        with self._lock:
            candidate = self.pending.get(name)
            if candidate is None or self.load is None:
                return  # another request loaded it while this one waited
            try:
                result = self.load(candidate)
                if isinstance(result, LoadedPipeline):
                    self.loaded[name] = result
                    logger.info("Pipeline '%s' loaded on first use in %.0f ms", name, result.load_ms)
                else:
                    self.failed[name] = result
                    logger.error("Pipeline '%s' failed to load (%s): %s", name, result.stage, result.reason)
                for listener in self.on_load:
                    listener(result)
            except Exception as exc:  # a fault past the loader (a route that cannot be built): this pipeline's
                logger.exception("Pipeline '%s' could not be added after loading", name)
                self.loaded.pop(name, None)
                failed = FailedPipeline(
                    name,
                    candidate.kind,
                    candidate.path,
                    "load",
                    f"adding it failed: {type(exc).__name__}: {redact(str(exc))}",
                    redact(traceback.format_exc()),
                    source=candidate.source,
                    version=candidate.version,
                )
                self.failed[name] = failed
                for listener in self.on_load:
                    try:
                        listener(failed)
                    except Exception:
                        logger.exception("Pipeline '%s': could not add its failure route", name)
            finally:
                del self.pending[name]

    def failure_detail(self, name: str) -> str | None:
        """What a request for a pipeline that failed to load is told (None: it did not fail)."""
        failed = self.failed.get(name)
        return f"Pipeline '{name}' failed to load: {failed.reason}" if failed else None


_current: Registry | None = None  # the registry cold start built last: what Hayhooks' global `registry` shows


def set_current(registry: Registry) -> None:
    global _current
    _current = registry


def current() -> Registry | None:
    return _current
