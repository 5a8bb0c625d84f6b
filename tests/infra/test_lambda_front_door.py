"""The local Lambda front door's reading of `Invoke`'s FunctionName and Qualifier, as Lambda reads them (the
routing itself runs end to end in tests/infra/test_durable_emulator.py)."""

from __future__ import annotations

import pytest

from infra.lambda_front_door import function_name, qualifier_of

ARN = "arn:aws:lambda:us-west-2:123456789012:function:worker"


@pytest.mark.parametrize(
    ("identifier", "query", "name", "qualifier"),
    [
        ("worker", "", "worker", "$LATEST"),
        ("worker:live", "", "worker", "live"),
        (ARN, "", "worker", "$LATEST"),
        (f"{ARN}:7", "", "worker", "7"),
        (ARN, "Qualifier=live", "worker", "live"),
    ],
)
def test_function_name_and_qualifier(identifier, query, name, qualifier):
    assert function_name(identifier) == name
    assert qualifier_of(identifier, query) == qualifier


def test_a_synchronous_invoke_of_a_durable_function_is_refused_saying_why():
    from infra.lambda_front_door import LambdaFrontDoor

    door = LambdaFrontDoor("http://127.0.0.1:9", {})
    try:
        answer = door.route("POST", "/2015-03-31/functions/worker/invocations", {}, b"{}")
        unknown = door.route(
            "POST", "/2015-03-31/functions/nobody/invocations", {"x-dex-handler-invoke": "true"}, b"{}"
        )
    finally:
        door.stop()
    assert answer.status == 400 and b"InvocationType=Event" in answer.body
    assert answer.headers["X-Amzn-ErrorType"] == "InvalidParameterValueException"
    assert unknown.status == 404 and unknown.headers["X-Amzn-ErrorType"] == "ResourceNotFoundException"
