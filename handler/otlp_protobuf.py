"""OpenTelemetry's OTLP/HTTP protobuf exporter, SigV4-signed for X-Ray: for OTEL_EXPORTER_OTLP_PROTOCOL=
http/protobuf only (importing it costs a cold start ~0.2 s; the default is handler/otlp_json.py)."""

from __future__ import annotations

from typing import Any

import requests
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

from core.sigv4 import LambdaCredentials, sign


class SigV4Session(requests.Session):
    """A requests session that signs every request it sends (X-Ray's OTLP endpoint requires SigV4)."""

    def __init__(self, region: str, service: str = "xray", credentials: LambdaCredentials | None = None) -> None:
        super().__init__()
        self.region = region
        self.service = service
        self.credentials = credentials or LambdaCredentials()

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        body = request.body or b""
        if isinstance(body, str):
            body = body.encode()
        request.headers.update(
            sign(
                request.method or "POST",
                request.url or "",
                dict(request.headers),
                body,
                credentials=self.credentials.get(),
                region=self.region,
                service=self.service,
            )
        )
        return super().send(request, **kwargs)


def protobuf_exporter(endpoint: str, *, sign_region: str | None, timeout: float) -> OTLPSpanExporter:
    session = SigV4Session(sign_region) if sign_region else None
    return OTLPSpanExporter(endpoint=endpoint, timeout=timeout, session=session)
