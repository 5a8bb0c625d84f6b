"""A web for tests, on loopback: a few HTML pages, and the two Open-Meteo endpoints the weather examples call.

- `GET /pages/<name>.html`: one of `PAGES` (long enough that trafilatura keeps their text);
- `GET /geocoding/v1/search?name=<city>`: Open-Meteo's geocoding answer for the cities in `CITIES`, an
  answer without `results` for any other;
- `GET /forecast/v1/forecast?latitude=..&longitude=..`: the `current` block for that city.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlsplit

from tests.loopback import serve

_PAGE = """<!doctype html>
<html><head><title>{title}</title></head>
<body><nav><a href="/">Home</a></nav>
<article><h1>{title}</h1>{paragraphs}</article>
<footer>Fake page served on loopback for tests.</footer></body></html>
"""

PAGES = {
    "haystack": (
        "Haystack",
        "Haystack is an open-source framework for building applications with large language models. "
        "It connects components such as fetchers, converters, prompt builders and generators into pipelines.",
        "A pipeline is a directed graph of components. Each component declares its inputs and outputs, and "
        "the pipeline passes data along the connections between them until every component has run.",
    ),
    "lambda": (
        "AWS Lambda",
        "AWS Lambda runs code without servers to manage. A function starts in an execution environment, "
        "initialises once at cold start, and then serves one request at a time until it is recycled.",
        "Functions are billed by the millisecond and by the memory configured, which also sets the share "
        "of CPU that the function gets while it runs.",
    ),
}

# name: (latitude, longitude, temperature_2m, relative_humidity_2m, weather_code, wind_speed_10m)
CITIES = {
    "Berlin": (52.52, 13.41, 7.5, 81, 3, 12.3),
    "Rome": (41.89, 12.48, 14.2, 63, 0, 5.4),
}


def page_html(name: str) -> str:
    title, *paragraphs = PAGES[name]
    return _PAGE.format(title=title, paragraphs="".join(f"<p>{p}</p>" for p in paragraphs))


class FakeWeb(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        if url.path.startswith("/pages/") and url.path.endswith(".html") and url.path[7:-5] in PAGES:
            self._send(page_html(url.path[7:-5]).encode(), "text/html; charset=utf-8")
        elif url.path == "/geocoding/v1/search":
            city = CITIES.get(query.get("name", ""))
            found = {"results": [{"name": query["name"], "latitude": city[0], "longitude": city[1]}]} if city else {}
            self._send(json.dumps({**found, "generationtime_ms": 0.1}).encode(), "application/json")
        elif url.path == "/forecast/v1/forecast":
            at = (float(query.get("latitude", "nan")), float(query.get("longitude", "nan")))
            city = next((c for c in CITIES.values() if c[:2] == at), None)
            if city is None:
                self._send(b'{"error": true, "reason": "unknown place"}', "application/json", 400)
                return
            current = dict(
                zip(("temperature_2m", "relative_humidity_2m", "weather_code", "wind_speed_10m"), city[2:], strict=True)
            )
            self._send(
                json.dumps({"latitude": at[0], "longitude": at[1], "current": current}).encode(), "application/json"
            )
        else:
            self._send(b"not found", "text/plain", 404)

    def _send(self, body: bytes, content_type: str, status: int = 200) -> None:
        self.send_response(status)
        self.send_header("content-type", content_type)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@contextmanager
def fake_web() -> Iterator[str]:
    """Yield the base URL of a running fake web (`http://127.0.0.1:PORT`)."""
    with serve(FakeWeb) as url:
        yield url
