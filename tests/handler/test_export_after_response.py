"""Under our Runtime API loop an invocation's spans are exported after its answer is posted (the caller
does not wait for the export) and before the loop asks for the next event (Lambda freezes the environment
only then, so no span is lost)."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from infra.fake_runtime_api import FakeRuntimeAPI
from infra.lambda_events import function_url, http_v2
from tests.conftest import ROOT
from tests.handler.test_runtime_loop import start_loop, stop

TRACED = ROOT / "tests" / "fixtures" / "traced"
RECEIVER_DELAY = 0.5  # seconds the receiver holds each export: long enough to see who waits for it


class SlowReceiver:
    """An OTLP/HTTP endpoint that records when each export arrived and when it was accepted."""

    def __init__(self) -> None:
        self.exports: list[tuple[float, float]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                arrived = time.monotonic()
                self.rfile.read(int(self.headers.get("content-length", "0")))
                time.sleep(RECEIVER_DELAY)
                # taken before the reply goes out: the exporter cannot be done before it (taken after, the
                # loop's next poll could come first, as it once did under load)
                accepted = time.monotonic()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")
                receiver.exports.append((arrived, accepted))

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.endpoint = f"http://127.0.0.1:{self.server.server_port}/v1/traces"

    def wait_for(self, count: int, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while len(self.exports) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        assert len(self.exports) >= count, f"{len(self.exports)} export(s) received, {count} expected"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def traced_loop():
    receiver = SlowReceiver()
    with FakeRuntimeAPI() as api:
        process = start_loop(api, TRACED, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=receiver.endpoint)
        try:
            yield api, receiver
        finally:
            stop(process)
            receiver.close()


@pytest.mark.parametrize(
    "event", [http_v2("GET", "/status"), function_url("GET", "/status")], ids=["buffered", "streamed"]
)
def test_spans_go_after_the_answer_and_before_the_next_event(traced_loop, event):
    api, receiver = traced_loop
    invocation = api.invoke(event).wait(120)
    receiver.wait_for(1)
    arrived, accepted = receiver.exports[0]
    assert invocation.answered <= arrived, "the export was sent before the answer was complete"
    deadline = time.monotonic() + 10
    while len(api.polled) < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert len(api.polled) >= 2 and api.polled[1] >= accepted, "the loop asked for the next event mid-export"
