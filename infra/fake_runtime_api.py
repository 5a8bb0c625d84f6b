"""A fake Lambda Runtime API on loopback that sees a streamed response as it arrives.

The Runtime Interface Emulator and `sam local` buffer streamed responses, so they cannot show when each
part came. This one serves queued events on `GET /invocation/next`, reads a `POST .../response` body
chunk by chunk (chunked transfer encoding, trailers included) and records when each chunk arrived, and
records `/error`, `/init/error` and `/restore/error` posts. The loop's tests and `make bench` use it.
"""

from __future__ import annotations

import json
import queue
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

NUL_SEPARATOR = b"\0" * 8


@dataclass
class Invocation:
    """One invocation as the Runtime API saw it: what came back, and when."""

    request_id: str
    event: Any
    handed_out: float = 0.0  # monotonic time the loop got it
    answered: float = 0.0  # monotonic time its answer was complete
    headers: dict[str, str] = field(default_factory=dict)  # of the response (or error) post
    chunks: list[tuple[float, bytes]] = field(default_factory=list)
    trailers: dict[str, str] = field(default_factory=dict)
    error: dict[str, Any] | None = None
    done: threading.Event = field(default_factory=threading.Event)

    @property
    def streamed(self) -> bool:
        return self.headers.get("lambda-runtime-function-response-mode") == "streaming"

    @property
    def payload(self) -> bytes:
        return b"".join(data for _, data in self.chunks)

    def prelude(self) -> dict[str, Any]:
        head, _, _ = self.payload.partition(NUL_SEPARATOR)
        return json.loads(head)

    def body(self) -> bytes:
        return self.payload.partition(NUL_SEPARATOR)[2] if self.streamed else self.payload

    def body_times(self) -> list[tuple[float, bytes]]:
        """(seconds since handed out, bytes) of each chunk of the body, the prelude left out."""
        seen, out = b"", []
        for at, data in self.chunks:
            before = len(seen)
            seen += data
            start = seen.find(NUL_SEPARATOR)
            if start < 0:
                continue
            body_start = start + len(NUL_SEPARATOR)
            part = seen[max(before, body_start) :]
            if part:
                out.append((at - self.handed_out, part))
        return out

    def wait(self, timeout: float = 30) -> Invocation:
        if not self.done.wait(timeout):
            raise TimeoutError(f"invocation {self.request_id} not answered within {timeout} s")
        return self


class FakeRuntimeAPI:
    def __init__(self) -> None:
        self.pending: queue.Queue[tuple[Invocation, dict[str, str]]] = queue.Queue()
        self.invocations: dict[str, Invocation] = {}
        self.init_errors: list[tuple[dict[str, str], dict[str, Any]]] = []
        self.restore_errors: list[dict[str, Any]] = []
        self.restored = threading.Event()
        self.polled: list[float] = []  # monotonic times of each GET /invocation/next (the first: init done)
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def address(self) -> str:
        host, port = self.server.server_address[:2]
        return f"{host}:{port}"

    def __enter__(self) -> FakeRuntimeAPI:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()

    def invoke(self, event: Any, *, timeout_s: float = 30, raw: bytes | None = None, **headers: str) -> Invocation:
        """Queue an event; `headers` are extra /next headers (`Lambda-Runtime-Trace-Id=...` as keywords)."""
        invocation = Invocation(str(uuid.uuid4()), event)
        self.invocations[invocation.request_id] = invocation
        next_headers = {
            "Lambda-Runtime-Aws-Request-Id": invocation.request_id,
            "Lambda-Runtime-Deadline-Ms": str(int((time.time() + timeout_s) * 1000)),
            "Lambda-Runtime-Invoked-Function-Arn": "arn:aws:lambda:us-east-1:000000000000:function:haystack-lambda",
            "Content-Type": "application/json",
        }
        next_headers |= {name.replace("_", "-"): value for name, value in headers.items()}
        body = raw if raw is not None else json.dumps(event).encode()
        self.pending.put((invocation, next_headers | {"_body": body.decode("latin-1")}))
        return invocation


def _handler_for(api: FakeRuntimeAPI) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body go in two writes: no 40 ms delayed-ACK stall

        def log_message(self, *args: Any) -> None:
            pass

        def _answer(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
            self.send_response(status)
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            if self.path.endswith("/runtime/invocation/next"):
                api.polled.append(time.monotonic())
                invocation, headers = api.pending.get()
                body = headers.pop("_body").encode("latin-1")
                invocation.handed_out = time.monotonic()
                self._answer(200, body, headers)
            elif self.path.endswith("/runtime/restore/next"):
                api.restored.set()
                self._answer(200)
            else:
                self._answer(404)

        def do_POST(self) -> None:
            parts = self.path.split("/")
            if self.path.endswith("/init/error"):
                api.init_errors.append((dict(self.headers), json.loads(self._read_whole())))
                self._answer(202)
                return
            if self.path.endswith("/restore/error"):
                api.restore_errors.append(json.loads(self._read_whole()))
                self._answer(202)
                return
            invocation = api.invocations.get(parts[-2]) if len(parts) > 2 else None
            if invocation is None:
                self._answer(404)
                return
            invocation.headers = {k.lower(): v for k, v in self.headers.items()}
            if parts[-1] == "error":
                invocation.error = json.loads(self._read_whole())
            elif self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                self._read_chunks(invocation)
            else:
                invocation.chunks.append((time.monotonic(), self._read_whole()))
            invocation.answered = time.monotonic()
            self._answer(202)
            invocation.done.set()

        def _read_whole(self) -> bytes:
            return self.rfile.read(int(self.headers.get("Content-Length", "0")))

        def _read_chunks(self, invocation: Invocation) -> None:
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                if size == 0:
                    break
                data = self.rfile.read(size)
                invocation.chunks.append((time.monotonic(), data))
                self.rfile.readline()  # the CRLF after the chunk
            while line := self.rfile.readline().strip():  # trailers, up to the blank line
                name, _, value = line.decode().partition(":")
                invocation.trailers[name.strip().lower()] = value.strip()

    return Handler
