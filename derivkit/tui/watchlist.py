"""The dashboard's data: what each watched symbol did since the session started.

Pure Python (no Textual, no ``derivkit.core``), so widgets may read it and tests may build it.
Owned by the main screen and mutated only on the event loop: handlers ``record`` ticks as they
arrive, and the repaint timer takes the symbols that changed since the last repaint.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field

__all__ = ["HISTORY", "Quote", "SymbolInfo", "Watchlist"]

#: Ticks kept per symbol for the sparkline.
HISTORY = 120


@dataclass(frozen=True, slots=True)
class SymbolInfo:
    """What the server's symbol list says about one symbol."""

    symbol: str
    display_name: str
    pip_size: int | None = None


@dataclass(eq=False)
class Quote:
    """One watched symbol: its last prices and counters since the dashboard opened."""

    symbol: str
    display_name: str = ""
    pip_size: int | None = None
    open: float | None = None
    last: float | None = None
    previous: float | None = None
    epoch: int = 0
    received: int = 0
    gaps: int = 0
    history: deque[float] = field(default_factory=lambda: deque(maxlen=HISTORY))
    history_epoch: int = 0

    @property
    def change(self) -> float | None:
        """Last price minus the first price of this session."""
        if self.last is None or self.open is None:
            return None
        return self.last - self.open

    @property
    def change_pct(self) -> float | None:
        change = self.change
        if change is None or not self.open:
            return None
        return change / self.open * 100

    @property
    def direction(self) -> int:
        """+1 if the last tick went up, -1 if down, 0 if flat or unknown."""
        if self.last is None or self.previous is None or self.last == self.previous:
            return 0
        return 1 if self.last > self.previous else -1


class Watchlist:
    """Watched symbols in display order; knows which changed since :meth:`take_changed`."""

    def __init__(self, symbols: list[str] | tuple[str, ...] = ()) -> None:
        self._quotes: dict[str, Quote] = {}
        self._changed: set[str] = set()
        self._retired_gaps = 0
        for symbol in symbols:
            self.add(symbol)

    def __contains__(self, symbol: object) -> bool:
        return symbol in self._quotes

    def __iter__(self) -> Iterator[Quote]:
        return iter(list(self._quotes.values()))

    def __len__(self) -> int:
        return len(self._quotes)

    @property
    def symbols(self) -> list[str]:
        return list(self._quotes)

    @property
    def gaps(self) -> int:
        """Stream gaps (reconnects that interrupted a stream) of every symbol ever watched."""
        return self._retired_gaps + sum(quote.gaps for quote in self._quotes.values())

    def get(self, symbol: str) -> Quote | None:
        return self._quotes.get(symbol)

    def add(self, symbol: str) -> Quote | None:
        """Start watching ``symbol``; None if it is already watched (duplicates are ignored)."""
        if symbol in self._quotes:
            return None
        quote = self._quotes[symbol] = Quote(symbol)
        self._changed.add(symbol)
        return quote

    def remove(self, symbol: str) -> Quote | None:
        quote = self._quotes.pop(symbol, None)
        self._changed.discard(symbol)
        if quote is not None:
            self._retired_gaps += quote.gaps
        return quote

    def describe(self, info: SymbolInfo) -> None:
        """Adopt the display name (and, until a tick says otherwise, the pip size)."""
        quote = self._quotes.get(info.symbol)
        if quote is None:
            return
        quote.display_name = info.display_name
        if quote.pip_size is None:
            quote.pip_size = info.pip_size
        self._changed.add(info.symbol)

    def seed(self, symbol: str, prices: list[float], *, epoch: int, pip_size: int | None) -> None:
        """Before its first tick: prefill the sparkline with past prices (up to ``epoch``).

        Counters and the session's open stay untouched; later ticks up to ``epoch`` are not
        added to the history twice.
        """
        quote = self._quotes.get(symbol)
        if quote is None or not prices or quote.history:
            return
        quote.history.extend(prices[-HISTORY:])
        quote.history_epoch = epoch
        if quote.pip_size is None:
            quote.pip_size = pip_size
        self._changed.add(symbol)

    def record(
        self,
        symbol: str,
        price: float,
        *,
        epoch: int,
        pip_size: int | None,
        received: int,
        gaps: int,
    ) -> bool:
        """Take one tick; False (and nothing changes) if ``symbol`` is not watched."""
        quote = self._quotes.get(symbol)
        if quote is None:
            return False
        if quote.open is None:
            quote.open = price
        quote.previous, quote.last = quote.last, price
        quote.epoch = epoch
        if pip_size is not None:
            quote.pip_size = pip_size
        quote.received = received
        quote.gaps = gaps
        if epoch > quote.history_epoch:
            quote.history.append(price)
        self._changed.add(symbol)
        return True

    def take_changed(self) -> list[Quote]:
        """The quotes changed since the last call, in display order."""
        if not self._changed:
            return []
        changed = [quote for symbol, quote in self._quotes.items() if symbol in self._changed]
        self._changed.clear()
        return changed
