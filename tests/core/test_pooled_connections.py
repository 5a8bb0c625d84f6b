"""Dropping pooled connections (after a SnapStart restore): real clients, real sockets on loopback."""

import json
import threading
import typing
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
import requests
from haystack import Document, Pipeline
from haystack.components.generators.chat import OpenAIChatGenerator
from haystack.components.retrievers.in_memory import InMemoryBM25Retriever
from haystack.document_stores.in_memory import InMemoryDocumentStore
from haystack.utils import Secret

from core.pooled_connections import drop_pooled_connections
from infra.local_s3 import local_s3


class _Counting(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: clients pool the connection
    connections: typing.ClassVar[set[tuple[str, int]]] = set()

    def do_GET(self):
        type(self).connections.add(self.client_address)
        body = json.dumps({"ok": True}).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    _Counting.connections = set()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Counting)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", _Counting
    httpd.shutdown()
    httpd.server_close()


class Wrapper:
    """What a pipeline wrapper holds after setup(): a pipeline with a client inside, and clients of its own."""

    def __init__(self, base: str) -> None:
        self.pipeline = Pipeline()
        llm = OpenAIChatGenerator(api_key=Secret.from_token("k"), api_base_url=base)
        llm.warm_up()
        self.pipeline.add_component("llm", llm)
        self.session = requests.Session()
        self.extra = {"clients": [httpx.Client(base_url=base)]}


def test_pools_are_emptied_and_clients_open_new_connections(server):
    base, handler = server
    wrapper = Wrapper(base)
    sdk_http = wrapper.pipeline.get_component("llm").client._client  # the OpenAI SDK's client (httpx2)
    for _ in range(2):
        assert sdk_http.get(f"{base}/a").json() == {"ok": True}
        assert wrapper.session.get(f"{base}/b").json() == {"ok": True}
        assert wrapper.extra["clients"][0].get("/c").json() == {"ok": True}
    assert len(handler.connections) == 3  # one pooled connection per client, reused

    assert drop_pooled_connections(wrapper) == 3

    assert sdk_http.get(f"{base}/a").json() == {"ok": True}
    assert wrapper.session.get(f"{base}/b").json() == {"ok": True}
    assert wrapper.extra["clients"][0].get("/c").json() == {"ok": True}
    assert len(handler.connections) == 6  # each client opened a fresh one, and still works


def test_botocore_clients_keep_working_on_fresh_connections():
    with local_s3("pools") as (_, client):
        client.list_buckets()
        manager = client._endpoint.http_session._manager
        assert len(manager.pools) == 1
        assert drop_pooled_connections({"s3": client}) == 1
        assert len(manager.pools) == 0
        assert [b["Name"] for b in client.list_buckets()["Buckets"]] == ["pools"]


def test_the_walk_skips_data_sized_containers():
    store = InMemoryDocumentStore()
    store.write_documents([Document(content=f"doc {i}") for i in range(5000)])
    pipeline = Pipeline()
    pipeline.add_component("retriever", InMemoryBM25Retriever(document_store=store))
    wrapper = type("W", (), {})()
    wrapper.pipeline, wrapper.client = pipeline, httpx.Client()
    wrapper.cache = [httpx.Client()] * 300  # more than 256 entries: data, not walked
    assert drop_pooled_connections(wrapper) == 1


def test_objects_that_cannot_be_inspected_are_skipped():
    class Config:  # dict-backed attributes: a missing one raises KeyError, not AttributeError
        def __init__(self):
            self._d = {}

        def __getattr__(self, name):
            return self.__dict__["_d"][name]

    wrapper = type("W", (), {})()
    wrapper.config, wrapper.client = Config(), httpx.Client()
    assert drop_pooled_connections(wrapper) == 1
