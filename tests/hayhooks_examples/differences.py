"""Where this project answers differently from Hayhooks 2.1.0 on purpose, and how the suite allows for it.

Each difference is stated in the README ("How this differs from Hayhooks") or in docs/hayhooks-examples.md,
applies to the requests it names, and turns our answer into Hayhooks' by undoing exactly that difference,
so the rest of the answer is still compared byte for byte. An undo that no longer finds its difference
fails the test: the table cannot outlive the behaviour it describes.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


class DifferenceGone(AssertionError):
    """A listed difference is not in our answer any more: drop it from DIFFERENCES (and the docs)."""


@dataclass(frozen=True)
class Difference:
    what: str
    applies: Callable[[dict], bool]  # given the request as described in the fixture
    undo: Callable[[dict], dict]  # our answer -> Hayhooks' answer


def _streamed_chat(request: dict) -> bool:
    return request["path"] == "/v1/chat/completions" and bool((request.get("json") or {}).get("stream"))


def _drop_done(answer: dict) -> dict:
    if answer["content_type"] != "text/event-stream":
        return answer  # the run failed before streaming: an error, not a stream, in both
    events = answer["body"]
    if not (isinstance(events, list) and events and events[-1] == {"data": "[DONE]"}):
        raise DifferenceGone("the chat stream no longer ends with `data: [DONE]`")
    return {**answer, "body": events[:-1]}


def _json_to_multipart(request: dict) -> bool:
    return request["path"] == "/custom_tracing/run" and "json" in request


def _hayhooks_runs_with_defaults(answer: dict) -> dict:
    detail = answer["body"].get("detail", "") if isinstance(answer["body"], dict) else ""
    if answer["status"] != 415 or "multipart/form-data" not in detail:
        raise DifferenceGone("a JSON body sent to a multipart run is no longer a 415")
    # Hayhooks ignores the JSON and runs the wrapper with no input: this example then says so, with a 400
    return {**answer, "status": 400, "body": {"detail": "Provide pipeline_yaml or upload a YAML file."}}


def _status(request: dict) -> bool:
    return request["path"] == "/status"


def _hayhooks_status_flags(answer: dict) -> dict:
    """Hayhooks' flags for features this project does not have: execution listing and A2A serving."""
    body = copy.deepcopy(answer["body"])
    if body["capabilities"].get("execution_enumeration") is not False:
        raise DifferenceGone("/status now says capabilities.execution_enumeration is not false")
    body["capabilities"]["execution_enumeration"] = True
    for deployment in body["deployments"]:
        flags = deployment["capabilities"]
        if "a2a_eligible" in flags:
            raise DifferenceGone("/status now lists a2a_eligible")
        if "chat_completion" in flags:
            flags.append("a2a_eligible")
    return {**answer, "body": body}


DIFFERENCES: tuple[Difference, ...] = (
    Difference(
        "chat streams end with `data: [DONE]`, as OpenAI's do (Hayhooks' end without a terminator)",
        _streamed_chat,
        _drop_done,
    ),
    Difference(
        "a JSON body sent to a run that takes files is a 415 (Hayhooks runs the wrapper with every field at "
        "its default)",
        _json_to_multipart,
        _hayhooks_runs_with_defaults,
    ),
    Difference(
        "/status does not claim what is not served here: capabilities.execution_enumeration is false (no "
        "execution listing) and no pipeline is a2a_eligible (no A2A server)",
        _status,
        _hayhooks_status_flags,
    ),
)


def as_hayhooks(request: dict, answer: Any) -> Any:
    """Our answer with every listed difference that applies to `request` undone."""
    for difference in DIFFERENCES:
        if difference.applies(request):
            answer = difference.undo(answer)
    return answer
