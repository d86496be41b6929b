"""What a strategy is: a class with hooks that sees the market and its own results and returns
decisions. It never touches a connection; the engine and its drivers (live, backtest) do.

Hooks, all optional and synchronous, called on the driver's event loop one at a time:

* ``on_start(view)``: once, before the first tick;
* ``on_tick(view, tick)``: every tick of the strategy's symbol;
* ``before_purchase(view) -> Trade | None``: when the strategy may buy (no contract of its own
  open, no purchase in flight, no stop condition met); return what to buy, or None to wait;
* ``after_settlement(view, settlement)``: each of its contracts once it has settled;
* ``on_stop(view, reason)``: once, when the run stops buying.

The stake comes from the run's money management unless the :class:`Trade` names one.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from derivkit.strategy.results import Results

__all__ = ["Position", "Settlement", "Strategy", "Tick", "Trade", "View"]


@dataclass(frozen=True, slots=True)
class Tick:
    """One tick of the strategy's symbol."""

    epoch: int
    quote: float
    pip_size: int = 2

    @property
    def last_digit(self) -> int:
        """The digit contracts settle on: the quote's last digit at its pip size."""
        return int(f"{self.quote:.{self.pip_size}f}"[-1])


@dataclass(frozen=True, slots=True)
class Trade:
    """A contract a strategy wants: type, duration (``5`` ``"t"`` = five ticks), barrier, and a
    stake of its own (None: the money management's)."""

    contract_type: str
    duration: int = 1
    duration_unit: str = "t"
    barrier: str | None = None
    stake: float | None = None


@dataclass(frozen=True, slots=True)
class Position:
    """One of the run's contracts: bought, open until it settles."""

    contract_id: int
    trade: Trade
    stake: float
    buy_price: float
    bought_at: float


@dataclass(frozen=True, slots=True)
class Settlement:
    """How a position ended."""

    position: Position
    sell_price: float
    epoch: float

    @property
    def profit(self) -> float:
        return round(self.sell_price - self.position.buy_price, 2)

    @property
    def won(self) -> bool:
        return self.profit > 0


@dataclass
class View:
    """What a strategy may look at (read it; the engine keeps it up to date)."""

    symbol: str
    currency: str
    params: Mapping[str, Any]
    results: Results
    ticks: deque[Tick] = field(default_factory=lambda: deque(maxlen=1000))
    positions: dict[int, Position] = field(default_factory=dict)
    balance: float | None = None
    next_stake: float = 0.0
    now: float = 0.0

    @property
    def last(self) -> Tick | None:
        return self.ticks[-1] if self.ticks else None

    def last_digits(self, count: int) -> list[int]:
        """The last digits of the most recent ``count`` ticks, oldest first."""
        recent: Sequence[Tick] = list(self.ticks)[-count:]
        return [tick.last_digit for tick in recent]


class Strategy:
    """Base class: override the hooks you need. ``PARAMS`` declares the strategy's own parameters
    and their defaults (``--param name=value`` values are converted to the default's type)."""

    name: ClassVar[str] = "custom"
    PARAMS: ClassVar[dict[str, Any]] = {}

    def on_start(self, view: View) -> None:
        return None

    def on_tick(self, view: View, tick: Tick) -> None:
        return None

    def before_purchase(self, view: View) -> Trade | None:
        return None

    def after_settlement(self, view: View, settlement: Settlement) -> None:
        return None

    def on_stop(self, view: View, reason: str) -> None:
        return None
