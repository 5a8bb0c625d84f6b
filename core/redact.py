"""Masking secrets in text that leaves the function: error details, `/status`, tracebacks, log lines.

Exception messages sometimes quote what they failed with: a database URL with its password, an API key.
Two layers mask them:

* the *values* of the secrets the function was given (`remember_secret_values`, at cold start): the
  variables `HAYHOOKS_SECRETS` resolved, environment variables whose names look secret (`*_API_KEY`,
  `*_PASSWORD`, `*_TOKEN`, `*_SECRET`, ...) and the API keys. These are caught whatever the wording;
* common token shapes, by pattern: credentials in URLs, `name=value` / `'name': 'value'` pairs for
  secret-looking names, `Bearer` / `Basic` credentials, OpenAI, AWS, GitHub, Slack, Hugging Face, Google
  and Stripe keys, JWTs.

Only error paths and log lines (not the per-request access line) pay for it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from functools import cache

MASK = "***"
MIN_SECRET_LENGTH = 6  # shorter values would mask ordinary words
_SECRET_NAME_PARTS = frozenset(
    {"KEY", "KEYS", "APIKEY", "TOKEN", "SECRET", "PASSWORD", "PASSWD", "PWD", "CREDENTIAL", "CREDENTIALS", "PRIVATE"}
)
# names that hold where a secret is, or an identifier, not the secret itself
_NOT_SECRET_NAMES = frozenset({"HAYHOOKS_SECRETS", "HAYHOOKS_API_KEYS_SECRET", "HAYHOOKS_SECRETS_TTL_SECONDS"})
_IDENTIFIER_SUFFIXES = ("_ID", "_ARN", "_NAME", "_PATH", "_FILE", "_TTL_SECONDS")

_SECRET_WORD = r"[A-Za-z0-9_\-]*(?:api[_-]?key|token|secret|password|passwd|pwd|credential)[A-Za-z0-9_\-]*"
_VALUE = r"(?![0-9]+\b)[^\s'\",;}]+"  # a value, unless a plain number (a count, not a secret)
_SECRET_WORDS = ("key", "token", "secret", "password", "passwd", "pwd", "credential")
# (pattern, replacement, literals one of which any match contains, lowercased). Most text (a log line at
# cold start, say) contains none of them: it is not scanned, and a pattern is compiled only when first
# needed (compiling all of them cost about 5 ms of every cold start).
_PATTERNS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    (r"(?<=://)[^/\s:@]*:[^/\s@]+@", MASK + "@", ("://",)),  # scheme://user:password@host, user optional
    # NAME=value; 'name': 'value' or "name": value (dict and JSON); name: 'value'; name: value-with-a-digit.
    # An unquoted "name: word" is prose more often than not ("needs OPENAI_API_KEY: set it ...").
    (r"(?i)(?<![A-Za-z0-9])(" + _SECRET_WORD + r")(\s*=\s*)(['\"]?)" + _VALUE, r"\1\2\3***", _SECRET_WORDS),
    (r"(?i)(['\"]" + _SECRET_WORD + r"['\"]\s*:\s*)(['\"]?)" + _VALUE, r"\1\2***", _SECRET_WORDS),
    (r"(?i)(?<![A-Za-z0-9])(" + _SECRET_WORD + r"\s*:\s*)(['\"])[^'\"\s]+", r"\1\2***", _SECRET_WORDS),
    (
        r"(?i)(?<![A-Za-z0-9])(" + _SECRET_WORD + r"\s*:\s*)(?=[^\s'\",;]*[0-9])[^\s'\",;]{8,}",
        r"\1***",
        _SECRET_WORDS,
    ),
    (r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/\-]{6,}=*", r"\1 ***", ("bearer", "basic")),
    (r"\b(sk|pk|rk)-[A-Za-z0-9_\-]{8,}", r"\1-***", ("sk-", "pk-", "rk-")),  # OpenAI-style keys
    (r"\b(sk|rk)_(live|test)_[A-Za-z0-9]{8,}", r"\1_\2_***", ("sk_", "rk_")),  # Stripe secret keys
    (r"\b(AKIA|ASIA)[0-9A-Z]{16}\b", r"\1***", ("akia", "asia")),  # AWS access key ids
    (  # GitHub tokens
        r"\b(gh[pousr]_|github_pat_)[A-Za-z0-9_]{20,}",
        r"\1***",
        ("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"),
    ),
    (r"\b(xox[abeprs]-)[A-Za-z0-9\-]{8,}", r"\1***", ("xox",)),  # Slack tokens
    (r"\b(hf_)[A-Za-z0-9]{20,}", r"\1***", ("hf_",)),  # Hugging Face tokens
    (r"\bAIza[0-9A-Za-z_\-]{30,}", "AIza***", ("aiza",)),  # Google API keys
    (r"\beyJ[A-Za-z0-9_\-]{4,}\.eyJ[A-Za-z0-9_\-]{4,}\.[A-Za-z0-9_\-]*", "eyJ***", ("eyj",)),  # JWTs
)


@cache
def _compiled(source: str) -> re.Pattern[str]:
    return re.compile(source)


_known_values: set[str] = set()
_known: re.Pattern[str] | None = None


def redact(text: str) -> str:
    if _known is not None:
        text = _known.sub(MASK, text)
    lowered = text.lower()
    for source, replacement, literals in _PATTERNS:
        if any(literal in lowered for literal in literals):
            text = _compiled(source).sub(replacement, text)
            lowered = text.lower()
    return text


def looks_secret(name: str) -> bool:
    upper = name.upper()
    if upper in _NOT_SECRET_NAMES or upper.endswith(_IDENTIFIER_SUFFIXES) or upper.startswith("AWS_LAMBDA_"):
        return False
    return not _SECRET_NAME_PARTS.isdisjoint(upper.split("_"))


def secret_values(
    environ: Mapping[str, str], *, secret_variables: Iterable[str] = (), api_keys: Iterable[bytes] = ()
) -> set[str]:
    """The values to mask: `secret_variables` (those `HAYHOOKS_SECRETS` filled), every variable whose name
    looks secret (a comma-separated `HAYHOOKS_API_KEYS` counts per key), and the API keys."""
    names = set(secret_variables) | {name for name in environ if looks_secret(name)}
    values = {key.decode() for key in api_keys}
    for name in names:
        value = environ.get(name, "")
        values.update(value.split(",") if name == "HAYHOOKS_API_KEYS" else (value,))
    return {v.strip() for v in values if len(v.strip()) >= MIN_SECRET_LENGTH and not v.strip().isdigit()}


def remember_secret_values(values: Iterable[str], *, only: bool = False) -> None:
    """From now on `redact` masks these values too: added to those remembered before (a rotated secret's
    old value stays masked), or, with `only` (a cold start), instead of them."""
    global _known
    if only:
        _known_values.clear()
    _known_values.update(v for v in values if len(v) >= MIN_SECRET_LENGTH)
    # longest first: a value that contains another is masked whole
    ordered = sorted(_known_values, key=len, reverse=True)
    _known = re.compile("|".join(re.escape(v) for v in ordered)) if ordered else None
