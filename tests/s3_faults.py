"""Faults injected into a real botocore client, below its retry logic, for the failure modes S3 has.

The handler is registered first on the client's `before-send` event, so it answers instead of the wire
(or moto) while botocore's own retry, parsing and error handling run as they do against AWS.
"""

from __future__ import annotations

from botocore.awsrequest import AWSResponse


class _Raw:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: object):
        yield self._body

    def read(self, *_: object, **__: object) -> bytes:
        return self._body


def s3_error(status: int, code: str, message: str) -> AWSResponse:
    body = f"<Error><Code>{code}</Code><Message>{message}</Message><RequestId>R</RequestId></Error>".encode()
    return AWSResponse("https://s3.amazonaws.com/", status, {"content-type": "application/xml"}, _Raw(body))


class Fault:
    """Answer the first `times` matching requests with an S3 error (times=None: all of them)."""

    def __init__(self, client, operation: str, status: int, code: str, message: str = "injected", times=None):
        self.status, self.code, self.message, self.times = status, code, message, times
        self.calls = 0
        client.meta.events.register_first(f"before-send.s3.{operation}", self)

    def __call__(self, **_: object):
        self.calls += 1
        if self.times is None or self.calls <= self.times:
            return s3_error(self.status, self.code, self.message)
        return None
