"""Turning API numbers, times and errors into text: prices at their pip size, money at its
currency's decimals, epochs as UTC, errors in one line, and ``5t``-style durations back into
numbers.

Shared by every front-end (CLI, dashboard, bot); imports nothing from any of them.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from derivkit.core.models import ContractSpec

__all__ = [
    "BARRIERS",
    "CONTRACT_TYPES",
    "DURATION_UNITS",
    "MissingBarrier",
    "PRODUCT_TYPES",
    "SELECTED_TICK",
    "TWO_BARRIERS",
    "contract_spec",
    "describe_error",
    "duration_text",
    "money",
    "parse_duration",
    "price",
    "utc",
]

CURRENCY_DECIMALS = {"BTC": 8, "ETH": 8, "LTC": 8, "USDC": 2, "UST": 2, "eUSDT": 2, "tUSDT": 2}
_DURATION = re.compile(r"^\s*(\d+)\s*([tsmhd])\s*$")
DURATION_UNITS = {"t": "ticks", "s": "seconds", "m": "minutes", "h": "hours", "d": "days"}
#: The contract types a user can quote and buy.
CONTRACT_TYPES = (
    "CALL",
    "PUT",
    "ONETOUCH",
    "NOTOUCH",
    "DIGITMATCH",
    "DIGITDIFF",
    "DIGITEVEN",
    "DIGITODD",
    "DIGITOVER",
    "DIGITUNDER",
    "CALLE",
    "PUTE",
    "EXPIRYRANGE",
    "EXPIRYMISS",
    "RANGE",
    "UPORDOWN",
    "ASIANU",
    "ASIAND",
    "TICKHIGH",
    "TICKLOW",
    "RUNHIGH",
    "RUNLOW",
)
#: Multipliers, Accumulators, Turbos and Vanillas: their own options, not a barrier/duration pair.
PRODUCT_TYPES = (
    "MULTUP",
    "MULTDOWN",
    "ACCU",
    "TURBOSLONG",
    "TURBOSSHORT",
    "VANILLALONGCALL",
    "VANILLALONGPUT",
)
#: The types that take a high and a low barrier (``barrier`` and ``barrier2``).
TWO_BARRIERS = frozenset({"EXPIRYRANGE", "EXPIRYMISS", "RANGE", "UPORDOWN"})
#: The types that name the tick they are about (``selected_tick``).
SELECTED_TICK = frozenset({"TICKHIGH", "TICKLOW"})
#: The types that cannot be priced without a barrier, and what their barrier is.
BARRIERS = {
    "ONETOUCH": "the level to touch, e.g. +0.5 (relative) or 1234.5",
    "NOTOUCH": "the level not to touch, e.g. +0.5 (relative) or 1234.5",
    "DIGITMATCH": "the digit to predict, 0-9",
    "DIGITDIFF": "the digit to predict, 0-9",
    "DIGITOVER": "the digit the last one must exceed, 0-9",
    "DIGITUNDER": "the digit the last one must stay under, 0-9",
    **dict.fromkeys(TWO_BARRIERS, "the high barrier, e.g. +0.5 (with --barrier2, the low one)"),
}


class MissingBarrier(ValueError):
    """A contract type that needs a barrier (or a second one, or a selected tick) was given
    none; ``parameter`` names the missing one (``barrier``, ``barrier2``, ``selected_tick``)."""

    def __init__(self, message: str, parameter: str = "barrier") -> None:
        super().__init__(message)
        self.parameter = parameter


def price(value: float | None, pip_size: int | None) -> str:
    """A quote with exactly ``pip_size`` decimals (trailing zeros count for digit contracts)."""
    if value is None:
        return "-"
    return f"{value:.{pip_size if pip_size is not None else 2}f}"


def money(value: float | None, currency: str, decimals: int | None = None) -> str:
    """An amount with its currency's decimals, e.g. ``10,000.00 USD``."""
    if value is None:
        return "-"
    places = decimals if decimals is not None else CURRENCY_DECIMALS.get(currency, 2)
    return f"{value:,.{places}f} {currency}".strip()


def utc(epoch: int | None) -> str:
    if not epoch:
        return "-"
    return datetime.fromtimestamp(int(epoch), UTC).strftime("%Y-%m-%d %H:%M:%S")


def parse_duration(text: str) -> tuple[int, str]:
    """``"5t"`` -> ``(5, "t")``; units t (ticks), s, m, h, d. Raises ValueError."""
    match = _DURATION.match(text)
    if not match or int(match.group(1)) <= 0:
        raise ValueError(
            f"{text!r} is not a duration; use a positive number and a unit: "
            "5t (ticks), 30s, 5m, 1h, 1d"
        )
    return int(match.group(1)), match.group(2)


def duration_text(amount: int, unit: str) -> str:
    """``(5, "t")`` -> ``5 ticks``, ``(1, "m")`` -> ``1 minute``."""
    name = DURATION_UNITS.get(unit, unit)
    return f"{amount} {name.rstrip('s') if amount == 1 else name}"


def contract_spec(
    symbol: str,
    contract_type: str,
    stake: float,
    duration: str,
    *,
    barrier: str | None = None,
    barrier2: str | None = None,
    selected_tick: int | None = None,
    currency: str = "USD",
) -> ContractSpec:
    """A contract as a user types it (``"CALL"`` or ``"call"``, ``"5t"``) as a ContractSpec.
    Raises ValueError for an unknown type (listing the known ones), a bad duration or a
    parameter the type does not take, and MissingBarrier for a type that needs a barrier."""
    from derivkit.core.models import ContractSpec  # lazy: keeps this module light to import

    kind = contract_type.strip().upper()
    if kind not in CONTRACT_TYPES:
        raise ValueError(
            f"unknown contract type {contract_type!r}; one of: {', '.join(CONTRACT_TYPES)}"
        )
    if kind in BARRIERS and barrier is None:
        raise MissingBarrier(f"{kind} needs a barrier: {BARRIERS[kind]}")
    if kind in TWO_BARRIERS and barrier2 is None:
        raise MissingBarrier(f"{kind} needs a low barrier too, e.g. -0.5", "barrier2")
    if barrier2 is not None and kind not in TWO_BARRIERS:
        raise ValueError(
            f"{kind} takes one barrier; barrier2 is for {', '.join(sorted(TWO_BARRIERS))}"
        )
    if kind in SELECTED_TICK and selected_tick is None:
        raise MissingBarrier(
            f"{kind} needs the tick it is about (1 to the duration in ticks)", "selected_tick"
        )
    if selected_tick is not None and kind not in SELECTED_TICK:
        raise ValueError(f"{kind} takes no selected tick; that is for TICKHIGH and TICKLOW")
    amount, unit = parse_duration(duration)
    return ContractSpec(
        contract_type=kind,
        symbol=symbol,
        amount=stake,
        duration=amount,
        duration_unit=unit,
        currency=currency,
        barrier=barrier,
        barrier2=barrier2,
        selected_tick=selected_tick,
    )


def describe_error(error: BaseException) -> str:
    """One line for a failure: the server's message, code and field details; a note that a lost
    money-moving call was not re-sent; else the error's own text."""
    from derivkit.core.exceptions import APIError, OutcomeUnknown  # lazy, like contract_spec

    if isinstance(error, OutcomeUnknown):
        return f"{error} (nothing was re-sent)"
    if isinstance(error, APIError):
        text = f"{error.message} ({error.code})"
        if error.details:
            fields = ", ".join(f"{key}: {value}" for key, value in error.details.items())
            text += f" - {fields}"
        return text
    return str(error) or type(error).__name__
