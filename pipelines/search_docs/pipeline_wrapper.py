"""BM25 search over a few bundled documents: runs offline, no API key."""

from typing import Annotated

from haystack import Pipeline
from haystack.components.retrievers.in_memory import InMemoryBM25Retriever
from pydantic import Field

from core import BasePipelineWrapper

from .store import build_store


class PipelineWrapper(BasePipelineWrapper):
    def setup(self) -> None:
        self.pipeline = Pipeline()
        self.pipeline.add_component("retriever", InMemoryBM25Retriever(document_store=build_store()))

    def warm_up(self) -> None:
        """Called once after setup(), at cold start: the first request then costs what any other does."""
        self.run_api("lambda", top_k=1)  # a query that finds documents: the whole path runs once

    def run_api(self, query: Annotated[str, Field(min_length=1)], top_k: Annotated[int, Field(ge=0)] = 3) -> list[dict]:
        """Search the bundled documents.

        Args:
            query: Words to search for.
            top_k: How many documents to return, best first.

        Returns:
            The matching documents with their content, score and metadata.
        """
        result = self.pipeline.run({"retriever": {"query": query, "top_k": top_k}})
        return [{"content": d.content, "score": d.score, "meta": d.meta} for d in result["retriever"]["documents"]]
