"""The lazy startup strategy's request side: a pending pipeline is loaded by the first request that runs it.

`HAYHOOKS_STARTUP_DEPLOY_STRATEGY=lazy` finds pipelines at cold start without importing them. Each one
found gets its `POST /{name}/run` route then, with every other route (`PendingRunRoute`): the route list
never changes after start-up. The first request the route matches loads the pipeline, then the route
answers through the run route built for it (or the failure route), as eagerly loaded pipelines answer. An
OpenAI-compatible call naming a pending pipeline loads it too (`ensure_loaded`, from the dispatch).

Loading happens in a worker thread, as at cold start, so a `setup()` may start event loops of its own
(`asyncio.run`), and under `make run` other requests keep being served; the worker only sets the built
route on this object (one reference assignment), never touches the app's route list. Routes sit inside
the middleware: an unauthenticated request never starts a load. Status requests never load anything.

OpenAPI: a pending pipeline is not in the document (its request model is only known once its wrapper is
imported); once loaded, it is, in its discovery-order place, so the document is the one the eager
strategies build (`PipelineApp.routes` in core/app.py shows the built route in this one's place).
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Match, Route
from starlette.types import Receive, Scope, Send

from core.registry import Registry


async def ensure_loaded(registry: Registry, name: str) -> None:
    """Load `name` if it is pending; returns once it is loaded or failed (or was never pending)."""
    if name in registry.pending:
        await run_in_threadpool(registry.load_pending, name)


class PendingRunRoute(BaseRoute):
    """`POST /{name}/run` for a pipeline found but not loaded yet; `built` is its real route once loaded."""

    def __init__(self, name: str, registry: Registry) -> None:
        self.name = name
        self.registry = registry
        self.path = f"/{name}/run"
        self.include_in_schema = False  # until loaded: see `PipelineApp.routes`
        self.built: BaseRoute | None = None  # set by the registry's load listener (core/app.py)
        # matching only (path and method, as a run route matches); it never handles a request
        self._shape = Route(self.path, self._never, methods=["POST"], include_in_schema=False)

    @staticmethod
    async def _never(scope: Scope, receive: Receive, send: Send) -> None:  # pragma: no cover
        raise AssertionError("PendingRunRoute delegates every request")

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        built = self.built
        return (built or self._shape).matches(scope)

    def url_path_for(self, name: str, /, **path_params: str):  # type: ignore[override]
        return (self.built or self._shape).url_path_for(name, **path_params)

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.built is None and scope["method"] != "POST":
            await self._shape.handle(scope, receive, send)  # 405, as the built route answers; no load
            return
        if self.built is None:
            await ensure_loaded(self.registry, self.name)
        built = self.built
        if built is None and self.registry.get(self.name) is not None:
            raise HTTPException(status_code=404)  # loaded, without run_api: no run route, as at cold start
        if built is None:  # the load listener itself failed (logged by the registry)
            detail = self.registry.failure_detail(self.name) or f"Pipeline '{self.name}' could not be loaded"
            await JSONResponse({"detail": detail}, status_code=503)(scope, receive, send)
            return
        _, child_scope = built.matches(scope)  # the built route's endpoint and route, in the scope
        scope.update(child_scope)
        await built.handle(scope, receive, send)

    def __repr__(self) -> str:
        return f"PendingRunRoute({self.name!r}, built={self.built!r})"
