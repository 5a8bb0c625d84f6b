"""SnapStart: what to do before Lambda snapshots an initialised environment and after it restores one.

With `SnapStart: ApplyOn: PublishedVersions` (template parameter `EnableSnapStart`), Lambda runs the init
phase once per published version, snapshots memory, and starts environments from that snapshot. State
created at init is then shared by every restored environment, and time has passed since it was made:

* before the snapshot: pipelines are already loaded and set up, their warm-up hooks run, and the init
  warm-up done (that is the init phase, core/warmup.py); nothing to add but a log line;
* after a restore: re-seed the random generators (each environment must not replay the same sequence),
  resolve `HAYHOOKS_SECRETS` again when the snapshot is older than `HAYHOOKS_SECRETS_TTL_SECONDS`
  (900 by default), and call each wrapper's optional `after_restore()`, where a wrapper re-creates what
  must not be shared or reused: network clients and connection pools, temporary credentials, caches of
  time-sensitive data.

The hooks are registered with `snapshot_restore_py`, which Lambda's Python runtime provides; elsewhere
they are simply not registered.
"""

from __future__ import annotations

import logging
import os
import random
import sys
import time
from typing import Any

from core.pooled_connections import drop_pooled_connections

logger = logging.getLogger("handler.snapstart")


def register(handler: Any) -> bool:
    try:
        from snapshot_restore_py import register_after_restore, register_before_snapshot
    except ImportError:
        return False
    register_before_snapshot(before_snapshot, handler)
    register_after_restore(after_restore, handler)
    return True


def _wrapper_roots(handler: Any) -> list[Any]:
    """Each wrapper, and where else its module keeps things: class attributes and module globals."""
    roots: list[Any] = []
    for pipeline in handler.registry.loaded_pipelines():
        cls = type(pipeline.wrapper)
        roots += [pipeline.wrapper, dict(vars(cls))]
        module = sys.modules.get(cls.__module__)
        if module is not None and cls.__module__.startswith("_haystack_lambda_pipelines."):
            roots.append(dict(vars(module)))  # the pipeline's own module: clients created at import
    return roots


def _app_clients() -> list[Any]:
    """Clients the function itself keeps: Powertools' parameter providers (secrets, API keys)."""
    parameters = sys.modules.get("aws_lambda_powertools.utilities.parameters.constants")
    return list(getattr(parameters, "DEFAULT_PROVIDERS", {}).values())


def before_snapshot(handler: Any) -> None:
    handler.snapshot_at = time.time()
    logger.info("Snapshot: %d pipeline(s) loaded, their warm-up hooks run", len(handler.registry.loaded))


def after_restore(handler: Any) -> float:
    """Returns how long the hooks took, in ms (also logged)."""
    started = time.perf_counter()
    random.seed()
    numpy = sys.modules.get("numpy")
    if numpy is not None:
        numpy.random.seed()
    try:
        clients = drop_pooled_connections(*_wrapper_roots(handler), *_app_clients())
    except Exception:  # never fail a restore over it: a stale connection costs one failed request at worst
        logger.exception("Could not drop pooled connections after the restore")
        clients = 0
    ttl = float(os.environ.get("HAYHOOKS_SECRETS_TTL_SECONDS", "900"))
    age = time.time() - getattr(handler, "snapshot_at", time.time())
    if handler.settings.secrets and age > ttl:
        from core.secrets import SecretError, resolve

        try:
            resolve(handler.settings.secrets)
        except SecretError as exc:
            # a failed restore hook fails the invocation; the snapshot's values may well still be valid
            logger.error("%s: keeping the values from the snapshot", exc)
    failed = []
    for pipeline in handler.registry.loaded_pipelines():
        hook = getattr(pipeline.wrapper, "after_restore", None)
        if callable(hook):
            try:
                hook()
            except Exception:
                logger.exception("Pipeline '%s': after_restore() failed", pipeline.name)
                failed.append(pipeline.name)
    handler.metrics.emit_cold_start(restored=True)
    elapsed = (time.perf_counter() - started) * 1000
    logger.info(
        "Restored from snapshot in %.1f ms; pooled connections dropped in %d client(s)%s",
        elapsed,
        clients,
        f"; after_restore() failed for {', '.join(failed)}" if failed else "",
    )
    return elapsed
