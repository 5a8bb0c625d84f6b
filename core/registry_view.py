"""`registry`: Hayhooks' pipeline registry (`hayhooks.server.pipelines.registry`), read-only.

Hayhooks keeps one registry per process, changed by deploy and undeploy. Here pipelines are fixed at
cold start, so this is a view of the registry cold start built: `get(name)` gives a loaded pipeline's
wrapper (None for one that failed, or is pending under the lazy strategy), `get_names()` the loaded names.
"""

from __future__ import annotations

from typing import Any

from core import registry as registries


class PipelineRegistryView:
    def _loaded(self) -> dict[str, Any]:
        current = registries.current()
        return dict(current.loaded) if current is not None else {}

    def get(self, name: str) -> Any:
        pipeline = self._loaded().get(name)
        return pipeline.wrapper if pipeline is not None else None

    def get_names(self) -> list[str]:
        return list(self._loaded())

    def get_metadata(self, name: str) -> dict[str, Any] | None:
        pipeline = self._loaded().get(name)
        if pipeline is None:
            return None
        run = pipeline.run
        return {
            "description": (run.description if run else None) or "",
            "request_model": run.request_model if run else None,
            "response_model": run.response_model if run else None,
            "requires_files": bool(run and run.requires_files),
            "source": pipeline.source,
        }

    def __contains__(self, name: str) -> bool:
        return name in self._loaded()

    def __len__(self) -> int:
        return len(self._loaded())

    def add(self, *args: Any, **kwargs: Any) -> None:
        raise RuntimeError("pipelines are loaded at cold start on haystack-lambda: the registry cannot be changed")

    remove = update_metadata = clear = add


registry = PipelineRegistryView()

__all__ = ["registry"]
