"""`GET /status` and `GET /status/{name}`, with Hayhooks' shapes plus the pipelines that failed to load.

Their bodies and models are core/status_report.py's, which the lean front (core/front.py) answers with too.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from core.app_services import services_of
from core.status_report import PipelineStatusResponse, StatusResponse, pipeline_status_body, status_body

router = APIRouter(tags=["status"])


@router.get(
    "/status",
    response_model=StatusResponse,
    response_model_exclude_none=True,
    summary="Service status and the pipelines it serves",
)
async def status_all(request: Request) -> dict[str, Any]:
    return status_body(services_of(request.app))


@router.get(
    "/status/{pipeline_name}",
    response_model=PipelineStatusResponse,
    summary="Status of one pipeline",
    responses={404: {"description": "No such pipeline"}, 503: {"description": "The pipeline failed to load"}},
)
async def status_one(pipeline_name: str, request: Request) -> dict[str, str | None]:
    return pipeline_status_body(services_of(request.app), pipeline_name)
