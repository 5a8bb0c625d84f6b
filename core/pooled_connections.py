"""Drop the pooled network connections that objects hold, keeping the clients themselves usable.

After a SnapStart restore every environment starts from the same memory, including any keep-alive
connection a client opened at init: its socket is dead (or, worse, shared), and a client that reuses it
fails its first request. `drop_pooled_connections` walks from the given roots (pipeline wrappers) through
their attributes and Haystack pipelines' components, and empties the pools of the clients it finds, so
each one opens fresh connections on its next request:

* httpx and httpx2 `Client` / `AsyncClient` (and so the OpenAI SDK and Haystack's OpenAI components);
* botocore clients (boto3, and Haystack's Amazon Bedrock components);
* requests `Session`.

Clients stay configured and open: only their idle connections go. Objects that cannot be inspected are
skipped. Anything else a wrapper holds (its own socket, a database driver) is the wrapper's
`after_restore()` to re-create.
"""

from __future__ import annotations

import sys
import types
from collections import deque
from typing import Any

_MAX_OBJECTS = 20_000  # a bound on the walk: document stores can hold many objects, none of them clients
_MAX_CONTAINER = 256  # containers larger than this hold data, not clients
_LEAVES = (
    str, bytes, bytearray, int, float, complex, bool, type(None), type,
    types.ModuleType, types.FunctionType, types.BuiltinFunctionType, types.MethodType,
)  # fmt: skip


def _children(obj: Any) -> list[Any]:
    if isinstance(obj, dict):
        return list(obj.values()) if len(obj) <= _MAX_CONTAINER else []
    if isinstance(obj, (list, tuple, set, frozenset)):
        return list(obj) if len(obj) <= _MAX_CONTAINER else []
    found: list[Any] = []
    if type(obj).__module__.startswith("haystack.") and callable(walk := getattr(obj, "walk", None)):
        found.extend(component for _, component in walk())  # a Pipeline: its components
    attributes = getattr(obj, "__dict__", None)
    if isinstance(attributes, dict):
        found.extend(attributes.values())
    return found


def _drop(obj: Any) -> bool:
    """Empty `obj`'s connection pools if it is a client this module knows; True if it was one."""
    httpx_clients = tuple(
        cls
        for name in ("httpx", "httpx2")  # the OpenAI SDK 3 uses httpx2, httpx's successor with the same insides
        if (module := sys.modules.get(name)) is not None
        for cls in (module.Client, module.AsyncClient)
    )
    if httpx_clients and isinstance(obj, httpx_clients):
        transports = [obj._transport, *obj._mounts.values()]
        for transport in transports:
            pool = getattr(transport, "_pool", None)
            if pool is not None and hasattr(pool, "_connections"):
                # dead sockets need no closing; a sync pool can be closed cleanly, an async one only
                # from its own event loop, so both just forget their connections
                pool._connections = []
        return True
    botocore_client = sys.modules.get("botocore.client")
    if botocore_client is not None and isinstance(obj, botocore_client.BaseClient):
        session = getattr(getattr(obj, "_endpoint", None), "http_session", None)
        if session is not None and hasattr(session, "close"):
            session.close()  # botocore's URLLib3Session: clears its pool managers, stays usable
        return True
    requests = sys.modules.get("requests")
    if requests is not None and isinstance(obj, requests.Session):
        obj.close()  # closes the adapters' pools; the session opens new ones on demand
        return True
    return False


def drop_pooled_connections(*roots: Any) -> int:
    """Walk from `roots` and empty every known client's pools; returns how many clients were found."""
    seen: set[int] = set()
    queue = deque(roots)
    clients = 0
    while queue and len(seen) < _MAX_OBJECTS:
        obj = queue.popleft()
        if isinstance(obj, _LEAVES) or id(obj) in seen:
            continue
        seen.add(id(obj))
        try:
            if _drop(obj):
                clients += 1
                continue  # a client's insides are its own
            queue.extend(_children(obj))
        except Exception:  # an object that cannot be inspected (a raising __getattr__) holds no known client
            continue
    return clients
