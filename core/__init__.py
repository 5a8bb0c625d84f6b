"""haystack-lambda's pipeline-serving core: Hayhooks' contract and endpoints, Lambda-shaped.

Wrapper authors need one import: `from core import BasePipelineWrapper` (plus, for chat wrappers,
`get_last_user_message`, `streaming_generator` and `async_streaming_generator`).
"""

from core.messages import get_last_user_message
from core.streaming import async_streaming_generator, streaming_generator
from core.wrapper import BasePipelineWrapper

__all__ = ["BasePipelineWrapper", "async_streaming_generator", "get_last_user_message", "streaming_generator"]
