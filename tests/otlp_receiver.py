"""An OTLP/HTTP trace receiver on loopback: what a collector (or X-Ray's OTLP endpoint) would be sent.

It decodes each `POST /v1/traces` body (protobuf ExportTraceServiceRequest, gzip or not) and keeps the
spans and the request headers; it answers 200 with an empty ExportTraceServiceResponse.
"""

from __future__ import annotations

import gzip
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    path: str
    spans: list = field(default_factory=list)  # opentelemetry.proto.trace.v1.Span messages
    service_names: list[str] = field(default_factory=list)


class OtlpReceiver:
    def __init__(self) -> None:
        self.requests: list[Received] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("content-length", "0")))
                body = gzip.decompress(raw) if self.headers.get("content-encoding") == "gzip" else raw
                message = ExportTraceServiceRequest.FromString(body)
                got = Received({k.lower(): v for k, v in self.headers.items()}, raw, self.path)
                for resource_spans in message.resource_spans:
                    for attribute in resource_spans.resource.attributes:
                        if attribute.key == "service.name":
                            got.service_names.append(attribute.value.string_value)
                    for scope_spans in resource_spans.scope_spans:
                        got.spans.extend(scope_spans.spans)
                receiver.requests.append(got)
                reply = ExportTraceServiceResponse().SerializeToString()
                self.send_response(200)
                self.send_header("content-type", "application/x-protobuf")
                self.send_header("content-length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1/traces"

    @property
    def spans(self) -> list:
        return [span for request in self.requests for span in request.spans]

    def __enter__(self) -> OtlpReceiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
