"""One `POST /{name}/run` call once its body is validated: the wrapper called through the Invoker, its result
shaped into what the route returns, a failure answered as Hayhooks does.

Both ways a run is served use it: the FastAPI route (core/routes/run.py) and the lean front
(core/front.py), so a run answers the same whichever served it. No FastAPI here.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from core.invocation import DeadlineExpired, Invoker, PipelineFailed, WrapperRefused, target_of
from core.registry import LoadedPipeline
from core.request_context import STREAMED, name_pipeline
from core.run_body import drain, is_stream, remove_temp_file_after_sending, stream


class RunCall:
    """A loaded pipeline's run, as its route calls it (built once per route, at start-up)."""

    def __init__(
        self, pipeline: LoadedPipeline, *, show_tracebacks: bool, sync_inline: bool, timeout_margin_ms: int = 500
    ) -> None:
        spec = pipeline.run
        assert spec is not None
        self.name = pipeline.name
        self.spec = spec
        self.show_tracebacks = show_tracebacks
        self.sync_inline = sync_inline
        self.target = target_of(pipeline, "run")
        self.invoker = Invoker(None, inline=sync_inline, margin_ms=timeout_margin_ms)

    async def __call__(self, run_req: BaseModel, request: Request) -> Any:
        """A Response, a response-model instance, or (no response model) the wrapper's value as it is.
        Raises the wrapper's own `HTTPException` (Hayhooks passes it on)."""
        name_pipeline(request.scope, self.name)
        invoker = self.invoker
        try:
            async with invoker.guard(self.name, request.scope):
                result = await invoker.call(self.target, run_req.model_dump(), headers=request.headers)
                # inside the guard, as in Hayhooks: a drained stream that fails half-way, or a result that
                # does not match the annotation, is a pipeline error
                return await self._shape(result, streamed=bool(request.scope.get(STREAMED)))
        except WrapperRefused as refused:
            raise refused.exception  # noqa: B904  (the wrapper's own exception, with its own cause)
        except PipelineFailed as failed:
            detail = failed.detail + (f"\n{failed.traceback()}" if self.show_tracebacks else "")
            return JSONResponse({"detail": detail}, status_code=500)
        except DeadlineExpired as expired:
            return JSONResponse({"detail": expired.detail}, status_code=504)

    async def _shape(self, result: Any, *, streamed: bool) -> Any:
        if isinstance(result, Response):
            return remove_temp_file_after_sending(result)
        if is_stream(result):
            # on Lambda a buffered answer is drained here, within the deadline; the streaming loop sends it as it comes
            inline = self.sync_inline and not streamed
            return await drain(result, self.invoker) if inline else stream(result)
        response_model = self.spec.response_model
        if response_model is None:
            return result
        return response_model(result=result)
