"""Masking secrets in text that leaves the function (error details, `/status` reasons).

Exception messages sometimes quote what they failed with: a database URL with its password, an API key.
Those texts are served to any caller, so credentials in URLs and key-shaped tokens are masked first.
"""

from __future__ import annotations

import re

_PATTERNS = (
    (re.compile(r"(?<=://)[^/\s:@]+:[^/\s@]+@"), "***@"),  # scheme://user:password@host
    (re.compile(r"\b(sk|pk|rk)-[A-Za-z0-9_\-]{8,}"), r"\1-***"),  # OpenAI-style keys
    (re.compile(r"\b(AKIA|ASIA)[0-9A-Z]{16}\b"), r"\1***"),  # AWS access key ids
    (re.compile(r"(?i)\b(api[_-]?key|token|secret|password|passwd)(\s*[=:]\s*)(['\"]?)[^\s'\",;]+"), r"\1\2\3***"),
    (re.compile(r"(?i)\b(bearer)\s+[A-Za-z0-9._\-]{8,}"), r"\1 ***"),
)


def redact(text: str) -> str:
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text
