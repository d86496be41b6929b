"""Masking of secret fields (tokens, passwords) before a request is logged, stored or shown.

Deriv marks such fields ``"sensitive": 1`` in its schemas and echoes them as ``"<not shown>"``;
derivkit does the same on its side so a secret can never leak through ``echo_req`` copies,
exception text, ``repr`` or logs.
"""

from __future__ import annotations

from typing import Any

__all__ = ["MASK", "MAX_DEPTH", "SENSITIVE_KEYS", "mask_secrets", "mask_token"]

MASK = "<not shown>"

SENSITIVE_KEYS = frozenset(
    {
        "authorize",
        "tokens",
        "token",
        "new_token",
        "password",
        "new_password",
        "old_password",
        "main_password",
        "investPassword",
        "trading_platform_password",
        "verification_code",
        "secret_answer",
        "secret_key",
    }
)


#: Containers nested deeper than this are masked whole: a secret cannot hide below, and masking
#: never recurses without bound (a server may send anything).
MAX_DEPTH = 64


def mask_secrets(value: Any, _depth: int = 0) -> Any:
    """Return a copy of ``value`` with every sensitive field (at any depth) replaced by ``MASK``.

    A dict or list nested more than :data:`MAX_DEPTH` levels down is replaced by ``MASK`` whole.
    """
    if isinstance(value, dict):
        if _depth >= MAX_DEPTH:
            return MASK
        return {
            key: MASK if key in SENSITIVE_KEYS else mask_secrets(item, _depth + 1)
            for key, item in value.items()
        }
    if isinstance(value, list):
        if _depth >= MAX_DEPTH:
            return MASK
        return [mask_secrets(item, _depth + 1) for item in value]
    return value


def mask_token(token: str | None) -> str:
    """A token shortened for display: the last four characters only (``"****abcd"``)."""
    if not token:
        return "(none)"
    return "****" + token[-4:] if len(token) > 8 else "****"
