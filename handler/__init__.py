"""Lambda entry point (`Handler: handler.lambda_handler`).

Importing this package (or any module in it) builds nothing. Reading `handler.lambda_handler` runs the cold
start, once: settings are read, pipelines are loaded and set up, the app is built. Lambda's runtime reads it
right after importing the package, in the init phase, before the first invocation (awslambdaric's
`_get_handler`: `importlib.import_module("handler")`, then `getattr(module, "lambda_handler")`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from handler.entry import LambdaHandler

__all__ = ["LambdaHandler", "lambda_handler"]


def prepare_imports() -> None:
    """What the cold start does before anything imports Haystack (tests that serve pipelines as Lambda does
    call it too)."""
    import os

    # Haystack's telemetry imports posthog and calls home at exit
    os.environ.setdefault("HAYSTACK_TELEMETRY_ENABLED", "False")
    from core.deferred_modules import defer_unused_modules

    defer_unused_modules()  # telemetry off: posthog is never run, even if a user's HAYHOOKS_APP imports Haystack
    from core.light_packages import FASTAPI, NETWORKX, serve_light

    serve_light(FASTAPI)  # a wrapper's `from fastapi import HTTPException` does not import FastAPI's app
    serve_light(NETWORKX)  # Haystack's graph classes without NetworkX's algorithms


def _cold_start() -> LambdaHandler:
    prepare_imports()
    from handler.arch import check_architecture

    check_architecture()  # before any compiled module is imported: a mismatch is one line, not an ImportError

    from handler.entry import LambdaHandler

    try:
        return LambdaHandler()
    except AttributeError as exc:
        # raised from a module `__getattr__`, an AttributeError would read as "no lambda_handler in handler"
        raise RuntimeError(f"the cold start failed: {type(exc).__name__}: {exc}") from exc


def __getattr__(name: str) -> Any:
    if name == "lambda_handler":
        value: Any = _cold_start()
    elif name == "LambdaHandler":
        from handler.entry import LambdaHandler as value
    else:
        raise AttributeError(f"module 'handler' has no attribute {name!r}")
    globals()[name] = value  # built once: later reads find it without calling this function
    return value
