"""`GET /v1/models` (and `/models`): every pipeline that loaded or can still load (lazy), as OpenAI models."""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, Request

from core.app_services import services_of

router = APIRouter(tags=["openai"])


@router.get("/v1/models", summary="List models (OpenAI-compatible): the loaded pipelines")
@router.get("/models", summary="List models (OpenAI-compatible): the loaded pipelines", include_in_schema=False)
async def list_models(request: Request) -> dict[str, Any]:
    created = int(time.time())
    return {
        "object": "list",
        "data": [
            {"id": name, "name": name, "object": "model", "created": created, "owned_by": "hayhooks"}
            for name, state in services_of(request.app).registry.states().items()
            if state != "failed"
        ],
    }
