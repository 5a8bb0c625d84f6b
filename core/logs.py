"""Logging: JSON lines through Powertools' formatter on Lambda, plain text under `make run`.

Every logger (ours, Haystack's, Mangum's, uvicorn's) goes through the root logger, so one format and one
level (`LOG` / `HAYHOOKS_LOG_LEVEL`) apply to all. `HAYHOOKS_LOG_FORMAT=json|text` overrides the choice.
Request bodies are never logged.
"""

from __future__ import annotations

import logging
import os
import sys


def configure_logging(level: str, log_format: str | None = None) -> None:
    log_format = (
        log_format
        or os.environ.get("HAYHOOKS_LOG_FORMAT")
        or ("json" if os.environ.get("AWS_LAMBDA_FUNCTION_NAME") else "text")
    )
    handler = logging.StreamHandler(sys.stdout)
    if log_format == "json":
        from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter

        handler.setFormatter(
            LambdaPowertoolsFormatter(service=os.environ.get("POWERTOOLS_SERVICE_NAME", "haystack-lambda"), utc=True)
        )
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    # replace, not add: the Lambda runtime installs its own plain-text handler on the root logger
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(level)
    if level != "DEBUG":
        # per-request noise above DEBUG: Haystack logs "Running component X" for every component of every
        # request, Mangum a line per request that the access log already writes with more fields
        for name in ("haystack.core.pipeline", "mangum.http"):
            logging.getLogger(name).setLevel(logging.WARNING)
