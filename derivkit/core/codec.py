"""JSON in and out of frames, with orjson (several times faster than the standard library).

``encode`` returns UTF-8 bytes, sent as a text frame; ``decode`` takes the frame as received
(bytes or str). Values orjson refuses (integers beyond 64 bits, non-string keys) fall back to
the standard library, so any payload ``json`` can encode still goes out.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import orjson

__all__ = ["decode", "encode"]

_fallback = json.JSONEncoder(separators=(",", ":")).encode


def encode(message: Any) -> bytes:
    try:
        return orjson.dumps(message)
    except TypeError:
        return _fallback(message).encode()


#: Parse one frame (bytes, str or a memoryview); raises ``ValueError`` when it is not JSON.
#: orjson's own function, not a wrapper: it runs once per frame.
decode: Callable[[str | bytes | memoryview], Any] = orjson.loads
