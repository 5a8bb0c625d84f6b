"""A top-level `*.yml` / `*.yaml` pipeline served as `POST /{stem}/run`, as Hayhooks serves it.

The YAML declares `inputs:` (request field → `component.socket`, or a list of them) and `outputs:`
(response key → `component.socket`). The file is read, never rewritten, and loaded once.
"""

from __future__ import annotations

import inspect
import re
from collections import defaultdict
from pathlib import Path
from typing import Any

import yaml

from core.redact import redact


class YAMLPipelineError(Exception):
    """The YAML file cannot be served; the message names the key or component at fault."""


def _targets(io_name: str, declared: Any) -> list[str]:
    paths = declared if isinstance(declared, list) else [declared]
    targets = [p for p in paths if isinstance(p, str) and "." in p]
    if not targets:
        raise YAMLPipelineError(
            f"input '{io_name}' must map to 'component.socket' (or a list of them), got {declared!r}"
        )
    return list(dict.fromkeys(targets))


_ALLOWLIST_HINT = (
    " To trust it, add '{module}' to HAYSTACK_DESERIALIZATION_ALLOWLIST in the function's environment "
    "(comma-separated module names or patterns, e.g. '{module},other_module.*')."
)
_NOT_IMPORTED_HINT = (
    " Check the type's spelling and that its package is installed; for a component of your own, make its "
    "module importable (HAYHOOKS_ADDITIONAL_PYTHON_PATH) and add it to HAYSTACK_DESERIALIZATION_ALLOWLIST."
)


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else ""


def _explain_load_error(exc: Exception, document: dict) -> str:
    """One line naming the component at fault when Haystack's message lets us find it, and what to do."""
    text = str(exc)
    # "Couldn't deserialize component 'x' ... with the following data:\n{...}\n\nOriginal error: <why>": the
    # why (a bad init parameter, a nested class refused by the allowlist) is on the last line, not the first
    original = text.rpartition("Original error:")[2] if "Original error:" in text else ""
    message = _first_line(original) or _first_line(text) or type(exc).__name__
    message = redact(message.split(" If you trust the source")[0])  # Haystack's multi-line advice, replaced below
    components = document.get("components") or {}
    culprits = [
        f"component '{name}' (type {spec.get('type')})"
        for name, spec in components.items()
        if isinstance(spec, dict)
        and isinstance(spec.get("type"), str)
        and (f"'{spec['type'].rsplit('.', 1)[0]}'" in text or f"'{spec['type']}'" in text or f"'{name}'" in text)
    ]
    prefix = f"{', '.join(culprits)}: " if culprits else ""
    hint = ""
    if refused := re.search(r"deserialize a class from module '([^']+)'", message):
        hint = _ALLOWLIST_HINT.format(module=refused.group(1))
    elif " not imported. " in message:
        message = message.split(" Please check")[0].rstrip(".")
        cause = exc.__cause__
        if cause is not None and not isinstance(cause, ValueError):  # ValueError: a type without a module
            message += f" ({redact(_first_line(str(cause)).rstrip('.'))})"
        message += "."
        hint = _NOT_IMPORTED_HINT
    return f"Failed to load pipeline from YAML: {prefix}{message}{hint}"


class YAMLPipelineWrapper:
    """Wraps a YAML pipeline so it has the same `setup()` / `run_api()` contract as a code wrapper."""

    def __init__(self, path: Path | None = None, *, source: str | None = None, description: str | None = None) -> None:
        self.path = path
        self._source = source  # the YAML itself, for one built with from_yaml() (no file)
        self.description = description
        self.pipeline: Any = None
        self._inputs: dict[str, list[str]] = {}
        self._include_outputs_from: set[str] | None = None

    @classmethod
    def from_file(cls, yaml_path: Path | str, description: str | None = None) -> YAMLPipelineWrapper:
        """Hayhooks' constructor for a YAML file; `setup()` then loads it."""
        path = Path(yaml_path)
        if not path.exists():
            raise FileNotFoundError(f"YAML pipeline file not found: {path}")
        return cls(path, description=description)

    @classmethod
    def from_yaml(cls, source_code: str, description: str | None = None) -> YAMLPipelineWrapper:
        """Hayhooks' constructor for YAML text; `setup()` then loads it."""
        return cls(source=source_code, description=description)

    def setup(self) -> None:
        from haystack import Pipeline

        source = self._source if self._source is not None else self.path.read_text(encoding="utf-8")  # type: ignore[union-attr]
        try:
            document = yaml.safe_load(source) or {}
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
            raise YAMLPipelineError(f"not valid YAML: {getattr(exc, 'problem', None) or exc}{where}") from exc
        if not isinstance(document, dict):
            raise YAMLPipelineError("the file must hold a mapping with 'components' and 'connections'")
        declared_inputs = document.get("inputs") or {}
        declared_outputs = document.get("outputs") or {}
        if not declared_inputs and not declared_outputs:
            raise YAMLPipelineError("YAML pipeline must declare at least one of 'inputs' or 'outputs'.")
        if not isinstance(declared_inputs, dict) or not isinstance(declared_outputs, dict):
            raise YAMLPipelineError("'inputs' and 'outputs' must be mappings of name to 'component.socket'")

        pipeline_document = {k: v for k, v in document.items() if k not in ("inputs", "outputs")}
        try:
            self.pipeline = Pipeline.from_dict(pipeline_document)
        except Exception as exc:
            raise YAMLPipelineError(_explain_load_error(exc, pipeline_document)) from exc

        inputs = {name: _targets(name, declared) for name, declared in declared_inputs.items()}
        owners: dict[str, str] = {}
        for name, targets in inputs.items():
            for target in targets:
                if target in owners:
                    raise YAMLPipelineError(
                        f"input '{name}' targets '{target}', already targeted by input '{owners[target]}'"
                    )
                owners[target] = name
        self._inputs = inputs

        components = {name for name, _ in self.pipeline.walk()}
        out_components = set()
        for name, declared in declared_outputs.items():
            path = declared[0] if isinstance(declared, list) and declared else declared
            if not isinstance(path, str) or "." not in path:
                raise YAMLPipelineError(f"output '{name}' must map to 'component.socket', got {declared!r}")
            component = path.split(".", 1)[0]
            if component not in components:
                raise YAMLPipelineError(
                    f"output '{name}' names component '{component}', which the pipeline does not have"
                )
            out_components.add(component)
        self._include_outputs_from = out_components or None

        self._bind_signature()

    def _bind_signature(self) -> None:
        """Give this instance's run_api a signature listing the declared inputs with their socket types."""
        pipeline_inputs = self.pipeline.inputs(include_components_with_connected_inputs=True)
        params = []
        for name, targets in self._inputs.items():
            component, socket = targets[0].split(".", 1)
            meta = pipeline_inputs.get(component, {}).get(socket)
            if meta is None:
                raise YAMLPipelineError(
                    f"input '{name}' targets '{targets[0]}', which is not an input socket of the pipeline"
                )
            params.append(inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=meta.get("type", Any)))

        run = self._run

        def run_api(**kwargs: Any) -> dict:
            return run(kwargs)

        run_api.__signature__ = inspect.Signature(params, return_annotation=dict)  # type: ignore[attr-defined]
        run_api.__doc__ = self.description or f"Run the YAML pipeline '{self.path.stem if self.path else 'from_yaml'}'."
        self.run_api = run_api  # type: ignore[method-assign]

    def _run(self, flat_inputs: dict[str, Any]) -> dict:
        data: dict[str, dict[str, Any]] = defaultdict(dict)
        for name, value in flat_inputs.items():
            for target in self._inputs[name]:
                component, socket = target.split(".", 1)
                data[component][socket] = value
        return self.pipeline.run(dict(data), include_outputs_from=self._include_outputs_from)

    def run_api(self, **kwargs: Any) -> dict:  # replaced per instance by setup()
        raise NotImplementedError
