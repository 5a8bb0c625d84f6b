"""Binary bodies both ways through API Gateway's base64, the 6 MB limit, and temp files cleaned up."""

import struct
import tempfile
import zlib
from pathlib import Path

import httpx

from infra.lambda_events import BUILDERS, assert_still_serving


def make_png(width: int = 16, height: int = 16) -> bytes:
    """A real PNG (RGB gradient), built here so the test needs no image file or library."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    pixel = lambda x, y: bytes((x * 16 % 256, y * 16 % 256, (x + y) * 8 % 256))  # noqa: E731
    rows = b"".join(b"\0" + b"".join(pixel(x, y) for x in range(width)) for y in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def _temp_pngs() -> set[Path]:
    return set(Path(tempfile.gettempdir()).glob("png_echo-*.png"))


def test_png_round_trip_through_base64_and_temp_file_removed(invoke):
    png = make_png()
    before = _temp_pngs()
    for build in BUILDERS.values():
        request = httpx.Request("POST", "http://x/png_echo/run", files=[("files", ("in.png", png, "image/png"))])
        event = build(
            "POST",
            "/png_echo/run",
            body=request.read(),
            binary=True,
            headers={"content-type": request.headers["content-type"]},
        )
        reply = invoke(event)
        assert reply.status == 200, reply.body
        assert reply.raw["isBase64Encoded"] is True
        assert reply.headers["content-type"] == "image/png"
        assert reply.body == png
    assert _temp_pngs() == before  # written per response, deleted once sent


def test_body_over_the_limit_is_413_and_the_function_keeps_serving(invoke, fixture_handler):
    body = b"x" * (6 * 1024 * 1024 + 1)
    detail = (
        f"Request body too large: {len(body)} bytes; the limit is 6291456 bytes (HAYHOOKS_MAX_REQUEST_BYTES; "
        "Lambda accepts 6 MB per request, and API Gateway sends binary bodies base64-encoded, a third larger)"
    )
    for build in BUILDERS.values():
        for headers in ({"content-length": str(len(body))}, {}):  # declared, or only counted while read
            event = build("POST", "/echo/run", body=body, headers={"content-type": "application/json", **headers})
            reply = invoke(event)
            assert (reply.status, reply.json()) == (413, {"detail": detail})
        assert_still_serving(fixture_handler, build)
