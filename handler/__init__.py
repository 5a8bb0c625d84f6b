"""Lambda entry point (`Handler: handler.lambda_handler`).

Importing this package is the cold start: settings are read, pipelines are loaded and set up, the app
is built. All of it happens in Lambda's init phase, before the first request.
"""

import os

# Before anything imports haystack: its telemetry imports posthog and calls home at exit.
os.environ.setdefault("HAYSTACK_TELEMETRY_ENABLED", "False")

from handler.entry import LambdaHandler

lambda_handler = LambdaHandler()

__all__ = ["LambdaHandler", "lambda_handler"]
