"""Hayhooks' runtime deploy endpoints, refused.

On Lambda every execution environment loads its pipelines at cold start; a deploy to one environment
would leave the others serving something else, and the package directory is read-only anyway.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

router = APIRouter(tags=["config"])

REFUSAL = (
    "Runtime deploy is disabled: pipelines are loaded once, at cold start, so every Lambda environment "
    "serves the same set. To add, change or remove a pipeline, change the pipelines folder and publish "
    "a new version (sam build && sam deploy)."
)


def _refuse() -> JSONResponse:
    return JSONResponse({"detail": REFUSAL}, status_code=405, headers={"Allow": ""})


@router.post("/deploy_files", status_code=405, summary="Refused: runtime deploy is disabled")
async def deploy_files() -> JSONResponse:
    return _refuse()


@router.post("/deploy-yaml", status_code=405, summary="Refused: runtime deploy is disabled")
async def deploy_yaml() -> JSONResponse:
    return _refuse()


@router.post("/undeploy/{pipeline_name}", status_code=405, summary="Refused: runtime deploy is disabled")
async def undeploy(pipeline_name: str) -> JSONResponse:
    return _refuse()
