"""`hayhooks.testing`: a tiny Haystack component for tests of wrappers and YAML pipelines.

A YAML pipeline may name it as `type: hayhooks.testing.Hello` only where the real package is installed;
here it is `core.testing.Hello`.
"""

from __future__ import annotations

from haystack import component


@component
class Hello:
    """Greets a word: {"output": "Hello, <word>!"}."""

    @component.output_types(output=str)
    def run(self, word: str = "world") -> dict[str, str]:
        return {"output": f"Hello, {word}!"}
