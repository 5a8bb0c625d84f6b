"""Secrets into the environment at cold start, from SSM Parameter Store or Secrets Manager.

`HAYHOOKS_SECRETS` maps environment variable names to where their values live:

    HAYHOOKS_SECRETS="OPENAI_API_KEY=ssm:/prod/openai,DB_PASSWORD=secretsmanager:prod/db#password"

`ssm:<name>` reads a (SecureString, decrypted) parameter; `secretsmanager:<id>` a secret's string, and
`#<key>` one field of a JSON secret. They are resolved (core/aws_reads.py: no AWS SDK on Lambda) before
any pipeline loads, so `setup()` and components that read `os.environ` (e.g. `Secret.from_env_var`) find them. A secret
that cannot be read fails the cold start with a message naming the variable and where it was looked for,
never the value. Values stay out of code and templates.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass

from core.redact import remember_secret_values

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
KINDS = {"ssm": "SSM parameter", "secretsmanager": "Secrets Manager secret", "secret": "Secrets Manager secret"}


class SecretError(Exception):
    """A secret could not be resolved; the message names the variable and the source, never a value."""


@dataclass(frozen=True)
class SecretRef:
    variable: str
    kind: str  # ssm | secretsmanager
    name: str
    key: str | None = None

    @property
    def where(self) -> str:
        return f"{KINDS[self.kind]} '{self.name}'" + (f" (key '{self.key}')" if self.key else "")


def parse_secrets(value: str, variable: str = "HAYHOOKS_SECRETS") -> tuple[SecretRef, ...]:
    refs = []
    for item in (i.strip() for i in value.split(",")):
        if not item:
            continue
        name, sep, source = item.partition("=")
        kind, sep2, path = source.partition(":")
        name, kind = name.strip(), kind.strip().lower()
        if not sep or not sep2 or not path or not _NAME.match(name) or kind not in KINDS:
            raise ValueError(
                f"{variable} entries look like NAME=ssm:/path or NAME=secretsmanager:id[#key], got {item!r}"
            )
        path, _, key = path.partition("#")
        refs.append(SecretRef(name, "ssm" if kind == "ssm" else "secretsmanager", path.strip(), key.strip() or None))
    return tuple(refs)


def resolve(refs: tuple[SecretRef, ...]) -> None:
    """Put each secret's value in os.environ; SecretError on the first one that cannot be read."""
    if not refs:
        return
    from core.aws_reads import AwsReadError, read_parameter, read_secret

    for ref in refs:
        try:
            value = read_parameter(ref.name) if ref.kind == "ssm" else read_secret(ref.name)
        except AwsReadError as exc:
            raise SecretError(f"HAYHOOKS_SECRETS: {ref.variable}: cannot read {ref.where}: {exc}") from None
        if ref.key is not None:
            try:
                value = json.loads(value)[ref.key]
            except (ValueError, KeyError, TypeError):
                raise SecretError(
                    f"HAYHOOKS_SECRETS: {ref.variable}: {ref.where} is not a JSON object with that key"
                ) from None
        if not isinstance(value, str) or not value:
            raise SecretError(f"HAYHOOKS_SECRETS: {ref.variable}: {ref.where} is empty")
        os.environ[ref.variable] = value
        remember_secret_values((value,))  # masked wherever text leaves the function (core/redact.py)
