"""LiteLLM's ``get_secret`` / ``get_secret_bool``, reading ``os.environ`` only.

A name may carry LiteLLM's ``os.environ/`` prefix (as in Router configs). A value
``"true"`` / ``"false"`` (any case, surrounding spaces ignored) is returned as a bool, as
LiteLLM does. Deliberate fix: LiteLLM returns None for a missing variable even when a
``default_value`` is given; here the default is returned.
"""

from __future__ import annotations

import os

__all__ = ["get_secret", "get_secret_bool", "str_to_bool"]


def str_to_bool(value: str | None) -> bool | None:
    """``"true"`` -> True, ``"false"`` -> False (any case), anything else -> None."""
    if value is None:
        return None
    lowered = value.strip().lower()
    if lowered == "true":
        return True
    if lowered == "false":
        return False
    return None


def get_secret(secret_name: str, default_value: str | bool | None = None) -> str | bool | None:
    """The environment variable ``secret_name`` (``os.environ/NAME`` accepted), as a bool
    when it spells one, else the string; ``default_value`` when it is not set."""
    if secret_name.startswith("os.environ/"):
        secret_name = secret_name[len("os.environ/") :]
    secret = os.environ.get(secret_name)
    if secret is None:
        return default_value
    as_bool = str_to_bool(secret)
    return secret if as_bool is None else as_bool


def get_secret_bool(secret_name: str, default_value: bool | None = None) -> bool | None:
    """:func:`get_secret` as a bool: None when the value is not ``true``/``false``."""
    secret = get_secret(secret_name, default_value)
    if secret is None or isinstance(secret, bool):
        return secret
    return str_to_bool(secret)
