"""haystack-lambda's pipeline-serving core: Hayhooks' contract and endpoints, Lambda-shaped.

Every public name of Hayhooks 2.1.0 (`hayhooks.__all__`) can be imported from here:
`from core import BasePipelineWrapper, log, streaming_generator`. Each name is imported from its module
on first use, so `import core` costs nothing at cold start and a wrapper pays only for what it imports.
"""

from importlib import import_module
from typing import Any

# name -> the module that defines it (the rule for modules: `hayhooks.X` / `hayhooks.server.X` -> `core.X`)
_EXPORTS = {
    "AsyncPipeline": "core.haystack_compat",
    "BasePipelineWrapper": "core.wrapper",
    "DurableContext": "core.durable",
    "Pipeline": "core.haystack_compat",
    "PipelineEvent": "core.events",
    "SSEStream": "core.sse_stream",
    "YAMLPipelineWrapper": "core.yaml_pipeline",
    "async_streaming_generator": "core.streaming",
    "chat_messages_from_openai_response": "core.messages",
    "coerce_pipeline_inputs": "core.pipeline_inputs",
    "create_app": "core.app_factory",
    "current_durable_context": "core.durable",
    "default_on_pipeline_end": "core.callbacks",
    "default_on_tool_call_end": "core.callbacks",
    "default_on_tool_call_start": "core.callbacks",
    "durable_streaming_callback": "core.durable",
    "get_input_files": "core.messages",
    "get_last_user_input_text": "core.messages",
    "get_last_user_message": "core.messages",
    "is_user_message": "core.messages",
    "log": "core.logger",
    "run_app": "core.app_factory",
    "streaming_generator": "core.streaming",
}

__all__ = list(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'core' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
