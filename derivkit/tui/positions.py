"""The dashboard's open contracts: each followed contract's last state, open or settled.

Pure Python (no Textual, no ``derivkit.core``), like :mod:`derivkit.tui.watchlist`. Owned by the
main screen and mutated only on the event loop: handlers ``record`` contract updates as they
arrive, and the repaint timer takes the positions that changed, and the ids of those dropped,
since the last repaint. Settled contracts stay for the session, at most ``keep_settled`` of them
(the oldest settled go first).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass

__all__ = ["KEEP_SETTLED", "ContractUpdate", "Position", "Positions"]

#: Settled contracts kept on screen.
KEEP_SETTLED = 20


@dataclass(frozen=True, slots=True)
class ContractUpdate:
    """One contract's state as the server last reported it. ``value`` is what it is worth now
    (the bid), or what it was sold or settled for; ``settled`` once the server says it is sold;
    ``status`` its outcome (open, won, lost, sold, cancelled; a contract the server closed
    without a status, as multipliers and vanillas are, won or lost by its profit).

    The product's own terms, None where the product has none: ``take_profit`` and ``stop_loss``
    (amounts, both positive), ``stop_out`` (a multiplier's stop-out level) and ``barrier`` (an
    accumulator's distance to its barrier, a turbos' knock-out level, a vanilla's strike), both
    as the server wrote them, ``ticks`` (an accumulator's ticks passed of its most).
    ``can_cancel`` while deal cancellation is on (until ``cancel_until``; its fee, not refunded,
    is ``cancel_fee``), ``can_update`` the orders that may be changed now, ``can_sell`` whether
    the server takes a sell now (else ``why_not`` says why)."""

    contract_id: int
    contract_type: str
    symbol: str
    currency: str
    buy_price: float
    value: float | None
    profit: float
    profit_pct: float | None
    status: str
    settled: bool
    product: str = "binary"  # binary, multiplier, accumulator, turbos or vanilla
    take_profit: float | None = None
    stop_loss: float | None = None
    stop_out: str | None = None
    barrier: str | None = None
    ticks: str | None = None
    can_sell: bool = True
    why_not: str | None = None
    can_cancel: bool = False
    cancel_until: int | None = None
    cancel_fee: float | None = None
    can_update: frozenset[str] = frozenset()


@dataclass(eq=False)
class Position:
    """A followed contract: its last update, whether its updates stopped early, and a note of
    what the dashboard is doing to it (``selling…``) or did with an unknown outcome."""

    last: ContractUpdate
    stopped: bool = False
    note: str | None = None
    note_until_update: bool = False  # the next server update replaces the note

    @property
    def contract_id(self) -> int:
        return self.last.contract_id

    @property
    def settled(self) -> bool:
        return self.last.settled


class Positions:
    """Followed contracts by id, in the order they were first seen."""

    def __init__(self, keep_settled: int = KEEP_SETTLED) -> None:
        self._positions: dict[int, Position] = {}
        self._settled: deque[int] = deque()
        self._keep_settled = keep_settled
        self._changed: set[int] = set()
        self._removed: set[int] = set()

    def __contains__(self, contract_id: object) -> bool:
        return contract_id in self._positions

    def __iter__(self) -> Iterator[Position]:
        return iter(list(self._positions.values()))

    def __len__(self) -> int:
        return len(self._positions)

    @property
    def open_count(self) -> int:
        return len(self._positions) - len(self._settled)

    @property
    def settled_count(self) -> int:
        return len(self._settled)

    def get(self, contract_id: int) -> Position | None:
        return self._positions.get(contract_id)

    def record(self, update: ContractUpdate) -> bool:
        """Take one update; False (and nothing changes) once the contract has settled."""
        position = self._positions.get(update.contract_id)
        if position is None:
            position = self._positions[update.contract_id] = Position(update)
        elif position.settled:
            return False
        position.last = update
        if position.note_until_update:
            position.note, position.note_until_update = None, False
        self._changed.add(update.contract_id)
        if update.settled:
            self._settled.append(update.contract_id)
            while len(self._settled) > self._keep_settled:
                self._drop(self._settled.popleft())
        return True

    def stop(self, contract_id: int) -> bool:
        """Mark an unsettled contract whose updates ended early; False if there is none."""
        position = self._positions.get(contract_id)
        if position is None or position.settled or position.stopped:
            return False
        position.stopped = True
        self._changed.add(contract_id)
        return True

    def annotate(self, contract_id: int, note: str | None, *, until_update: bool = False) -> None:
        """Show ``note`` in the contract's status (None clears it); ``until_update``: until the
        server next reports on the contract (an outcome-unknown sell, cancel or update)."""
        position = self._positions.get(contract_id)
        if position is None:
            return
        position.note, position.note_until_update = note, until_update and note is not None
        self._changed.add(contract_id)

    def take_changed(self) -> list[Position]:
        """The positions changed since the last call, oldest first."""
        if not self._changed:
            return []
        changed = [p for cid, p in self._positions.items() if cid in self._changed]
        self._changed.clear()
        return changed

    def take_removed(self) -> list[int]:
        """The ids dropped (oldest settled beyond the limit) since the last call."""
        removed = sorted(self._removed)
        self._removed.clear()
        return removed

    def _drop(self, contract_id: int) -> None:
        if self._positions.pop(contract_id, None) is not None:
            self._changed.discard(contract_id)
            self._removed.add(contract_id)
