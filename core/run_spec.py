"""`RunEndpointSpec`: what the `/{name}/run` route needs, its request and response models among it, derived
from a wrapper's `run_api` signature and docstring.

Built once per pipeline at cold start; nothing here runs per request.
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Generator, Iterator
from dataclasses import dataclass
from typing import Any, get_origin

import docstring_parser
from pydantic import BaseModel, Field, create_model
from starlette.datastructures import Headers
from starlette.responses import Response, StreamingResponse

from core.bounded_validation import fail_fast

_STREAM_ORIGINS = {Generator, AsyncGenerator, Iterator, AsyncIterator}


class ModelError(Exception):
    """The run method cannot be turned into an endpoint; the message says why."""


@dataclass(frozen=True)
class RunEndpointSpec:
    """Everything the `/{name}/run` route needs to know about a run method."""

    method: Callable[..., Any]
    is_async: bool
    request_model: type[BaseModel]
    response_model: type[BaseModel] | None  # None: the method returns a Response or a stream
    response_class: type[Response] | None
    requires_files: bool
    wants_headers: bool
    description: str | None


def _wants_headers(param: inspect.Parameter) -> bool:
    """Hayhooks injects request headers into a parameter named `headers` annotated with `Headers`."""
    if param.name != "headers":
        return False
    ann = param.annotation
    return ann is Headers or Headers in getattr(ann, "__args__", ())


def is_sse_stream(annotation: Any) -> bool:
    """`-> SSEStream` (Hayhooks' or core's, by name): a stream, not a JSON result to build a model for."""
    return inspect.isclass(annotation) and annotation.__name__ == "SSEStream"


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def build_run_spec(pipeline_name: str, method: Callable[..., Any], *, is_async: bool) -> RunEndpointSpec:
    try:
        signature = inspect.signature(method, eval_str=True)
    except Exception as exc:  # a NameError in a string annotation, for example
        raise ModelError(f"cannot read the signature of {method.__name__}(): {exc}") from exc

    docstring = docstring_parser.parse(inspect.getdoc(method) or "")
    param_docs = {p.arg_name: p.description for p in docstring.params}

    wants_headers = False
    fields: dict[str, Any] = {}
    for name, param in signature.parameters.items():
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            continue
        if _wants_headers(param):
            wants_headers = True
            continue
        annotation = Any if param.annotation is param.empty else fail_fast(param.annotation)
        default = ... if param.default is param.empty else param.default
        fields[name] = (annotation, Field(default=default, description=param_docs.get(name) or f"Parameter '{name}'"))

    try:
        request_model = create_model(f"{pipeline_name}RunRequest", **fields)
        request_model.model_json_schema()  # a type OpenAPI cannot describe would break /docs for everyone
    except Exception as exc:
        raise ModelError(f"cannot build a request model from {method.__name__}(): {_first_line(exc)}") from exc

    returns = signature.return_annotation
    if returns is inspect.Signature.empty:
        raise ModelError(f"Pipeline wrapper is missing a return type for '{method.__name__}' method")

    response_model: type[BaseModel] | None = None
    response_class: type[Response] | None = None
    if get_origin(returns) in _STREAM_ORIGINS or returns in _STREAM_ORIGINS or is_sse_stream(returns):
        response_class = StreamingResponse
    elif inspect.isclass(returns) and issubclass(returns, Response):
        response_class = returns
    else:
        description = docstring.returns.description if docstring.returns else None
        try:
            response_model = create_model(
                f"{pipeline_name}RunResponse", result=(returns, Field(..., description=description))
            )
            response_model.model_json_schema()
        except Exception as exc:
            raise ModelError(
                f"cannot build a response model from the return type of {method.__name__}(): {_first_line(exc)}"
            ) from exc

    return RunEndpointSpec(
        method=method,
        is_async=is_async,
        request_model=request_model,
        response_model=response_model,
        response_class=response_class,
        requires_files="files" in signature.parameters,
        wants_headers=wants_headers,
        description=docstring.short_description or None,
    )
