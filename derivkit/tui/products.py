"""What the trade ticket can trade: products, their contract types, and the inputs each needs.

A :class:`Product` names its contract types and its input fields, and turns the values typed into
the spec the API prices and buys. The ticket knows nothing else about a product, so a product with
its own parameters (multiplier, stop loss, growth rate, ...) plugs in as one more entry of
:data:`PRODUCTS` with its own fields; today's entries are the binary options the core supports
through :class:`~derivkit.core.ContractSpec`.

Pure: no Textual, no I/O. ``spec`` raises ``ValueError`` with a message fit to show the user.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from derivkit.core import ContractSpec
from derivkit.formatting import parse_duration

__all__ = [
    "PRODUCTS",
    "BinaryProduct",
    "Choice",
    "Field",
    "Product",
    "choice_by_key",
]


@dataclass(frozen=True, slots=True)
class Field:
    """One input of the ticket: ``key`` in the values handed to :meth:`Product.spec`."""

    key: str
    label: str
    default: str = ""
    placeholder: str = ""


@dataclass(frozen=True, slots=True)
class Choice:
    """One entry of the ticket's contract list: a product's contract type, as the user sees it."""

    product: Product
    contract_type: str
    label: str

    @property
    def key(self) -> str:
        return f"{self.product.name}:{self.contract_type}:{self.label}"


class Product(Protocol):
    """A kind of contract the ticket can price and buy."""

    @property
    def name(self) -> str: ...

    def choices(self) -> list[Choice]: ...

    def fields(self, choice: Choice) -> list[Field]:
        """The inputs ``choice`` needs, in display order."""
        ...

    def spec(
        self, choice: Choice, symbol: str, values: Mapping[str, str], currency: str
    ) -> ContractSpec:
        """The contract to price; ValueError (a message for the user) for a bad value."""
        ...


STAKE = Field("stake", "Stake", "10", "e.g. 10")
DURATION = Field("duration", "Duration", "5t", "5t, 30s, 5m, 1h, 1d")
PRICE_BARRIER = Field("barrier", "Barrier", "+0.5", "+0.5 / -0.5 (relative) or 1234.5")
DIGIT_BARRIER = Field("barrier", "Digit", "5", "0-9")


@dataclass(frozen=True, slots=True)
class BinaryProduct:
    """Options with a fixed payout: stake, duration and, for some types, a barrier.

    ``types`` maps each contract type to its label; ``barrier`` is the barrier field of the types
    in ``with_barrier`` (every type when it is None and a barrier field is given).
    """

    name: str
    types: tuple[tuple[str, str], ...]
    barrier: Field | None = None
    with_barrier: frozenset[str] | None = None

    def choices(self) -> list[Choice]:
        return [Choice(self, contract_type, label) for contract_type, label in self.types]

    def needs_barrier(self, contract_type: str) -> bool:
        if self.barrier is None:
            return False
        return self.with_barrier is None or contract_type in self.with_barrier

    def fields(self, choice: Choice) -> list[Field]:
        fields = [STAKE, DURATION]
        if self.barrier is not None and self.needs_barrier(choice.contract_type):
            fields.append(self.barrier)
        return fields

    def spec(
        self, choice: Choice, symbol: str, values: Mapping[str, str], currency: str
    ) -> ContractSpec:
        stake = _positive(values.get("stake", ""), "Stake")
        duration, unit = parse_duration(values.get("duration", ""))
        barrier: str | None = None
        if self.needs_barrier(choice.contract_type):
            barrier = values.get("barrier", "").strip()
            if not barrier:
                raise ValueError(f"{choice.label} needs a barrier")
            if self.barrier is DIGIT_BARRIER and barrier not in tuple("0123456789"):
                raise ValueError(f"the digit must be one of 0-9, not {barrier!r}")
        return ContractSpec(
            contract_type=choice.contract_type,
            symbol=symbol,
            amount=stake,
            duration=duration,
            duration_unit=unit,
            currency=currency,
            barrier=barrier,
        )


def _positive(text: str, what: str) -> float:
    try:
        value = float(text.strip())
    except ValueError:
        raise ValueError(f"{what} must be a number, e.g. 10") from None
    if not value > 0:
        raise ValueError(f"{what} must be more than 0")
    return round(value, 2)


#: Every product the ticket offers, in menu order.
PRODUCTS: tuple[Product, ...] = (
    BinaryProduct("Rise/Fall", (("CALL", "Rise"), ("PUT", "Fall"))),
    BinaryProduct("Higher/Lower", (("CALL", "Higher"), ("PUT", "Lower")), PRICE_BARRIER),
    BinaryProduct("Touch", (("ONETOUCH", "Touch"), ("NOTOUCH", "No touch")), PRICE_BARRIER),
    BinaryProduct(
        "Digits",
        (
            ("DIGITMATCH", "Matches"),
            ("DIGITDIFF", "Differs"),
            ("DIGITEVEN", "Even"),
            ("DIGITODD", "Odd"),
            ("DIGITOVER", "Over"),
            ("DIGITUNDER", "Under"),
        ),
        DIGIT_BARRIER,
        frozenset({"DIGITMATCH", "DIGITDIFF", "DIGITOVER", "DIGITUNDER"}),
    ),
)


def choice_by_key(key: str) -> Choice | None:
    for product in PRODUCTS:
        for choice in product.choices():
            if choice.key == key:
                return choice
    return None
