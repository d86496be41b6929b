"""Turning reply dicts into typed results, where a reply of the wrong shape becomes a
:class:`~derivkit.core.exceptions.ProtocolError` instead of a KeyError deep in a caller."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from derivkit.core.exceptions import ProtocolError
from derivkit.core.models import Candle, History, _Model

__all__ = [
    "candles_from",
    "guarded",
    "history_from",
    "listed",
    "one",
    "parse_candles",
    "payload_parser",
    "shaped",
]

T = TypeVar("T")

SHAPE_ERRORS = (KeyError, TypeError, ValueError, AttributeError, IndexError)


def shaped(reply: dict[str, Any], build: Callable[[dict[str, Any]], T]) -> T:
    """Build a typed result; a reply of the wrong shape becomes a :class:`ProtocolError`."""
    try:
        return build(reply)
    except SHAPE_ERRORS as exc:
        raise ProtocolError(
            f"unexpected shape of a {reply.get('msg_type')!r} reply: {exc!r}"
        ) from exc


M = TypeVar("M", bound=_Model)


def one(reply: dict[str, Any], model: type[M], key: str) -> M:
    """The reply's ``key`` payload as a ``model``."""
    return shaped(reply, lambda message: model.from_dict(message[key]))


def listed(reply: dict[str, Any], model: type[M], *path: str) -> list[M]:
    """The list found at ``path`` in the reply, each item as a ``model``."""

    def build(message: dict[str, Any]) -> list[M]:
        node: Any = message
        for key in path:
            node = node[key]
        return [model.from_dict(item) for item in node]

    return shaped(reply, build)


def history_from(reply: dict[str, Any]) -> History:
    return History.from_dict({**reply["history"], "pip_size": reply.get("pip_size")})


def guarded(parse: Callable[[dict[str, Any]], list[T]]) -> Callable[[dict[str, Any]], list[T]]:
    """A stream parser whose shape errors become :class:`ProtocolError`."""

    def checked(message: dict[str, Any]) -> list[T]:
        return shaped(message, parse)

    return checked


def payload_parser(
    model: Any, key: str, *, required: str | None = None
) -> Callable[[dict[str, Any]], list[Any]]:
    def parse(message: dict[str, Any]) -> list[Any]:
        body = message.get(key)
        if not isinstance(body, dict) or (required is not None and required not in body):
            return []
        return [model.from_dict(body)]

    return guarded(parse)


@guarded
def candles_from(reply: dict[str, Any]) -> list[Candle]:
    """The candles of a ``candles`` reply, each with the reply's ``pip_size``."""
    pip_size = reply.get("pip_size")
    return [Candle.from_dict({**item, "pip_size": pip_size}) for item in reply["candles"]]


def parse_candles(message: dict[str, Any]) -> list[Candle]:
    if message.get("msg_type") == "ohlc":
        return [Candle.from_ohlc(message["ohlc"])]
    return candles_from(message) if "candles" in message else []
