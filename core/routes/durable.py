"""Hayhooks' durable routes for one pipeline, on Lambda durable executions (core/durable_runs.py):
`POST /{name}/run-durable`, `GET …/executions/{id}`, `POST …/cancel`, `POST …/resume`, `GET …/stream`.

Every Lambda call is blocking botocore I/O, so it runs in the thread pool. No route waits for a run: the
stream route answers what the history holds and follows the run for a bounded time (API Gateway cuts a
request at 30 s), after which the client reconnects with `Last-Event-ID`, as SSE clients do.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Body, Header, HTTPException, Path, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse

from core.durable_attempt import durable_runner
from core.durable_runs import (
    EXECUTION_ID_PATTERN,
    TERMINAL,
    ExecutionNotFound,
    LambdaDurableRuns,
    execution_id_for,
    fingerprint,
    pending_callback,
    project,
    stream_chunks,
)

ExecutionId = Annotated[str, Path(pattern=EXECUTION_ID_PATTERN)]
_CURSOR = re.compile(r"^\d{1,9}-\d{1,9}$")
_SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
STREAM_FOLLOW_SECONDS = 8.0  # a request stays well inside API Gateway's 30 s; the client reconnects with Last-Event-ID
STREAM_POLL_SECONDS = 1.0


def durable_router(name: str, wrapper: object, runs: LambdaDurableRuns) -> APIRouter:
    """The five routes of one durable pipeline, under `/{name}`."""
    _method, request_model, _result_model = durable_runner(wrapper)
    resume_model = getattr(wrapper, "durable_resume_model", None)
    router = APIRouter(prefix=f"/{name}", tags=["durable executions"])

    def links(request: Request, execution_id: str) -> dict[str, str]:
        base = f"{request.scope.get('root_path', '')}/{name}/executions/{execution_id}"
        return {"self": base, "cancel": f"{base}/cancel", "resume": f"{base}/resume", "stream": f"{base}/stream"}

    async def read(execution_id: str) -> tuple[str, dict[str, Any], list[dict[str, Any]]]:
        try:
            arn = await run_in_threadpool(runs.find, execution_id)
        except ExecutionNotFound:
            raise HTTPException(status_code=404, detail="Execution not found") from None
        execution, events = await run_in_threadpool(runs.read, arn)
        started = _started_payload(events)
        if started.get("pipeline") != name:  # another pipeline's execution: not found under this name
            raise HTTPException(status_code=404, detail="Execution not found")
        return arn, execution, events

    async def record(request: Request, execution_id: str) -> dict[str, Any]:
        _arn, execution, events = await read(execution_id)
        return project(execution_id, execution, events, links(request, execution_id))

    async def submit(
        payload: request_model,  # type: ignore[valid-type]
        request: Request,
        response: Response,
        idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key", min_length=1)] = None,
    ) -> dict[str, Any]:
        if idempotency_key is not None and len(idempotency_key.encode()) > 512:
            raise HTTPException(status_code=422, detail="Idempotency-Key must be at most 512 UTF-8 bytes")
        body = payload.model_dump(mode="json")
        execution_id = execution_id_for(name, idempotency_key)
        if idempotency_key is not None:
            try:
                arn = await run_in_threadpool(runs.find, execution_id)
            except ExecutionNotFound:
                arn = None
            if arn is not None:
                execution, events = await run_in_threadpool(runs.read, arn)
                if _started_payload(events).get("fingerprint") != fingerprint(name, body):
                    raise HTTPException(status_code=409, detail="idempotency key is bound to different work")
                public = project(execution_id, execution, events, links(request, execution_id))
                response.status_code = 200 if public["status"] in TERMINAL else 202
                response.headers["Location"] = public["links"]["self"]
                response.headers["Idempotent-Replay"] = "true"
                return public
        await run_in_threadpool(runs.start, name, execution_id, body)
        public = await record(request, execution_id)
        response.status_code = 202
        response.headers["Location"] = public["links"]["self"]
        return public

    # under `from __future__ import annotations` these are strings naming locals FastAPI cannot resolve
    submit.__annotations__["payload"] = request_model

    async def inspect(execution_id: ExecutionId, request: Request) -> dict[str, Any]:
        return await record(request, execution_id)

    async def cancel(execution_id: ExecutionId, request: Request, response: Response) -> dict[str, Any]:
        arn, execution, events = await read(execution_id)
        if project(execution_id, execution, events, {})["status"] not in TERMINAL:
            await run_in_threadpool(runs.stop, arn)
        response.status_code = 200  # Lambda stops the execution at once: it is canceled when this answers
        return await record(request, execution_id)

    async def resume(execution_id: ExecutionId, request: Request, response: Response, answer: Any) -> dict[str, Any]:
        _arn, _execution, events = await read(execution_id)
        callback_id = pending_callback(events)
        if callback_id is None:
            raise HTTPException(status_code=409, detail="only waiting executions can resume")
        value = answer.model_dump(mode="json") if resume_model is not None else answer
        await run_in_threadpool(runs.answer_callback, callback_id, value)
        response.status_code = 202
        return await record(request, execution_id)

    if resume_model is not None:

        async def resume_typed(
            execution_id: ExecutionId,
            request: Request,
            response: Response,
            resume_input: Annotated[resume_model, Body()],  # type: ignore[valid-type]
        ) -> dict[str, Any]:
            return await resume(execution_id, request, response, resume_input)

        resume_typed.__annotations__["resume_input"] = Annotated[resume_model, Body()]
        resume_route = resume_typed
    else:

        async def resume_any(
            execution_id: ExecutionId, request: Request, response: Response, resume_input: Annotated[Any, Body()] = None
        ) -> dict[str, Any]:
            return await resume(execution_id, request, response, resume_input)

        resume_route = resume_any

    async def stream(
        execution_id: ExecutionId,
        request: Request,
        last_event_id: Annotated[str | None, Header(alias="Last-Event-ID")] = None,
    ) -> Response:
        if last_event_id is not None and not _CURSOR.match(last_event_id):
            raise HTTPException(status_code=422, detail="Last-Event-ID is not a cursor of this stream")
        await read(execution_id)  # 404 before the stream starts
        return StreamingResponse(
            _events(request, execution_id, last_event_id), media_type="text/event-stream", headers=_SSE_HEADERS
        )

    async def _events(request: Request, execution_id: str, after: str | None) -> AsyncIterator[str]:
        yield ": heartbeat\n\n"
        seen = _position(after)
        deadline = time.monotonic() + STREAM_FOLLOW_SECONDS
        while True:
            arn, execution, events = await read(execution_id)
            del arn
            for cursor, attempt, payload in stream_chunks(events):
                if _position(cursor) <= seen:
                    continue
                seen = _position(cursor)
                data = json.dumps({"attempt": attempt, "payload": payload}, ensure_ascii=False, separators=(",", ":"))
                yield f"id: {cursor}\nevent: chunk\ndata: {data}\n\n"
            public = project(execution_id, execution, events, links(request, execution_id))
            if public["status"] in TERMINAL:
                yield f"event: {public['status']}\ndata: {json.dumps(public, separators=(',', ':'))}\n\n"
                return
            if time.monotonic() >= deadline:
                return  # the client reconnects with Last-Event-ID
            yield ": heartbeat\n\n"
            await asyncio.sleep(STREAM_POLL_SECONDS)

    for path, endpoint, method, code in (
        ("/run-durable", submit, "POST", 202),
        ("/executions/{execution_id}", inspect, "GET", 200),
        ("/executions/{execution_id}/cancel", cancel, "POST", 202),
        ("/executions/{execution_id}/resume", resume_route, "POST", 202),
        ("/executions/{execution_id}/stream", stream, "GET", 200),
    ):
        router.add_api_route(path, endpoint, methods=[method], status_code=code)
    return router


def _position(cursor: str | None) -> tuple[int, int]:
    if cursor is None:
        return (0, -1)
    attempt, index = cursor.split("-")
    return (int(attempt), int(index))


def _started_payload(events: list[dict[str, Any]]) -> dict[str, Any]:
    for event in events:
        if event.get("EventType") == "ExecutionStarted":
            raw = event.get("ExecutionStartedDetails", {}).get("Input", {}).get("Payload")
            return json.loads(raw) if raw else {}
    return {}
