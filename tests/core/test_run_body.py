"""A generator from `run_api` as the answer (core/responses.py): `text/plain`, drained whole on Lambda."""

from infra.lambda_events import Context, assert_still_serving


def test_generator_result_is_text_plain(build, invoke):
    reply = invoke(build("POST", "/streamer/run", body={"words": ["a", "b"]}))
    assert reply.status == 200
    assert reply.headers["content-type"].startswith("text/plain")
    assert reply.text == 'a b chunk(thinking){"done": true}'


def test_generator_failing_half_way_is_a_json_500_on_lambda(build, invoke, fixture_handler):
    context = Context()
    reply = invoke(build("POST", "/stream_fails/run", body={}), context=context)
    assert reply.status == 500
    assert reply.json() == {"detail": "Pipeline execution failed: the model connection dropped"}
    assert reply.headers["x-request-id"] == context.aws_request_id
    assert_still_serving(fixture_handler, build)


def test_iterator_result_is_json_not_a_stream(build, invoke):
    assert invoke(build("POST", "/iterator_result/run", body={"words": ["a", "b"]})).json() == {"result": ["a", "b"]}
