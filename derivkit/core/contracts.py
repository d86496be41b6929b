"""Typed state of open contracts, one class per product, and the replies of contract updates.

``open_contract_from(payload)`` reads one ``proposal_open_contract`` message into the class of
its product: :class:`MultiplierContract`, :class:`AccumulatorContract`,
:class:`TurbosContract`, :class:`VanillaContract`, or the plain
:class:`~derivkit.core.models.OpenContract` for the binary options. Every class keeps the whole
payload in ``raw`` and reads numbers sent as strings.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from derivkit.core.models import Cancellation, OpenContract, Order, _float, _Model, _order

__all__ = [
    "AccumulatorContract",
    "ContractUpdate",
    "ContractUpdateEntry",
    "MultiplierContract",
    "TurbosContract",
    "VanillaContract",
    "open_contract_from",
]


def _flag(group: str, name: str) -> Any:
    def build(data: Mapping[str, Any]) -> bool:
        flags = data.get(group)
        return bool(isinstance(flags, Mapping) and flags.get(name))

    return build


def _number(name: str) -> Any:
    return lambda data: _float(data.get(name))


@dataclass(frozen=True, slots=True)
class MultiplierContract(OpenContract):
    """A multiplier: its multiplier, commission, orders and deal cancellation."""

    multiplier: float | None = None
    commission: float | None = None
    stop_out: Order | None = None
    take_profit: Order | None = None
    stop_loss: Order | None = None
    cancellation: Cancellation | None = None
    can_update_take_profit: bool = False
    can_update_stop_loss: bool = False

    _floats = OpenContract._floats | {"multiplier", "commission"}
    _derived = {
        "stop_out": _order("stop_out"),
        "take_profit": _order("take_profit"),
        "stop_loss": _order("stop_loss"),
        "cancellation": lambda d: Cancellation.from_payload(d.get("cancellation")),
        "can_update_take_profit": _flag("is_valid_to_update", "take_profit"),
        "can_update_stop_loss": _flag("is_valid_to_update", "stop_loss"),
    }


@dataclass(frozen=True, slots=True)
class AccumulatorContract(OpenContract):
    """An accumulator: its growth rate, ticks passed of at most ``tick_count``, and the barriers
    of the band (``high_barrier``/``low_barrier`` applied to the latest tick; the
    ``next_*`` ones to the next tick)."""

    growth_rate: float | None = None
    tick_passed: int = 0
    high_barrier: float | None = None
    low_barrier: float | None = None
    next_high_barrier: float | None = None
    next_low_barrier: float | None = None
    barrier_distance: float | None = None
    take_profit: Order | None = None

    _floats = OpenContract._floats | {"growth_rate", "high_barrier", "low_barrier"}
    _derived = {
        "next_high_barrier": _number("current_spot_high_barrier"),
        "next_low_barrier": _number("current_spot_low_barrier"),
        "barrier_distance": _number("barrier_spot_distance"),
        "take_profit": _order("take_profit"),
    }


@dataclass(frozen=True, slots=True)
class TurbosContract(OpenContract):
    """A turbos: its knock-out barrier (``barrier_level``), payout per point and take profit."""

    barrier_level: float | None = None
    payout_per_point: float | None = None
    take_profit: Order | None = None
    can_update_take_profit: bool = False

    _derived = {
        "barrier_level": _number("barrier"),
        "payout_per_point": _number("display_number_of_contracts"),
        "take_profit": _order("take_profit"),
        "can_update_take_profit": _flag("is_valid_to_update", "take_profit"),
    }


@dataclass(frozen=True, slots=True)
class VanillaContract(OpenContract):
    """A vanilla option: its strike and number of contracts."""

    strike: float | None = None
    number_of_contracts: float | None = None

    _derived = {
        "strike": _number("barrier"),
        "number_of_contracts": _number("display_number_of_contracts"),
    }


_BY_TYPE: dict[str, type[OpenContract]] = {
    "MULTUP": MultiplierContract,
    "MULTDOWN": MultiplierContract,
    "ACCU": AccumulatorContract,
    "TURBOSLONG": TurbosContract,
    "TURBOSSHORT": TurbosContract,
    "VANILLALONGCALL": VanillaContract,
    "VANILLALONGPUT": VanillaContract,
}


def open_contract_from(data: Mapping[str, Any]) -> OpenContract:
    """One ``proposal_open_contract`` payload as the typed state of its product."""
    model = _BY_TYPE.get(str(data.get("contract_type", "")), OpenContract)
    return model.from_dict(data)


@dataclass(frozen=True, slots=True)
class ContractUpdate(_Model):
    """The reply to ``contract_update``: the orders now set (None: not set)."""

    take_profit: Order | None = None
    stop_loss: Order | None = None

    _derived = {
        "take_profit": lambda d: Order.from_payload(d.get("take_profit")),
        "stop_loss": lambda d: Order.from_payload(d.get("stop_loss")),
    }


@dataclass(frozen=True, slots=True)
class ContractUpdateEntry(_Model):
    """One entry of ``contract_update_history`` (newest first); a removal has amount 0."""

    display_name: str = ""
    order_type: str = ""
    order_amount: float | None = None
    order_date: int | None = None
    value: float | None = None

    _floats = frozenset({"order_amount", "value"})
