"""Retrieval-augmented answers with OpenAI: needs OPENAI_API_KEY, and says so clearly without it.

The pipeline (and with it the OpenAI client) is made by the first request, not in `setup()`: importing
the OpenAI SDK costs a cold start more than a hundred ms that requests to other pipelines should not pay.
"""

import os
import threading

from fastapi import HTTPException
from haystack import Document, Pipeline
from haystack.components.builders import ChatPromptBuilder
from haystack.components.retrievers.in_memory import InMemoryBM25Retriever
from haystack.dataclasses import ChatMessage
from haystack.document_stores.in_memory import InMemoryDocumentStore

from core import BasePipelineWrapper

MODEL = os.environ.get("CHAT_WITH_DOCS_MODEL", "gpt-4o-mini")
FACTS = [
    "haystack-lambda serves Haystack pipelines from AWS Lambda behind API Gateway.",
    "Pipelines are loaded once, at cold start, from the package or from S3.",
    "Runtime deploy is disabled: a new pipeline means a new published version.",
]
TEMPLATE = [
    ChatMessage.from_system("Answer from the documents only. If they do not say, answer that you do not know."),
    ChatMessage.from_user(
        "Documents:\n{% for d in documents %}- {{ d.content }}\n{% endfor %}\nQuestion: {{ question }}"
    ),
]


class PipelineWrapper(BasePipelineWrapper):
    def setup(self) -> None:
        self.pipeline = None  # made by get_pipeline(), on first use
        self._building = threading.Lock()

    def get_pipeline(self) -> Pipeline:
        """The pipeline, made (with its OpenAI client) the first time a request needs it."""
        with self._building:
            if self.pipeline is None:
                if not os.environ.get("OPENAI_API_KEY"):
                    raise HTTPException(
                        status_code=503,
                        detail="chat_with_docs needs OPENAI_API_KEY: set it in the function's environment "
                        "(from SSM or Secrets Manager in production) and redeploy.",
                    )
                from haystack.components.generators.chat import OpenAIChatGenerator

                store = InMemoryDocumentStore()
                store.write_documents([Document(content=fact) for fact in FACTS])
                pipeline = Pipeline()
                pipeline.add_component("retriever", InMemoryBM25Retriever(document_store=store, top_k=3))
                pipeline.add_component("prompt_builder", ChatPromptBuilder(template=TEMPLATE, required_variables="*"))
                pipeline.add_component("llm", OpenAIChatGenerator(model=MODEL))
                pipeline.connect("retriever.documents", "prompt_builder.documents")
                pipeline.connect("prompt_builder.prompt", "llm.messages")
                self.pipeline = pipeline
            return self.pipeline

    def run_api(self, question: str) -> str:
        """Answer a question from the bundled documents with an OpenAI model.

        Args:
            question: The question to answer.

        Returns:
            The model's answer.
        """
        pipeline = self.get_pipeline()
        result = pipeline.run({"retriever": {"query": question}, "prompt_builder": {"question": question}})
        return result["llm"]["replies"][0].text
