"""Request fields whose lists stop validating at their first wrong item.

Pydantic reports every wrong item of a list, and FastAPI copies each error twice before answering: a
2 MB body of a million wrong items cost half a minute and over a gigabyte before the 422 was even built
(a timeout or an out-of-memory, then a cold start, on Lambda). Marking the lists, tuples and sets of a
request's fields `FailFast` bounds that work by the body's shape instead of its length; the 422 then
names the first wrong item of each list (and core/app.py caps how many errors it lists).

Applied to annotations once, at cold start. Lists inside a model of the wrapper's own (a `BaseModel`
parameter) keep pydantic's default: that model's validator is built and owned by its module.
"""

from __future__ import annotations

import collections.abc
import types
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic.types import FailFast

_SEQUENCES = frozenset(
    {
        list,
        tuple,
        set,
        frozenset,
        collections.abc.Sequence,
        collections.abc.MutableSequence,
        collections.abc.Set,
        collections.abc.MutableSet,
    }
)


def fail_fast(annotation: Any) -> Any:
    """`annotation` with every sequence type in it (through unions and `Annotated`) marked `FailFast`."""
    origin = get_origin(annotation)
    if annotation in _SEQUENCES or origin in _SEQUENCES:
        return Annotated[annotation, FailFast()]
    if origin is Annotated:
        inner, *metadata = get_args(annotation)
        marked = fail_fast(inner)
        return annotation if marked is inner else Annotated[(marked, *metadata)]  # type: ignore[valid-type]
    if origin in (Union, types.UnionType):
        members = get_args(annotation)
        marked_members = tuple(fail_fast(member) for member in members)
        if all(m is n for m, n in zip(marked_members, members, strict=True)):
            return annotation
        return Union[marked_members]  # noqa: UP007 (built from a tuple)
    return annotation
