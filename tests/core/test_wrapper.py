import pytest

from core.wrapper import BasePipelineWrapper, ContractError, check_wrapper_class


class DurableOnly(BasePipelineWrapper):
    def setup(self) -> None:
        pass

    async def run_durable_async(self, context, request):
        return request


class NoRunMethod(BasePipelineWrapper):
    def setup(self) -> None:
        pass


def test_a_durable_only_wrapper_is_refused_saying_it_needs_durable_mode():
    with pytest.raises(ContractError, match=r"implements only run_durable_async: .*HAYHOOKS_DURABLE_MODE"):
        check_wrapper_class(DurableOnly)


def test_a_wrapper_without_run_methods_is_told_which_ones_count():
    with pytest.raises(ContractError, match="implements none of run_api_async, run_api"):
        check_wrapper_class(NoRunMethod)


def test_hayhooks_and_duck_typed_wrappers(build, invoke):
    assert invoke(build("POST", "/hayhooks_style/run", body={"name": "Ann"})).json() == {
        "result": "hello Ann from a Hayhooks wrapper"
    }
    assert invoke(build("POST", "/duck_typed/run", body={"name": "Bo"})).json() == {"result": "hi Bo"}
