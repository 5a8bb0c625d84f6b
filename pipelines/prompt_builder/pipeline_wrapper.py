"""Renders a prompt from a template: runs offline, shows an async wrapper."""

from haystack import Pipeline
from haystack.components.builders import PromptBuilder

from core import BasePipelineWrapper

TEMPLATE = """Answer in {{ language }}, in at most {{ max_words }} words.
Question: {{ question }}
Answer:"""


class PipelineWrapper(BasePipelineWrapper):
    def setup(self) -> None:
        self.pipeline = Pipeline()
        self.pipeline.add_component("prompt_builder", PromptBuilder(template=TEMPLATE))

    async def run_api_async(self, question: str, language: str = "English", max_words: int = 50) -> str:
        """Build the prompt an LLM would receive for a question.

        Args:
            question: The user's question.
            language: The language the answer should be in.
            max_words: The longest answer wanted, in words.

        Returns:
            The rendered prompt.
        """
        result = await self.pipeline.run_async(
            {"prompt_builder": {"question": question, "language": language, "max_words": max_words}}
        )
        return result["prompt_builder"]["prompt"]
