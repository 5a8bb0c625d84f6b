"""`POST /v1/files` (and `/files`): OpenAI's file upload, as Hayhooks serves it.

The multipart `file` and `purpose` go to the first pipeline, by name, whose wrapper implements
`run_file_upload_async` or `run_file_upload(filename, content_type, content, purpose)`; the OpenAI file
object it returns (a dict) is the answer. OpenAI's request names no model, so one wrapper takes every
upload. When no wrapper implements it: 501 (Hayhooks answers 200 with an id nothing keeps; see
docs/decisions.md).

Hayhooks' errors: 422 (FastAPI's shape) for a missing or mistyped field, 400 for a broken multipart body,
a wrapper's `HTTPException` as is, 500 `File upload failed: ...` for anything else it raises or returns.
Ours besides: 413 for a file too large to reach the function on Lambda (`max_upload_bytes`), 503 when
the uploading pipeline failed to load lazily, 504 when it runs out of the invocation's time.

The form is parsed here rather than declared with FastAPI's `File()` and `Form()`: those build a body
model for the route at cold start (about 40 ms measured, against 1.5 ms for this module), paid by every
function whether it takes uploads or not. The answers are the same.
"""

from __future__ import annotations

import logging
from functools import cache
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import JSONResponse
from starlette.datastructures import UploadFile

from core.app_services import services_of
from core.invocation import Invoker, PipelineFailed, target_of
from core.lazy import ensure_loaded
from core.limits import largest_binary_body
from core.openai.dispatch import http_errors
from core.redact import redact
from core.registry import LoadedPipeline, Registry
from core.request_context import name_pipeline
from core.settings import Settings
from core.wrapper import FILE_UPLOAD_METHODS, implements

logger = logging.getLogger("core.openai")

router = APIRouter(tags=["openai"])

# Room for the multipart framing around the file (boundaries, part headers, the `purpose` field)
_FORM_FRAMING_BYTES = 1024

_FILE_OBJECT_SCHEMA = {
    "type": "object",
    "title": "FileObject",
    "required": ["id", "object", "bytes", "created_at", "purpose", "status"],
    "properties": {
        "id": {"type": "string", "description": "The file's id, for later requests to refer to"},
        "object": {"type": "string", "const": "file"},
        "bytes": {"type": "integer", "description": "Size of the file"},
        "created_at": {"type": "integer", "description": "Unix time of the upload"},
        "filename": {"type": ["string", "null"]},
        "purpose": {"type": "string"},
        "status": {"type": "string", "default": "processed"},
    },
    "additionalProperties": True,
}
_REQUEST_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file", "purpose"],
                    "properties": {
                        "file": {"type": "string", "format": "binary", "description": "The file"},
                        "purpose": {
                            "type": "string",
                            "minLength": 1,
                            "description": "What it is for, e.g. `user_data`",
                        },
                    },
                }
            }
        },
    }
}
_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The file object the wrapper's `run_file_upload` returned",
        "content": {"application/json": {"schema": _FILE_OBJECT_SCHEMA}},
    },
    400: {"description": "The multipart body cannot be parsed"},
    413: {"description": "The file is larger than an upload can be on Lambda (the detail says the limit)"},
    422: {"description": "`file` or `purpose` missing, or of the wrong kind"},
    500: {"description": "`run_file_upload` raised, or returned something that is not a file object"},
    501: {"description": "No pipeline implements `run_file_upload`: the file was not kept"},
    503: {"description": "The pipeline that takes uploads failed to load"},
    504: {"description": "The upload did not finish within the invocation's remaining time"},
}


def max_upload_bytes(settings: Settings) -> int:
    """The largest file `/v1/files` takes: what still reaches the function on Lambda, base64-encoded inside
    the request payload limit with the headers and the form's framing. Applied off Lambda too (`make run`),
    so an upload that works locally works when deployed."""
    body = largest_binary_body(settings.max_request_bytes, settings.max_header_bytes)
    return max(body - _FORM_FRAMING_BYTES, 0)


@router.post(
    "/v1/files",
    summary="Upload a file (OpenAI-compatible), kept by the wrapper that implements run_file_upload",
    openapi_extra=_REQUEST_BODY,
    responses=_RESPONSES,
    response_model=None,
)
@router.post("/files", include_in_schema=False, response_model=None)
async def create_file(request: Request) -> JSONResponse:
    async with request.form() as form:  # a broken multipart body: Starlette's 400, as in Hayhooks
        file, purpose, errors = _fields(form.get("file"), form.get("purpose"))
        if errors:
            return JSONResponse({"detail": errors}, status_code=422)
        assert file is not None and purpose is not None
        settings = services_of(request.app).settings
        limit = max_upload_bytes(settings)
        if (file.size or 0) > limit:
            return JSONResponse({"detail": _too_large(file.size or 0, limit)}, status_code=413)
        content = await file.read()
        filename, content_type = file.filename, file.content_type
    pipeline = await _uploader(services_of(request.app).registry)
    if pipeline is None:
        return _not_implemented(filename)
    name_pipeline(request.scope, pipeline.name)
    result = await _call(request, pipeline, (filename, content_type, content, purpose))
    return JSONResponse(_file_object(result, pipeline.name))


def _fields(file: Any, purpose: Any) -> tuple[UploadFile | None, str | None, list[dict[str, Any]]]:
    """The two form fields, or FastAPI's 422 errors for them (an empty string counts as missing)."""
    errors: list[dict[str, Any]] = []
    if file is None or file == "":
        errors.append(_missing("file"))
    elif isinstance(file, str):
        errors.append(
            {
                "type": "value_error",
                "loc": ["body", "file"],
                "msg": f"Value error, Expected UploadFile, received: {str}",
                "input": file,
                "ctx": {"error": {}},
            }
        )
    if purpose is None or purpose == "":
        errors.append(_missing("purpose"))
    elif not isinstance(purpose, str):
        errors.append(
            {
                "type": "string_type",
                "loc": ["body", "purpose"],
                "msg": "Input should be a valid string",
                "input": {"filename": purpose.filename, "size": purpose.size},
            }
        )
    if errors:
        return None, None, errors
    return file, purpose, []


def _missing(field: str) -> dict[str, Any]:
    return {"type": "missing", "loc": ["body", field], "msg": "Field required", "input": None}


def _too_large(size: int, limit: int) -> str:
    return (
        f"File too large: {size} bytes; /v1/files takes files of at most {limit} bytes. On Lambda an upload "
        "arrives base64-encoded (a third larger) with its headers inside the request payload limit "
        "(HAYHOOKS_MAX_REQUEST_BYTES, 6 MB); Lambda refuses a larger one before the function runs"
    )


async def _uploader(registry: Registry) -> LoadedPipeline | None:
    """The first pipeline by name that implements a file upload method; a pending one (lazy) is loaded to
    find out. A pipeline that failed to load is skipped, as Hayhooks never registered it."""
    for name, state in registry.states().items():
        if state == "failed":
            continue
        await ensure_loaded(registry, name)
        pipeline = registry.get(name)
        if pipeline is not None and any(implements(type(pipeline.wrapper), m) for m in FILE_UPLOAD_METHODS):
            return pipeline
    return None


def _not_implemented(filename: str | None) -> JSONResponse:
    # Hayhooks answers 200 with an id nothing keeps; on Lambda the client would then refer to a file that
    # never existed, so we refuse instead (docs/decisions.md).
    logger.warning("No pipeline implements run_file_upload: upload %r refused with 501", filename)
    detail = (
        "No pipeline implements run_file_upload: the file was not kept. "
        "Implement run_file_upload in a PipelineWrapper to accept uploads."
    )
    return JSONResponse({"detail": detail}, status_code=501)


async def _call(request: Request, pipeline: LoadedPipeline, arguments: tuple[Any, ...]) -> Any:
    """The wrapper's upload method under the invocation's deadline; Hayhooks' 500 for what it raises."""
    invoker = Invoker.of(request.app)
    target = target_of(pipeline, "file_upload")
    with http_errors():
        try:
            async with invoker.guard(pipeline.name, request.scope):
                return await invoker.call(target, {}, args=arguments)
        except PipelineFailed as failed:
            raise HTTPException(status_code=500, detail=f"File upload failed: {failed.message}") from failed


def _file_object(result: Any, pipeline: str) -> dict[str, Any]:
    """The wrapper's result as OpenAI's file object: a dict (or a pydantic model) with its fields, extra keys
    kept; anything else is Hayhooks' 500."""
    from pydantic import BaseModel, ValidationError

    if isinstance(result, BaseModel):
        result = result.model_dump()
    if not isinstance(result, dict):
        logger.error("Pipeline '%s': run_file_upload returned an unsupported type %s", pipeline, type(result).__name__)
        raise HTTPException(status_code=500, detail="run_file_upload returned an unsupported type")
    try:
        return _file_object_model().model_validate(result).model_dump(mode="json")
    except ValidationError as exc:
        logger.error("Pipeline '%s': run_file_upload returned an invalid file object: %s", pipeline, exc)
        raise HTTPException(status_code=500, detail=f"File upload failed: {redact(str(exc))}") from exc


@cache
def _file_object_model() -> Any:
    """OpenAI's file object, built on first use: a model class costs time at cold start."""
    from typing import Literal

    from pydantic import BaseModel, ConfigDict

    class FileObject(BaseModel):
        model_config = ConfigDict(extra="allow")

        id: str
        object: Literal["file"] = "file"
        bytes: int
        created_at: int
        filename: str | None = None
        purpose: str
        status: str = "processed"

    return FileObject
