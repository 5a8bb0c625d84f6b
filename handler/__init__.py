"""Lambda entry point (`Handler: handler.lambda_handler`).

Importing this package is the cold start: settings are read, pipelines are loaded and set up, the app
is built. All of it happens in Lambda's init phase, before the first request.
"""

import os

# Before anything imports haystack: its telemetry imports posthog and calls home at exit.
os.environ.setdefault("HAYSTACK_TELEMETRY_ENABLED", "False")

from handler.arch import check_architecture

check_architecture()  # before any compiled module is imported: a mismatch is one line, not an ImportError

from handler.entry import LambdaHandler  # noqa: E402 (after the architecture check, on purpose)

lambda_handler = LambdaHandler()

__all__ = ["LambdaHandler", "lambda_handler"]
