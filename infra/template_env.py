"""The function's environment as template.yaml sets it with every parameter at its default.

`make bench` measures the cold start of the function as deployed by default; reading the variables from
the template itself (not a copy in the bench) keeps that true when the template changes. Only what the
function's `Environment` and `Tracing` use is understood: `!Ref` (parameters, pseudo parameters, resources
given by the caller), `!If`, and conditions built from `!Equals`, `!Not`, `!And`, `!Or`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

NO_VALUE = object()  # AWS::NoValue: the variable is left out


class _Tag:
    def __init__(self, name: str, value: Any) -> None:
        self.name, self.value = name, value


class _TemplateLoader(yaml.SafeLoader):
    pass


def _construct_tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> _Tag:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return _Tag(suffix, value)


_TemplateLoader.add_multi_constructor("!", _construct_tag)


class DefaultResolver:
    def __init__(self, template: dict[str, Any], resources: dict[str, str], overrides: dict[str, str]) -> None:
        self.template = template
        self.values = {name: str(p.get("Default", "")) for name, p in template.get("Parameters", {}).items()}
        self.values.update(overrides)
        self.resources = resources
        self.conditions = template.get("Conditions", {})

    def value(self, node: Any) -> Any:
        if not isinstance(node, _Tag):
            return node
        if node.name == "Ref":
            if node.value == "AWS::NoValue":
                return NO_VALUE
            if node.value in self.values:
                return self.values[node.value]
            if node.value in self.resources:
                return self.resources[node.value]
            raise KeyError(f"template_env: no value for !Ref {node.value}")
        if node.name == "If":
            condition, when_true, when_false = node.value
            return self.value(when_true if self.condition(condition) else when_false)
        raise ValueError(f"template_env: !{node.name} is not understood here")

    def condition(self, name: str) -> bool:
        return self._truth(self.conditions[name])

    def _truth(self, node: Any) -> bool:
        if not isinstance(node, _Tag):
            raise ValueError(f"template_env: condition {node!r} is not understood")
        if node.name == "Equals":
            left, right = (self.value(v) for v in node.value)
            return str(left) == str(right)
        if node.name == "Not":
            return not self._truth(node.value[0])
        if node.name == "And":
            return all(self._truth(v) for v in node.value)
        if node.name == "Or":
            return any(self._truth(v) for v in node.value)
        if node.name == "Condition":
            return self.condition(node.value)
        raise ValueError(f"template_env: !{node.name} is not understood in a condition")


def function_defaults(
    template_path: Path,
    resources: dict[str, str],
    function: str = "PipelinesFunction",
    overrides: dict[str, str] | None = None,
) -> tuple[dict[str, str], bool]:
    """(the function's environment variables, whether active tracing is on) with the parameters' defaults
    (or `overrides`); `resources` gives the value `!Ref` has for a resource (e.g. a secret's ARN)."""
    template = yaml.load(template_path.read_text(), Loader=_TemplateLoader)  # SafeLoader + CFN tags
    resolver = DefaultResolver(template, resources, overrides or {})
    properties = template["Resources"][function]["Properties"]
    env = {}
    for name, node in properties.get("Environment", {}).get("Variables", {}).items():
        value = resolver.value(node)
        if value is not NO_VALUE:
            env[name] = str(value)
    return env, resolver.value(properties.get("Tracing", "PassThrough")) == "Active"
