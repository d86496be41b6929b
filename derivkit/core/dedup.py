"""What one stream reader has already seen, so that no message reaches it twice.

A stream re-issued after a reconnect starts with the server's latest message, which its readers
have usually seen already (ticks are 1-2 s apart, a reconnect is faster). :class:`Seen` keeps, per
reader, the identity of what it was given and leaves out repeats; a genuinely new message (a
later tick, a changed contract state) always passes. Identities by message type:

* ``tick``: symbol and ``epoch``; epochs only grow, so a tick at or before the last one seen
  is a repeat.
* ``ohlc``: symbol, granularity and ``epoch`` (the tick that updated the candle), the same way.
* ``history`` and ``candles`` (the first message of a ``ticks_history`` stream, sent whole
  again after a reconnect): trimmed to the ticks after the last one seen, and to the candles
  from the last one seen on (the forming candle, updated, stays); left out when nothing remains.
* ``transaction``: its ``transaction_id`` (the last 1024 are remembered).
* ``proposal_open_contract``: the contract's state; the same state twice in a row is a repeat
  (the subscription ``id`` aside, which changes).

A message without such an identity (another type, or fields of the wrong type) is always
delivered: ``balance`` is one (after a reconnect its first message confirms the balance, which
may have changed meanwhile), and so are ``proposal`` quotes (each carries a new id). Memory is
bounded per reader. Not thread-safe; no I/O.
"""

from __future__ import annotations

import math
from collections import OrderedDict, deque
from collections.abc import Hashable
from typing import Any

__all__ = ["Scope", "Seen", "scope_of"]

_REMEMBERED = 1024

#: What a stream's own request says about its messages: the symbol and candle granularity of a
#: ``ticks_history`` stream (its ``history``/``candles`` messages do not name them).
Scope = tuple[str | None, int | None]


def scope_of(payload: dict[str, Any]) -> Scope:
    symbol = payload.get("ticks_history")
    if not isinstance(symbol, str):
        return None, None
    granularity = payload.get("granularity", 60)
    return symbol, granularity if _is_int(granularity) else None


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_epoch(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (isinstance(value, float) and math.isfinite(value))


def _is_key(value: Any) -> bool:
    return isinstance(value, str) or _is_int(value)


class Seen:
    """The identities one reader was given; :meth:`admit` decides about the next message."""

    __slots__ = ("_ids", "_id_set", "_marks", "_states", "_ticks")

    def __init__(self) -> None:
        #: symbol -> epoch of the last tick given (ticks and ``history`` messages).
        self._ticks: dict[str, int | float] = {}
        self._marks: dict[Hashable, Any] = {}
        self._states: OrderedDict[Hashable, dict[str, Any]] = OrderedDict()
        self._ids: deque[Hashable] = deque()
        self._id_set: set[Hashable] = set()

    def admit(self, message: dict[str, Any], scope: Scope) -> dict[str, Any] | None:
        """The message to deliver (``message`` itself, or a trimmed copy), or None for a repeat.

        Records what is delivered.
        """
        msg_type = message.get("msg_type")
        if msg_type == "tick":  # the hot path: inline, no tuple keys
            body = message.get("tick")
            if type(body) is dict:
                symbol = body.get("symbol")
                epoch = body.get("epoch")
                if type(symbol) is str and (
                    type(epoch) is int or (type(epoch) is float and math.isfinite(epoch))
                ):
                    ticks = self._ticks
                    last = ticks.get(symbol)
                    if last is not None and epoch <= last:
                        return None
                    ticks[symbol] = epoch
            return message
        if msg_type == "ohlc":
            return self._ohlc(message)
        if msg_type == "proposal_open_contract":
            body = message.get("proposal_open_contract")
            key = body.get("contract_id") if isinstance(body, dict) else None
            return self._state(message, body, ("contract", key)) if _is_key(key) else message
        if msg_type == "transaction":
            body = message.get("transaction")
            key = body.get("transaction_id") if isinstance(body, dict) else None
            return self._once(message, key) if _is_key(key) else message
        if msg_type == "history" and scope[0] is not None:
            return self._history(message, scope[0])
        if msg_type == "candles" and scope[0] is not None and scope[1] is not None:
            return self._candles(message, scope[0], scope[1])
        return message

    # -- kinds ---------------------------------------------------------------------------

    def _later(self, key: Hashable, epoch: Any) -> bool:
        """True (and remembered) when ``epoch`` is after the last one seen under ``key``."""
        if not _is_epoch(epoch):
            return True
        last = self._marks.get(key)
        if last is not None and epoch <= last:
            return False
        self._marks[key] = epoch
        return True

    def _ohlc(self, message: dict[str, Any]) -> dict[str, Any] | None:
        body = message.get("ohlc")
        if not isinstance(body, dict):
            return message
        symbol, granularity = body.get("symbol"), body.get("granularity")
        if not isinstance(symbol, str) or not _is_int(granularity):
            return message
        if not self._later(("ohlc", symbol, granularity), body.get("epoch")):
            return None
        open_time = body.get("open_time")
        if _is_epoch(open_time):
            self._marks[("candle", symbol, granularity)] = open_time
        return message

    def _state(self, message: dict[str, Any], body: Any, key: Hashable) -> dict[str, Any] | None:
        if not isinstance(body, dict):
            return message
        state = {name: value for name, value in body.items() if name != "id"}
        states = self._states
        if states.get(key) == state:
            return None
        states[key] = state
        states.move_to_end(key)
        if len(states) > _REMEMBERED:
            states.popitem(last=False)
        return message

    def _once(self, message: dict[str, Any], key: Hashable) -> dict[str, Any] | None:
        if key in self._id_set:
            return None
        self._ids.append(key)
        self._id_set.add(key)
        if len(self._ids) > _REMEMBERED:
            self._id_set.discard(self._ids.popleft())
        return message

    def _history(self, message: dict[str, Any], symbol: str) -> dict[str, Any] | None:
        history = message.get("history")
        if not isinstance(history, dict):
            return message
        times, prices = history.get("times"), history.get("prices")
        if not isinstance(times, list) or not isinstance(prices, list):
            return message
        if len(times) != len(prices) or not all(_is_epoch(t) for t in times):
            return message
        last = self._ticks.get(symbol)
        keep = (
            list(range(len(times)))
            if last is None
            else [i for i, t in enumerate(times) if t > last]
        )
        if times and not keep:
            return None
        if keep:
            self._ticks[symbol] = max(times[i] for i in keep)
        if len(keep) == len(times):
            return message
        trimmed = {
            **history,
            "times": [times[i] for i in keep],
            "prices": [prices[i] for i in keep],
        }
        return {**message, "history": trimmed}

    def _candles(
        self, message: dict[str, Any], symbol: str, granularity: int
    ) -> dict[str, Any] | None:
        candles = message.get("candles")
        if not isinstance(candles, list) or not all(
            isinstance(c, dict) and _is_epoch(c.get("epoch")) for c in candles
        ):
            return message
        key = ("candle", symbol, granularity)
        last = self._marks.get(key)
        kept = candles if last is None else [c for c in candles if c["epoch"] >= last]
        if candles and not kept:
            return None
        if kept:
            self._marks[key] = max(c["epoch"] for c in kept)
        return message if len(kept) == len(candles) else {**message, "candles": kept}
