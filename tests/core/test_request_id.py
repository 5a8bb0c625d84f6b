"""`X-Request-Id` on every answer (core/request_id.py): the Lambda request id, or a fresh one."""

from infra.lambda_events import Context


def test_every_response_carries_the_lambda_request_id(build, invoke):
    context = Context()
    for event in (
        build("GET", "/status"),
        build("POST", "/failing/run", body={"divisor": 0}),
        build("POST", "/echo/run", body={}),
    ):
        assert invoke(event, context=context).headers["x-request-id"] == context.aws_request_id
