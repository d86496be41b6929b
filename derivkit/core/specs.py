"""Typed contract specs, one per product: each can only express what its product takes.

* :class:`~derivkit.core.models.ContractSpec`: the binary options (Rise/Fall, Higher/Lower,
  Touch, digits, ...): stake or payout, a duration, barriers.
* :class:`MultiplierSpec`: ``MULTUP``/``MULTDOWN``: stake and multiplier, no duration or
  barrier; take profit and stop loss, or deal cancellation (never both).
* :class:`AccumulatorSpec`: ``ACCU``: stake and growth rate, optional take profit.
* :class:`TurbosSpec`: ``TURBOSLONG``/``TURBOSSHORT``: a duration and exactly one of a barrier
  offset or a payout per point, optional take profit.
* :class:`VanillaSpec`: ``VANILLALONGCALL``/``VANILLALONGPUT``: a timed duration (no ticks) and
  a strike.

Specs are immutable and check themselves when built (``UsageError``); ``parameters()`` gives the
fields ``proposal`` and ``buy.parameters`` take. What the server still decides (the ranges of
multipliers, growth rates, barrier choices, stake limits) comes back as an ``APIError``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar, Literal, TypeAlias

from derivkit.core.exceptions import UsageError
from derivkit.core.models import ContractSpec

__all__ = [
    "AccumulatorSpec",
    "AnySpec",
    "CancellationDuration",
    "DurationUnit",
    "MultiplierSpec",
    "TimedUnit",
    "TurbosSpec",
    "VanillaSpec",
]

DurationUnit: TypeAlias = Literal["t", "s", "m", "h", "d"]
TimedUnit: TypeAlias = Literal["s", "m", "h", "d"]
CancellationDuration: TypeAlias = Literal["5m", "10m", "15m", "30m", "60m"]
CANCELLATION_DURATIONS: tuple[CancellationDuration, ...] = ("5m", "10m", "15m", "30m", "60m")


def _positive(name: str, value: float | None) -> None:
    if value is not None and not (math.isfinite(value) and value > 0):
        raise UsageError(f"{name} must be a positive number, got {value!r}")


def _duration(duration: int, unit: str, units: tuple[str, ...]) -> None:
    if isinstance(duration, bool) or not isinstance(duration, int) or duration <= 0:
        raise UsageError(f"duration must be a positive integer, got {duration!r}")
    if unit not in units:
        raise UsageError(f"duration unit must be one of {', '.join(units)}, got {unit!r}")


def _limit_order(take_profit: float | None, stop_loss: float | None) -> dict[str, float]:
    orders: dict[str, float] = {}
    if take_profit is not None:
        orders["take_profit"] = take_profit
    if stop_loss is not None:
        orders["stop_loss"] = stop_loss
    return orders


@dataclass(frozen=True, slots=True)
class MultiplierSpec:
    """A Multiplier: PnL = stake x multiplier x the relative move, less the commission.

    ``take_profit`` / ``stop_loss`` are amounts in the account currency; ``cancellation`` buys
    deal cancellation for that window (volatility indices) and excludes both.
    """

    contract_type: Literal["MULTUP", "MULTDOWN"]
    symbol: str
    stake: float
    multiplier: float
    take_profit: float | None = None
    stop_loss: float | None = None
    cancellation: CancellationDuration | None = None
    currency: str = "USD"

    def __post_init__(self) -> None:
        if self.contract_type not in ("MULTUP", "MULTDOWN"):
            raise UsageError(f"a multiplier is MULTUP or MULTDOWN, not {self.contract_type!r}")
        _positive("stake", self.stake)
        _positive("multiplier", self.multiplier)
        _positive("take_profit", self.take_profit)
        _positive("stop_loss", self.stop_loss)
        if self.cancellation is not None:
            if self.cancellation not in CANCELLATION_DURATIONS:
                raise UsageError(
                    f"deal cancellation is one of {', '.join(CANCELLATION_DURATIONS)}, "
                    f"got {self.cancellation!r}"
                )
            if self.take_profit is not None or self.stop_loss is not None:
                raise UsageError(
                    "deal cancellation cannot be combined with take profit or stop loss"
                )

    @property
    def amount(self) -> float:
        """What is put at risk (the stake), as for the other specs."""
        return self.stake

    def parameters(self) -> dict[str, Any]:
        params: dict[str, Any] = {
            "contract_type": self.contract_type,
            "symbol": self.symbol,
            "amount": self.stake,
            "basis": "stake",
            "currency": self.currency,
            "multiplier": self.multiplier,
        }
        orders = _limit_order(self.take_profit, self.stop_loss)
        if orders:
            params["limit_order"] = orders
        if self.cancellation is not None:
            params["cancellation"] = self.cancellation
        return params


@dataclass(frozen=True, slots=True)
class AccumulatorSpec:
    """An Accumulator: the stake grows by ``growth_rate`` (0.01 = 1 %) a tick while each tick
    stays inside the barrier range; ``take_profit`` closes it at that profit."""

    contract_type: ClassVar[Literal["ACCU"]] = "ACCU"

    symbol: str
    stake: float
    growth_rate: float
    take_profit: float | None = None
    currency: str = "USD"

    def __post_init__(self) -> None:
        _positive("stake", self.stake)
        _positive("take_profit", self.take_profit)
        if not (math.isfinite(self.growth_rate) and 0 < self.growth_rate < 1):
            raise UsageError(
                f"growth_rate is a fraction such as 0.01 (1 %), got {self.growth_rate!r}"
            )

    @property
    def amount(self) -> float:
        return self.stake

    def parameters(self) -> dict[str, Any]:
        params: dict[str, Any] = {
            "contract_type": "ACCU",
            "symbol": self.symbol,
            "amount": self.stake,
            "basis": "stake",
            "currency": self.currency,
            "growth_rate": self.growth_rate,
        }
        if self.take_profit is not None:
            params["limit_order"] = {"take_profit": self.take_profit}
        return params


@dataclass(frozen=True, slots=True)
class TurbosSpec:
    """A Turbos: knocked out when the spot reaches the barrier, else pays the payout per point
    times the distance beyond it at expiry. Give exactly one of ``barrier`` (a signed offset
    from the entry spot, one of ``contracts_for``'s ``barrier_choices``) or ``payout_per_point``
    (one of its ``payout_choices``)."""

    contract_type: Literal["TURBOSLONG", "TURBOSSHORT"]
    symbol: str
    stake: float
    duration: int
    duration_unit: DurationUnit = "t"
    barrier: str | None = None
    payout_per_point: float | None = None
    take_profit: float | None = None
    currency: str = "USD"

    def __post_init__(self) -> None:
        if self.contract_type not in ("TURBOSLONG", "TURBOSSHORT"):
            raise UsageError(f"a turbos is TURBOSLONG or TURBOSSHORT, not {self.contract_type!r}")
        _positive("stake", self.stake)
        _positive("payout_per_point", self.payout_per_point)
        _positive("take_profit", self.take_profit)
        _duration(self.duration, self.duration_unit, ("t", "s", "m", "h", "d"))
        if (self.barrier is None) == (self.payout_per_point is None):
            raise UsageError("a turbos takes exactly one of barrier or payout_per_point")

    @property
    def amount(self) -> float:
        return self.stake

    def parameters(self) -> dict[str, Any]:
        params: dict[str, Any] = {
            "contract_type": self.contract_type,
            "symbol": self.symbol,
            "amount": self.stake,
            "basis": "stake",
            "currency": self.currency,
            "duration": self.duration,
            "duration_unit": self.duration_unit,
        }
        if self.barrier is not None:
            params["barrier"] = self.barrier
        if self.payout_per_point is not None:
            params["payout_per_point"] = self.payout_per_point
        if self.take_profit is not None:
            params["limit_order"] = {"take_profit": self.take_profit}
        return params


@dataclass(frozen=True, slots=True)
class VanillaSpec:
    """A Vanilla option: pays the number of contracts times how far the final price is beyond
    ``strike`` (a relative offset such as ``"+0.00"`` intraday, an absolute level for days; one
    of ``contracts_for``'s ``barrier_choices``). Durations are timed, never ticks."""

    contract_type: Literal["VANILLALONGCALL", "VANILLALONGPUT"]
    symbol: str
    stake: float
    duration: int
    duration_unit: TimedUnit
    strike: str
    currency: str = "USD"

    def __post_init__(self) -> None:
        if self.contract_type not in ("VANILLALONGCALL", "VANILLALONGPUT"):
            raise UsageError(
                f"a vanilla is VANILLALONGCALL or VANILLALONGPUT, not {self.contract_type!r}"
            )
        _positive("stake", self.stake)
        _duration(self.duration, self.duration_unit, ("s", "m", "h", "d"))

    @property
    def amount(self) -> float:
        return self.stake

    def parameters(self) -> dict[str, Any]:
        return {
            "contract_type": self.contract_type,
            "symbol": self.symbol,
            "amount": self.stake,
            "basis": "stake",
            "currency": self.currency,
            "duration": self.duration,
            "duration_unit": self.duration_unit,
            "barrier": self.strike,
        }


#: Any contract that ``proposal`` and ``buy`` take.
AnySpec: TypeAlias = ContractSpec | MultiplierSpec | AccumulatorSpec | TurbosSpec | VanillaSpec
