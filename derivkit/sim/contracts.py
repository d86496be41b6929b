"""An open or settled contract: entry/exit ticks, barrier, outcome, bid and
``proposal_open_contract`` view.

Mutated only by the broker's tick monitor and ``sell``, on the event loop thread.
"""

from __future__ import annotations

from typing import Any

from derivkit.sim.pricing import (
    Terms,
    bid_probability,
    horizon_ticks,
    win_probability,
)
from derivkit.sim.symbols import DIGITS, TOUCH, SymbolSpec


class Contract:
    """One bought contract. ``status`` is ``open``, ``won``, ``lost`` or ``sold``."""

    def __init__(
        self,
        contract_id: int,
        transaction_id: int,
        terms: Terms,
        spec: SymbolSpec,
        buy_price: float,
        payout: float,
        purchase_time: float,
        spot: tuple[int, float],
        longcode: str,
        shortcode: str,
    ) -> None:
        self.contract_id = contract_id
        self.transaction_id = transaction_id
        self.terms = terms
        self.spec = spec
        self.buy_price = buy_price
        self.payout = payout
        self.purchase_time = purchase_time
        self.date_start = int(purchase_time)
        self.longcode = longcode
        self.shortcode = shortcode
        self.current: tuple[int, float] = spot
        self.entry: tuple[int, float] | None = None
        self.exit: tuple[int, float] | None = None
        self.barrier: float | None = None
        self.ticks: list[tuple[int, float]] = []
        self.status = "open"
        self.sell_price: float | None = None
        self.sell_time: int | None = None
        self.sell_transaction_id: int | None = None
        self.touched = False
        if terms.ticks is not None:
            self.date_expiry = self.date_start + (terms.ticks + 1) * spec.interval
        else:
            self.date_expiry = self.date_start + terms.seconds

    @property
    def is_sold(self) -> bool:
        return self.status != "open"

    # -- lifecycle -----------------------------------------------------------------------------
    def on_tick(self, epoch: int, quote: float) -> bool:
        """Feed one tick of the underlying; returns True when the contract has just finished."""
        if self.is_sold or epoch <= self.purchase_time:
            return False
        self.current = (epoch, quote)
        first = self.entry is None
        if self.entry is None:
            self.entry = (epoch, quote)
            b = self.terms.barrier_price(quote)
            self.barrier = None if b is None else round(b, self.spec.pip_size)
        self.ticks.append((epoch, quote))
        touch = self.terms.category == TOUCH and self.barrier is not None
        if touch and (not first or self.terms.barrier_kind == "absolute"):
            assert self.barrier is not None
            up = self.barrier > self.entry[1] or (first and self.barrier >= quote)
            if (up and quote >= self.barrier) or (not up and quote <= self.barrier):
                self.touched = True
                return self._finish((epoch, quote))
        ticks = self.terms.ticks
        if ticks is not None:
            if len(self.ticks) >= ticks + 1:
                return self._finish((epoch, quote))
            return False
        if epoch >= self.date_expiry:
            if epoch == self.date_expiry or len(self.ticks) < 2:
                return self._finish((epoch, quote))
            return self._finish(self.ticks[-2])
        return False

    def _finish(self, exit_tick: tuple[int, float]) -> bool:
        self.exit = exit_tick
        won = self._won(exit_tick[1])
        self.status = "won" if won else "lost"
        self.sell_price = self.payout if won else 0.0
        self.sell_time = exit_tick[0]
        if self.terms.ticks is not None or self.touched:
            self.date_expiry = exit_tick[0]
        return True

    def _won(self, q: float) -> bool:
        ct = self.terms.contract_type
        if ct == "ONETOUCH":
            return self.touched
        if ct == "NOTOUCH":
            return not self.touched
        if self.terms.category == DIGITS:
            d = int(self.spec.fmt(q)[-1])
            target = self.terms.digit()
            return {
                "DIGITMATCH": d == target,
                "DIGITDIFF": d != target,
                "DIGITOVER": d > target,
                "DIGITUNDER": d < target,
                "DIGITEVEN": d % 2 == 0,
                "DIGITODD": d % 2 == 1,
            }[ct]
        assert self.barrier is not None
        return q > self.barrier if ct == "CALL" else q < self.barrier

    def mark_sold(self, price: float, epoch: int) -> None:
        self.status = "sold"
        self.sell_price = price
        self.sell_time = epoch
        self.exit = self.current

    # -- valuation -----------------------------------------------------------------------------
    def remaining_ticks(self) -> float:
        if self.entry is None:
            return horizon_ticks(self.terms, self.spec)
        if self.terms.ticks is not None:
            return float(self.terms.ticks + 1 - len(self.ticks))
        return max(0.0, (self.date_expiry - self.current[0]) / self.spec.interval)

    def bid_price(self) -> float:
        if self.is_sold:
            return float(self.sell_price or 0.0)
        spot = self.current[1]
        barrier = self.barrier if self.entry is not None else self.terms.barrier_price(spot)
        p = win_probability(self.terms, self.spec, spot, barrier, self.remaining_ticks())
        return round(self.payout * bid_probability(p), 2)

    def is_valid_to_sell(self) -> bool:
        return not self.is_sold and self.entry is not None

    def poc(self, currency: str) -> dict[str, Any]:
        """The ``proposal_open_contract`` payload."""
        spec, bid = self.spec, self.bid_price()
        profit = round(bid - self.buy_price, 2)
        out: dict[str, Any] = {
            "contract_id": self.contract_id,
            "contract_type": self.terms.contract_type,
            "underlying": spec.symbol,
            "display_name": spec.display_name,
            "currency": currency,
            "buy_price": self.buy_price,
            "bid_price": bid,
            "payout": self.payout,
            "profit": profit,
            "profit_percentage": round(100 * profit / self.buy_price, 2),
            "status": self.status,
            "is_sold": int(self.is_sold),
            "is_expired": int(self.is_sold and self.status != "sold"),
            "is_settleable": int(self.is_sold and self.status != "sold"),
            "is_valid_to_sell": int(self.is_valid_to_sell()),
            "is_forward_starting": 0,
            "is_path_dependent": int(self.terms.category == TOUCH),
            "is_intraday": 1,
            "date_start": self.date_start,
            "purchase_time": self.date_start,
            "date_expiry": self.date_expiry,
            "current_spot": self.current[1],
            "current_spot_display_value": spec.fmt(self.current[1]),
            "current_spot_time": self.current[0],
            "longcode": self.longcode,
            "shortcode": self.shortcode,
            "transaction_ids": {"buy": self.transaction_id},
            "tick_stream": [
                {"epoch": e, "tick": q, "tick_display_value": spec.fmt(q)} for e, q in self.ticks
            ],
        }
        if self.terms.ticks is not None:
            out["tick_count"] = self.terms.ticks
        if self.terms.barrier_kind == "digit":
            out["barrier"] = self.terms.barrier_raw
        elif self.barrier is not None:
            out["barrier"] = spec.fmt(self.barrier)
        if self.entry is not None:
            out["entry_tick"] = out["entry_spot"] = self.entry[1]
            out["entry_tick_time"] = self.entry[0]
            out["entry_tick_display_value"] = out["entry_spot_display_value"] = spec.fmt(
                self.entry[1]
            )
        else:
            out["validation_error"] = "Waiting for entry tick."
        if self.is_sold:
            out["sell_price"] = self.sell_price
            out["sell_time"] = self.sell_time
            out["date_settlement"] = self.sell_time
            out["transaction_ids"]["sell"] = self.sell_transaction_id
            if self.exit is not None:
                out["exit_tick"] = self.exit[1]
                out["exit_tick_time"] = self.exit[0]
                out["exit_tick_display_value"] = spec.fmt(self.exit[1])
        return out
