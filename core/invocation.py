"""Calling a pipeline wrapper: the one path every entry takes (`/run`, the OpenAI endpoints, `/v1/files`,
and next streamed responses and MCP).

An entry turns its request into keyword arguments, and its protocol's answer out of what comes back;
everything between is here:

1. `resolve` finds the wrapper method for a pipeline name and a `Kind` (a pending pipeline of the lazy
   strategy is loaded first);
2. `guard` bounds a block by the invocation's remaining time (core/deadline.py) and turns whatever the
   block raises into an `InvocationError`;
3. `call` calls the method inline (on Lambda: one request at a time, a thread-pool hop buys nothing), in
   the thread pool (`make run`, as Hayhooks does) or awaited (async methods);
4. a stream result is gathered whole by `collect` (API Gateway delivers a response whole), or given
   chunk by chunk by `each_chunk`, each step guarded (an entry that sends chunks as they come).

`invoke()` is the four in one call, for an entry that needs nothing in between. The errors carry
Hayhooks' status code and `detail`, so an HTTP entry answers them as they are and another protocol (MCP)
maps them to its own.
"""

from __future__ import annotations

import inspect
import logging
import sys
import traceback
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Generator, Iterator, Mapping, MutableMapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from starlette.concurrency import iterate_in_threadpool, run_in_threadpool

from core.app_services import services_of
from core.deadline import Deadline, DeadlineExceeded, budget_seconds
from core.lazy import ensure_loaded
from core.redact import redact
from core.registry import LoadedPipeline, Registry
from core.request_context import current_pipeline, name_pipeline
from core.wrapper import implements

if TYPE_CHECKING:
    from fastapi import HTTPException
    from starlette.applications import Starlette

logger = logging.getLogger("core.invocation")

Kind = Literal["run", "chat", "responses", "file_upload"]

# kind -> (async method, sync method, what a wrapper without either is told); "run" is the route's choice
# made at load time (core/run_spec.py), so it is not looked up by name
_METHODS: dict[str, tuple[str, str, str]] = {
    "chat": ("run_chat_completion_async", "run_chat_completion", "Chat endpoint not implemented for this model"),
    "responses": ("run_response_async", "run_response", "Responses endpoint not implemented for this model"),
    "file_upload": ("run_file_upload_async", "run_file_upload", "Pipeline '{name}' does not implement run_file_upload"),
}
STREAM_TYPES = (Generator, AsyncGenerator)


class Chunks(list[Any]):
    """A stream result gathered whole: its chunks in order (a list the wrapper returned is not one)."""


class InvocationError(Exception):
    """A call that did not produce a value: `status_code` and `detail` are Hayhooks' HTTP answer."""

    status_code = 500

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class PipelineNotFound(InvocationError):
    status_code = 404


class PipelineUnavailable(InvocationError):
    """It failed to load; `detail` says why."""

    status_code = 503


class NotImplementedByPipeline(InvocationError):
    status_code = 501


class PipelineFailed(InvocationError):
    """The wrapper raised (or called `sys.exit()`); `cause` is what it raised."""

    def __init__(self, cause: BaseException) -> None:
        self.cause = cause
        self.message = redact(str(cause))  # it may quote a secret
        super().__init__(f"Pipeline execution failed: {self.message}")

    def traceback(self) -> str:
        return redact("".join(traceback.format_exception(self.cause)))


class DeadlineExpired(InvocationError):
    status_code = 504


class WrapperRefused(InvocationError):
    """The wrapper raised FastAPI's `HTTPException`: its own answer (Hayhooks passes it on as it is; its
    `detail` is masked here, as it may quote a secret). `exception` is that exception, to re-raise."""

    def __init__(self, exception: HTTPException) -> None:
        if isinstance(exception.detail, str):
            exception.detail = redact(exception.detail)
        super().__init__(exception.detail)
        self.exception = exception
        self.status_code = exception.status_code  # type: ignore[misc]


@dataclass(frozen=True)
class Target:
    """A wrapper method ready to call."""

    pipeline: str
    method: Callable[..., Any]
    is_async: bool
    takes_headers: bool


def target_of(pipeline: LoadedPipeline, kind: Kind) -> Target:
    """The method of a loaded pipeline for `kind`; `NotImplementedByPipeline` if its wrapper has none."""
    if kind == "run":
        spec = pipeline.run
        if spec is None:
            raise NotImplementedByPipeline(f"Pipeline '{pipeline.name}' does not implement run_api")
        return Target(pipeline.name, spec.method, spec.is_async, spec.wants_headers)
    async_name, sync_name, missing = _METHODS[kind]
    wrapper_cls = type(pipeline.wrapper)
    if implements(wrapper_cls, async_name):
        name, is_async = async_name, True
    elif implements(wrapper_cls, sync_name):
        name, is_async = sync_name, False
    else:
        raise NotImplementedByPipeline(missing.format(name=pipeline.name))
    method = getattr(pipeline.wrapper, name)
    if kind == "file_upload":
        is_async = is_async or inspect.iscoroutinefunction(method)  # an `async def run_file_upload` is awaited
        return Target(pipeline.name, method, is_async, False)  # Hayhooks passes no headers to an upload
    return Target(pipeline.name, method, is_async, "headers" in inspect.signature(method).parameters)


class Invoker:
    """How an app calls wrappers: `inline` calls sync ones on the event loop (Lambda), `margin_ms` is kept
    of the invocation's remaining time to send the answer."""

    def __init__(self, registry: Registry | None, *, inline: bool, margin_ms: int) -> None:
        self.registry = registry
        self.inline = inline
        self.margin_ms = margin_ms

    @classmethod
    def of(cls, app: Starlette) -> Invoker:
        services = services_of(app)
        return cls(services.registry, inline=services.sync_inline, margin_ms=services.settings.timeout_margin_ms)

    async def resolve(self, name: str, kind: Kind) -> Target:
        """`name`'s method for `kind`, loading it first if it is pending (lazy strategy)."""
        registry = self.registry
        assert registry is not None, "an Invoker without a registry calls targets it is given"
        await ensure_loaded(registry, name)
        pipeline = registry.get(name)
        if pipeline is None:
            if (reason := registry.failure_detail(name)) is not None:
                raise PipelineUnavailable(reason)
            raise PipelineNotFound(f"Pipeline '{name}' not found or not a pipeline wrapper")
        return target_of(pipeline, kind)

    def budget(self, scope: Mapping[str, Any] | None) -> float | None:
        """Seconds a call may take now: the Lambda context's remaining time less the margin; None off Lambda."""
        return None if scope is None else budget_seconds(scope, self.margin_ms)

    @asynccontextmanager
    async def guard(self, pipeline: str, scope: Mapping[str, Any] | None) -> AsyncIterator[None]:
        """The block within the invocation's remaining time; what it raises, as an `InvocationError`.

        A block that outlived the deadline is `DeadlineExpired` whatever it returned. `sys.exit()` in a
        wrapper is a failure like any other: it must not end the environment.
        """
        deadline = Deadline(self.budget(scope))
        try:
            async with deadline.limit():
                yield
        except InvocationError:
            raise
        except DeadlineExceeded:
            # the alarm repeats until `limit` disarms it: one can land in `limit`'s own exit, outside its catch
            deadline.expired = True
        except (Exception, SystemExit) as exc:
            if is_fastapi_http_exception(exc):
                raise WrapperRefused(exc) from None  # it is the answer, not its cause: re-raised as it is
            logger.exception("Pipeline '%s' failed", pipeline)
            raise PipelineFailed(exc) from exc
        if deadline.expired:
            logger.error("Pipeline '%s' ran out of time (%.0f ms)", pipeline, (deadline.seconds or 0) * 1000)
            raise DeadlineExpired(deadline.detail(pipeline))

    async def call(
        self, target: Target, kwargs: Mapping[str, Any], *, args: tuple[Any, ...] = (), headers: Any = None
    ) -> Any:
        """The method's result, unguarded (call it inside `guard`). `headers` reach a method that takes them."""
        if target.takes_headers:
            kwargs = {**kwargs, "headers": headers}
        if target.is_async:
            return await target.method(*args, **kwargs)
        if self.inline:
            return target.method(*args, **kwargs)
        return await run_in_threadpool(target.method, *args, **kwargs)

    def iterate(self, stream: Iterator[Any] | AsyncIterator[Any]) -> AsyncIterator[Any]:
        """One async view of a stream: a sync generator runs inline (Lambda) or in the thread pool."""
        if isinstance(stream, AsyncIterator):
            return stream
        if not self.inline:
            return iterate_in_threadpool(stream)
        return _inline(stream)

    async def each_chunk(
        self, stream: Iterator[Any] | AsyncIterator[Any], pipeline: str, scope: Mapping[str, Any] | None
    ) -> AsyncIterator[Any]:
        """The chunks of a stream as they come, each step guarded: for an entry that sends them as they
        come. Its answer has started, so a failure or the deadline half-way is raised here, as an
        `InvocationError`, for the entry to end its stream its own way."""
        chunks = self.iterate(stream)
        try:
            while True:
                async with self.guard(pipeline, scope):
                    try:
                        chunk = await anext(chunks)
                    except StopAsyncIteration:
                        return
                yield chunk
        finally:
            if (close := getattr(chunks, "aclose", None)) is not None:
                await close()

    async def collect(self, stream: Iterator[Any] | AsyncIterator[Any]) -> Chunks:
        """Every chunk of a stream (call it inside `guard`: a fault half-way is the call's failure)."""
        if self.inline and not isinstance(stream, AsyncIterator):
            return Chunks(stream)
        return Chunks([chunk async for chunk in self.iterate(stream)])

    async def invoke(
        self,
        pipeline: str,
        kind: Kind,
        kwargs: Mapping[str, Any],
        *,
        args: tuple[Any, ...] = (),
        scope: MutableMapping[str, Any] | None = None,
        headers: Any = None,
        whole: bool = True,
    ) -> Any:
        """Resolve, guard and call in one: the wrapper's value; a stream (generator) result is gathered
        into `Chunks` within the same deadline when `whole`, else returned as it is (for `each_chunk`).
        `scope` is the ASGI request's, if any: it holds the Lambda context (the deadline), and the request
        is named after the pipeline (log lines, metrics)."""
        target = await self.resolve(pipeline, kind)
        if scope is not None:
            name_pipeline(scope, pipeline)
        else:
            current_pipeline.set(pipeline)
        async with self.guard(pipeline, scope):
            result = await self.call(target, kwargs, args=args, headers=headers)
            if whole and isinstance(result, STREAM_TYPES):
                result = await self.collect(result)
        return result


def is_fastapi_http_exception(exc: BaseException) -> bool:
    """FastAPI's `HTTPException` (not Starlette's, as in Hayhooks), told without importing FastAPI: no wrapper
    can have raised it unless `fastapi.exceptions` is imported (core/front.py serves runs without FastAPI)."""
    module = sys.modules.get("fastapi.exceptions")
    return module is not None and isinstance(exc, module.HTTPException)


async def _inline(stream: Iterator[Any]) -> AsyncIterator[Any]:
    for item in stream:
        yield item


async def invoke(
    app: Any,
    pipeline: str,
    kind: Kind,
    kwargs: Mapping[str, Any],
    *,
    args: tuple[Any, ...] = (),
    scope: MutableMapping[str, Any] | None = None,
    headers: Any = None,
    whole: bool = True,
) -> Any:
    """Call `pipeline`'s `kind` method of the app (`create_app`'s) with `kwargs`, as the app's own routes
    do; see `Invoker.invoke`. Raises an `InvocationError` subclass when there is no value to return."""
    return await Invoker.of(app).invoke(pipeline, kind, kwargs, args=args, scope=scope, headers=headers, whole=whole)
