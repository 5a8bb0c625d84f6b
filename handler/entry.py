"""`lambda_handler`: API Gateway / Function URL / ALB events through Mangum into the core app."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from mangum import Mangum
from starlette.types import Receive, Scope, Send

from core.service import build_service
from core.settings import Settings, server_only_variables_set
from handler.events import classify, describe, stage_root_path

logger = logging.getLogger("handler")

settings = Settings.from_env()
app, registry = build_service(settings, sync_inline=True)
if ignored := server_only_variables_set():
    logger.info("Ignored on Lambda (they configure a long-running server): %s", ", ".join(ignored))


async def _with_stage_root_path(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "http" and not settings.root_path:
        event = scope.get("aws.event")
        if isinstance(event, dict):
            root = stage_root_path(event)
            if root:
                scope["root_path"] = root
                if not scope["path"].startswith(root + "/") and scope["path"] != root:
                    scope["path"] = root + scope["path"]
    await app(scope, receive, send)


# Mangum 0.22 asks asyncio for the current loop when built; on 3.13 that warns unless one is set.
asyncio.set_event_loop(asyncio.new_event_loop())
# lifespan off: Mangum would run the lifespan on every invocation; pipelines load at import instead.
adapter = Mangum(_with_stage_root_path, lifespan="off")


def lambda_handler(event: Any, context: Any) -> dict[str, Any]:
    kind = classify(event)
    if kind == "http":
        try:
            return adapter(event, context)
        except Exception as exc:  # a malformed event: Mangum could not build a request from it
            logger.exception("Could not handle the HTTP event (%s)", describe(event))
            return _error_response(400, f"Malformed HTTP event: {type(exc).__name__}: {exc}")
    if kind == "warmup":
        logger.debug("Warm-up event answered without running a pipeline")
        return {"warm": True, "pipelines": len(registry.loaded)}
    logger.error(
        "Unsupported event (%s): this function answers API Gateway, Function URL and ALB events", describe(event)
    )
    return {"error": "Unsupported event: this function answers API Gateway, Function URL and ALB HTTP events"}


def _error_response(status: int, detail: str) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {"content-type": "application/json"},
        "body": json.dumps({"detail": detail}),
        "isBase64Encoded": False,
    }
