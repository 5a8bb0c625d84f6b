"""`Pipeline` and `AsyncPipeline`, as Hayhooks exports them.

Haystack 3 merged `AsyncPipeline` into `Pipeline` (it has `run_async`); Haystack 2 kept a separate class.
Both names resolve to the class that can `run_async`, so a wrapper written for either major version runs.
"""

from typing import Any

import haystack

Pipeline: type[Any] = getattr(haystack, "AsyncPipeline", haystack.Pipeline)
AsyncPipeline = Pipeline

__all__ = ["AsyncPipeline", "Pipeline"]
