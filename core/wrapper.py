"""The pipeline wrapper contract, as Hayhooks defines it.

A pipeline folder holds `pipeline_wrapper.py` with a class named `PipelineWrapper`. Subclassing
`BasePipelineWrapper` is the documented way, but any class with `setup()` and at least one `run_*`
method is accepted, so wrappers written against Hayhooks' own base class load unchanged.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

# Methods a wrapper may implement. Only the run_api pair gets a `/{name}/run` route today; the chat
# and responses methods still count as "has a run method" so such wrappers load.
RUN_METHODS = (
    "run_api_async",
    "run_api",
    "run_chat_completion_async",
    "run_chat_completion",
    "run_response_async",
    "run_response",
)
# Hayhooks' durable-mode entry points: served with HAYHOOKS_DURABLE_MODE (core/routes/durable.py), by the
# durable worker function (handler/durable_worker.py); with the mode off, a wrapper with only these does not load.
DURABLE_RUN_METHODS = ("run_durable_async", "run_durable")
# `POST /v1/files` goes to the first wrapper (by pipeline name) with one of these; as in Hayhooks they do not
# count as run methods (a wrapper with only these does not load). The async one is ours: Hayhooks has only
# the sync method, which it calls in a thread.
FILE_UPLOAD_METHODS = ("run_file_upload_async", "run_file_upload")


class BasePipelineWrapper(ABC):
    """Base class for pipeline wrappers: build `self.pipeline` in `setup()`, serve it from `run_api`.

    ```python
    from core import BasePipelineWrapper

    class PipelineWrapper(BasePipelineWrapper):
        def setup(self) -> None:
            self.pipeline = build_my_pipeline()

        def run_api(self, question: str, top_k: int = 3) -> list[str]:
            \"\"\"Answer a question.

            Args:
                question: What to ask.
                top_k: How many documents to use.
            \"\"\"
            return [d.content for d in self.pipeline.run({"retriever": {"query": question}})["retriever"]["documents"]]
    ```
    """

    # Hayhooks' durable-mode attributes: a durable wrapper names its revision, and may type its resume answer
    durable_revision: str | None = None
    durable_resume_model: Any = None

    def __init__(self) -> None:
        self.pipeline: Any = None

    @abstractmethod
    def setup(self) -> None:
        """Build the pipeline. Called once, at cold start, before any request."""

    def run_api(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError

    async def run_api_async(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError

    def run_chat_completion(self, model: str, messages: list[dict], body: dict) -> Any:
        raise NotImplementedError

    async def run_chat_completion_async(self, model: str, messages: list[dict], body: dict) -> Any:
        raise NotImplementedError

    def run_response(self, model: str, input_items: list[dict], body: dict) -> Any:
        raise NotImplementedError

    async def run_response_async(self, model: str, input_items: list[dict], body: dict) -> Any:
        raise NotImplementedError

    def run_file_upload(self, filename: str | None, content_type: str | None, content: bytes, purpose: str) -> Any:
        """Keep a file sent to `POST /v1/files`; return an OpenAI file object (a dict with `id`, `bytes`,
        `created_at`, `filename`, `purpose`), whose `id` later requests can refer to."""
        raise NotImplementedError

    async def run_file_upload_async(
        self, filename: str | None, content_type: str | None, content: bytes, purpose: str
    ) -> Any:
        raise NotImplementedError


def _is_base_class(cls: type) -> bool:
    """Our base class or Hayhooks' (matched by name and module, so hayhooks need not be installed)."""
    if cls is BasePipelineWrapper or cls is object:
        return True
    return cls.__name__ == "BasePipelineWrapper" and cls.__module__.split(".")[0] == "hayhooks"


def implements(wrapper_cls: type, method: str) -> bool:
    """True when `method` is defined by the wrapper itself, not inherited from a base class's stub."""
    for klass in wrapper_cls.__mro__:
        if method in vars(klass):
            return not _is_base_class(klass)
    return False


def implemented_run_methods(wrapper_cls: type) -> list[str]:
    return [m for m in RUN_METHODS if implements(wrapper_cls, m)]


class ContractError(Exception):
    """A wrapper class does not meet the contract; the message says what is missing."""


def is_durable(wrapper_cls: type) -> bool:
    """The wrapper implements one of Hayhooks' durable methods."""
    return any(implements(wrapper_cls, m) for m in DURABLE_RUN_METHODS)


def check_wrapper_class(obj: object, *, durable_mode: bool = False) -> type:
    """Return `obj` if it is a usable wrapper class, else raise `ContractError` saying why.

    With `durable_mode` (HAYHOOKS_DURABLE_MODE) a durable method counts as a run method, as in Hayhooks."""
    if not isinstance(obj, type):
        raise ContractError(f"'PipelineWrapper' must be a class, got {type(obj).__name__}")
    if not callable(getattr(obj, "setup", None)):
        raise ContractError("class 'PipelineWrapper' has no setup() method")
    if not implemented_run_methods(obj) and not (durable_mode and is_durable(obj)):
        if durable := [m for m in DURABLE_RUN_METHODS if implements(obj, m)]:
            # say why, as Hayhooks does: "implements none of run_api…" would hide the method it does have
            raise ContractError(
                f"class 'PipelineWrapper' implements only {', '.join(durable)}: durable wrappers are served in "
                "Hayhooks' durable mode: set HAYHOOKS_DURABLE_MODE=true (and deploy with DurableMode=on)"
            )
        raise ContractError("class 'PipelineWrapper' implements none of " + ", ".join(RUN_METHODS))
    return obj
