"""haystack-lambda's pipeline-serving core: Hayhooks' contract and endpoints, Lambda-shaped.

Wrapper authors need one import: `from core import BasePipelineWrapper`.
"""

from core.wrapper import BasePipelineWrapper

__all__ = ["BasePipelineWrapper"]
