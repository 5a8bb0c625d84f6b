"""An OTLP/HTTP trace receiver on loopback: what a collector (or X-Ray's OTLP endpoint) would be sent.

It decodes each `POST /v1/traces` body (an ExportTraceServiceRequest, protobuf or OTLP's JSON encoding,
gzip or not) and keeps the spans and the request headers; it answers 200 with an empty
ExportTraceServiceResponse. A JSON body is parsed against the protobuf schema itself (after OTLP's hex ids
become protobuf JSON's base64), so a field name, type or enum the schema does not have fails the request.
"""

from __future__ import annotations

import base64
import gzip
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from google.protobuf import json_format
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


_ID_FIELDS = {"traceId", "spanId", "parentSpanId"}


def _protobuf_json(value):
    """OTLP JSON -> protobuf's JSON mapping: ids are hex in the first, base64 bytes in the second."""
    if isinstance(value, dict):
        return {
            k: base64.b64encode(bytes.fromhex(v)).decode() if k in _ID_FIELDS else _protobuf_json(v)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_protobuf_json(v) for v in value]
    return value


class OtlpReceiver:
    def __init__(self) -> None:
        self.requests: list[Received] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("content-length", "0")))
                body = gzip.decompress(raw) if self.headers.get("content-encoding") == "gzip" else raw
                if self.headers.get("content-type") == "application/json":
                    message = json_format.ParseDict(_protobuf_json(json.loads(body)), ExportTraceServiceRequest())
                else:
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
