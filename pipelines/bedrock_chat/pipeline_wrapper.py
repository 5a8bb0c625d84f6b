"""Chat on Amazon Bedrock (Converse API), authenticated by the function's IAM role: no API key.

Set the model with BEDROCK_MODEL_ID (the template's `BedrockModelId` parameter also grants the role
`bedrock:InvokeModel*` on exactly that model). The Bedrock client is made by the first request that needs
it, not in `setup()`: importing boto3 and making a client cost a cold start several hundred ms, which a
function whose requests never reach this pipeline should not pay. Without an AWS region configured (say,
`make run` on a laptop with no AWS setup) it loads and every request answers 503 saying what is missing.
"""

import os
import threading

from fastapi import HTTPException
from haystack import Pipeline
from haystack.dataclasses import ChatMessage
from haystack.utils import Secret

from core import BasePipelineWrapper, streaming_generator

MODEL_ID = os.environ.get("BEDROCK_MODEL_ID") or "amazon.nova-lite-v1:0"  # sam local sets unset values to ""
SYSTEM = "You are a concise assistant. Answer in at most three sentences."
# OpenAI request fields -> Converse inferenceConfig fields
GENERATION_FIELDS = {"temperature": "temperature", "max_tokens": "maxTokens", "top_p": "topP", "stop": "stopSequences"}
# Lambda sets AWS_REGION; the Bedrock component alone would read only AWS_DEFAULT_REGION
REGION_VARIABLES = ["AWS_REGION", "AWS_DEFAULT_REGION"]


def _messages(messages: list[dict]) -> list[ChatMessage]:
    converted = [ChatMessage.from_system(SYSTEM)]
    for message in messages:
        content = message.get("content")
        if isinstance(content, list):
            content = "\n".join(p.get("text", "") for p in content if p.get("type") == "text")
        if message.get("role") == "user":
            converted.append(ChatMessage.from_user(content or ""))
        elif message.get("role") == "assistant":
            converted.append(ChatMessage.from_assistant(content or ""))
        elif message.get("role") == "system":
            converted.append(ChatMessage.from_system(content or ""))
    return converted


class PipelineWrapper(BasePipelineWrapper):
    def setup(self) -> None:
        self.pipeline = None  # made by get_pipeline(), on first use
        self._building = threading.Lock()

    def get_pipeline(self) -> Pipeline:
        """The pipeline, made (with its Bedrock client) the first time a request needs it."""
        with self._building:  # concurrent first requests (make run) make one client, not several
            if self.pipeline is None:
                if not any(os.environ.get(name) for name in REGION_VARIABLES):
                    raise HTTPException(
                        status_code=503,
                        detail="bedrock_chat needs an AWS region (AWS_REGION) and credentials: on Lambda the "
                        "function's role provides them; locally configure the AWS CLI or set AWS_PROFILE",
                    )
                from haystack_integrations.components.generators.amazon_bedrock import AmazonBedrockChatGenerator

                region = Secret.from_env_var(REGION_VARIABLES, strict=False)
                pipeline = Pipeline()
                pipeline.add_component("llm", AmazonBedrockChatGenerator(model=MODEL_ID, aws_region_name=region))
                pipeline.warm_up()
                self.pipeline = pipeline
            return self.pipeline

    def run_chat_completion(self, model: str, messages: list[dict], body: dict):
        pipeline = self.get_pipeline()
        generation = {GENERATION_FIELDS[k]: v for k, v in body.items() if k in GENERATION_FIELDS and v is not None}
        run_args = {"llm": {"messages": _messages(messages), "generation_kwargs": generation}}
        if body.get("stream"):
            return streaming_generator(pipeline, pipeline_run_args=run_args)
        return pipeline.run(run_args)["llm"]["replies"][0].text

    def run_api(self, question: str) -> str:
        """Ask the Bedrock model one question.

        Args:
            question: The question.
        """
        pipeline = self.get_pipeline()
        return pipeline.run({"llm": {"messages": _messages([{"role": "user", "content": question}])}})["llm"][
            "replies"
        ][0].text
