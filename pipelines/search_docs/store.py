"""Builds the document store from documents.json, which ships next to this file."""

import json
from pathlib import Path

from haystack import Document
from haystack.document_stores.in_memory import InMemoryDocumentStore


def build_store() -> InMemoryDocumentStore:
    records = json.loads((Path(__file__).parent / "documents.json").read_text(encoding="utf-8"))
    store = InMemoryDocumentStore()
    store.write_documents([Document(content=r["content"], meta=r.get("meta", {})) for r in records])
    return store
