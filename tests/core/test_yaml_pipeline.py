"""YAML pipelines that cannot load: Haystack 3's deserialization allowlist, unknown classes, bad parameters.

Haystack 3.4 imports a component class named in YAML only from trusted modules: `haystack`,
`haystack_integrations`, `haystack_experimental` (and `builtins`, `typing`, `collections` for types), plus
the patterns in `HAYSTACK_DESERIALIZATION_ALLOWLIST` (comma-separated, read at every load). Each failure
must name the pipeline, the component and what to do, and leave the other pipelines serving.
"""

from fastapi.testclient import TestClient
from haystack.dataclasses import ChatMessage

from core.app import create_app
from core.loader import load_registry
from tests.conftest import FIXTURE_PIPELINES, fixture_settings

CHAT = "offline_chat.ScriptedChatGenerator"  # a component class of our own, on HAYHOOKS_ADDITIONAL_PYTHON_PATH
HINT_NOT_IMPORTED = (
    "Check the type's spelling and that its package is installed; for a component of your own, make its "
    "module importable (HAYHOOKS_ADDITIONAL_PYTHON_PATH) and add it to HAYSTACK_DESERIALIZATION_ALLOWLIST."
)


def _yaml(component: str, component_type: str, init: str = "{}", socket: str = "messages") -> str:
    return (
        f"components:\n  {component}:\n    type: {component_type}\n    init_parameters: {init}\n"
        f"connections: []\ninputs:\n  value: {component}.{socket}\n"
    )


def _load(tmp_path, **documents):
    (tmp_path / "echo").symlink_to(FIXTURE_PIPELINES / "echo")
    for name, text in documents.items():
        (tmp_path / f"{name}.yml").write_text(text)
    settings = fixture_settings(pipelines_dir=tmp_path)
    registry = load_registry(settings)
    return registry, TestClient(create_app(settings, registry, sync_inline=True))


def _still_serving(client):
    assert client.get("/status").status_code == 200
    reply = client.post("/echo/run", json={"text": "still here"})
    assert reply.status_code == 200 and reply.json()["result"]["text"] == "still here"


def test_class_outside_the_allowlist_names_pipeline_component_and_the_variable(tmp_path, monkeypatch):
    monkeypatch.delenv("HAYSTACK_DESERIALIZATION_ALLOWLIST", raising=False)
    registry, client = _load(tmp_path, my_chat=_yaml("llm", CHAT))
    failed = registry.failed["my_chat"]
    reason = (
        f"my_chat.yml: Failed to load pipeline from YAML: component 'llm' (type {CHAT}): Refusing to deserialize "
        "a class from module 'offline_chat': the module is not on the trusted-module allowlist. To trust it, add "
        "'offline_chat' to HAYSTACK_DESERIALIZATION_ALLOWLIST in the function's environment (comma-separated "
        "module names or patterns, e.g. 'offline_chat,other_module.*')."
    )
    assert (failed.stage, failed.reason) == ("yaml", reason)
    reply = client.post("/my_chat/run", json={"value": []})
    assert reply.status_code == 503
    assert reply.json() == {"detail": f"Pipeline 'my_chat' failed to load: {reason}"}
    _still_serving(client)


def test_extending_the_allowlist_as_the_message_says_loads_it(tmp_path, monkeypatch):
    monkeypatch.setenv("HAYSTACK_DESERIALIZATION_ALLOWLIST", "some_other_module.*, offline_chat")
    registry, client = _load(tmp_path, my_chat=_yaml("llm", CHAT))
    assert not registry.failed and "my_chat" in registry.loaded
    result = registry.get("my_chat").wrapper.run_api(value=[ChatMessage.from_user("a b")])
    assert result["llm"]["replies"][0].text == "You said: a b"
    _still_serving(client)


def test_unknown_class_in_a_trusted_module(tmp_path):
    registry, client = _load(tmp_path, typo=_yaml("builder", "haystack.components.builders.PromtBuilder"))
    assert registry.failed["typo"].reason == (
        "typo.yml: Failed to load pipeline from YAML: component 'builder' (type "
        "haystack.components.builders.PromtBuilder): Component 'haystack.components.builders.PromtBuilder' "
        "(name: 'builder') not imported (Successfully imported module 'haystack.components.builders' but couldn't "
        f"find 'haystack.components.builders.PromtBuilder' in the component registry). {HINT_NOT_IMPORTED}"
    )
    assert client.post("/typo/run", json={"value": "x"}).status_code == 503
    _still_serving(client)


def test_allowlisted_module_that_is_not_installed(tmp_path, monkeypatch):
    monkeypatch.setenv("HAYSTACK_DESERIALIZATION_ALLOWLIST", "my_components")
    registry, client = _load(tmp_path, custom=_yaml("thing", "my_components.Thing", socket="x"))
    assert registry.failed["custom"].reason == (
        "custom.yml: Failed to load pipeline from YAML: component 'thing' (type my_components.Thing): Component "
        f"'my_components.Thing' (name: 'thing') not imported (No module named 'my_components'). {HINT_NOT_IMPORTED}"
    )
    _still_serving(client)


def test_nested_class_outside_the_allowlist_is_named_not_hidden(tmp_path):
    """Haystack's message for a refused init parameter is multi-line; its first line alone says nothing."""
    retriever = "haystack.components.retrievers.in_memory.bm25_retriever.InMemoryBM25Retriever"
    init = "\n      document_store:\n        type: my_stores.FancyStore\n        init_parameters: {}"
    registry, client = _load(tmp_path, search=_yaml("retriever", retriever, init=init, socket="query"))
    assert registry.failed["search"].reason == (
        f"search.yml: Failed to load pipeline from YAML: component 'retriever' (type {retriever}): Failed to "
        "deserialize 'document_store': Refusing to deserialize a class from module 'my_stores': the module is not "
        "on the trusted-module allowlist. To trust it, add 'my_stores' to HAYSTACK_DESERIALIZATION_ALLOWLIST in the "
        "function's environment (comma-separated module names or patterns, e.g. 'my_stores,other_module.*')."
    )
    _still_serving(client)


def test_unknown_init_parameter_says_which(tmp_path):
    builder = "haystack.components.builders.prompt_builder.PromptBuilder"
    registry, client = _load(tmp_path, prompt=_yaml("builder", builder, init="{templat: 'x'}", socket="template"))
    assert registry.failed["prompt"].reason == (
        f"prompt.yml: Failed to load pipeline from YAML: component 'builder' (type {builder}): "
        "PromptBuilder.__init__() got an unexpected keyword argument 'templat'. Did you mean 'template'?"
    )
    _still_serving(client)


def test_yaml_pipeline(build, invoke):
    reply = invoke(build("POST", "/yaml_echo/run", body={"a": "1", "b": "2"}))
    assert reply.status == 200
    assert reply.json() == {"result": {"builder": {"prompt": "1+2"}}}
