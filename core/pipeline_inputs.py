"""`coerce_pipeline_inputs`: serialized Haystack objects in a JSON payload turned back into objects.

A run endpoint typed `dict[str, Any]` receives `{"role": "user", ...}` where the pipeline wants a
`ChatMessage`. The pipeline's input socket types say what each value should be; a value is converted
when its socket type involves exactly one class that can be built from a dict (a `from_dict` class such
as `ChatMessage` or `Document`, a pydantic model, a dataclass), directly or as `list[T]` / `T | None`.
"""

from __future__ import annotations

from dataclasses import is_dataclass
from types import UnionType
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel, TypeAdapter


def _classes(socket_type: Any) -> set[type]:
    """The classes a dict could be turned into, for one socket type."""
    if get_origin(socket_type) in (Union, UnionType):
        return set().union(*(_classes(arm) for arm in get_args(socket_type)))
    if get_origin(socket_type) is list:
        args = get_args(socket_type)
        return _classes(args[0]) if args else set()
    if isinstance(socket_type, type) and (
        hasattr(socket_type, "from_dict") or issubclass(socket_type, BaseModel) or is_dataclass(socket_type)
    ):
        return {socket_type}
    return set()


def _build(value: dict[str, Any], cls: type) -> Any:
    if hasattr(cls, "from_dict"):  # Haystack's own deserialization first
        return cls.from_dict(value)
    if issubclass(cls, BaseModel):
        return cls.model_validate(value)
    return TypeAdapter(cls).validate_python(value)


def _coerce(value: Any, socket_types: list[Any]) -> Any:
    if not (isinstance(value, dict) or (isinstance(value, list) and any(isinstance(v, dict) for v in value))):
        return value
    for socket_type in socket_types:
        classes = _classes(socket_type)
        if len(classes) > 1:
            names = ", ".join(sorted(c.__name__ for c in classes))
            raise ValueError(
                f"Cannot coerce input for socket type '{socket_type}': it could be any of {names}, and a "
                "serialized dict does not say which; pass the object itself"
            )
        if classes:
            (cls,) = classes
            if isinstance(value, dict):
                return _build(value, cls)
            return [_build(v, cls) if isinstance(v, dict) else v for v in value]
    return value


def coerce_pipeline_inputs(pipeline: Any, data: dict[str, Any]) -> dict[str, Any]:
    """`data` with serialized objects rebuilt, in the same format it came in.

    Like `Pipeline.run`, `data` is nested (`{"component": {"input": value}}`) when every value is a dict,
    and flat (`{"input": value}`, matched against every component having that input) otherwise.
    Raises ValueError for a dict whose socket type allows more than one class.
    """
    if all(isinstance(value, dict) for value in data.values()):
        sockets = pipeline.inputs(include_components_with_connected_inputs=True)
        return {
            component: {
                name: _coerce(value, [sockets[component][name]["type"]] if name in sockets.get(component, {}) else [])
                for name, value in inputs.items()
            }
            for component, inputs in data.items()
        }
    sockets = pipeline.inputs()
    return {
        name: _coerce(value, [s[name]["type"] for s in sockets.values() if name in s]) for name, value in data.items()
    }
