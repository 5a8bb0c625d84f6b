"""The middleware every request of the service goes through, outermost first: request id, access log, CORS
(when configured), Lambda-deliverable answers (on Lambda), API keys, request limits.

One function wraps them around whatever answers inside: the FastAPI app's own stack (core/app.py) or the
lean front's dispatch (core/front.py), so both get the same layers in the same order. Starlette only.
"""

from __future__ import annotations

from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp

from core.access_log import AccessLogMiddleware
from core.app_services import AppServices
from core.auth import ApiKeyMiddleware
from core.lambda_response import LambdaResponseMiddleware
from core.limits import RequestLimitsMiddleware
from core.request_id import RequestIdMiddleware


def wrap_in_service_middleware(inner: ASGIApp, services: AppServices) -> ASGIApp:
    """`inner` inside the service's layers. Request id and CORS are outside any error handler `inner` has, so
    a 500 still carries `X-Request-Id` and CORS headers (a browser would otherwise report a CORS failure)."""
    settings = services.settings
    # limits inside authentication: no work on the body of a request without a key; both inside CORS, so
    # that their answers (401, 413, 431, 422) carry CORS headers a browser can read
    stack: ASGIApp = RequestLimitsMiddleware(
        inner,
        max_body=settings.max_request_bytes,
        max_header_bytes=settings.max_header_bytes,
        max_json_depth=settings.max_json_depth,
    )
    stack = ApiKeyMiddleware(
        stack, services.api_keys, public_status=settings.auth_public_status, public_docs=settings.auth_public_docs
    )
    if services.sync_inline:  # on Lambda: answers it can deliver (core/lambda_response.py); inside CORS
        stack = LambdaResponseMiddleware(stack)
    cors = settings.cors
    if cors.enabled:
        stack = CORSMiddleware(
            stack,
            allow_origins=list(cors.allow_origins),
            allow_methods=list(cors.allow_methods),
            allow_headers=list(cors.allow_headers),
            allow_credentials=cors.allow_credentials,
            allow_origin_regex=cors.allow_origin_regex,
            expose_headers=list(cors.expose_headers),
            max_age=cors.max_age,
        )
    stack = AccessLogMiddleware(stack, services.request_observers)
    return RequestIdMiddleware(stack)
