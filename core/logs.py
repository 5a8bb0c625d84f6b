"""Log level from `LOG` / `HAYHOOKS_LOG_LEVEL`, applied to the root logger.

On Lambda the runtime has already installed a handler that writes to CloudWatch; elsewhere a plain
stderr handler is added.
"""

from __future__ import annotations

import logging


def configure_logging(level: str) -> None:
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    root.setLevel(level)
