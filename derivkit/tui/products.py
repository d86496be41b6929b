"""What the trade ticket can trade: products, their contract types, and the inputs each needs.

A :class:`Product` names its contract types and its input fields, turns the values entered into
the typed spec the API prices and buys (:class:`~derivkit.core.ContractSpec` for the binary
options, :class:`~derivkit.core.MultiplierSpec`, :class:`~derivkit.core.AccumulatorSpec`,
:class:`~derivkit.core.TurbosSpec`, :class:`~derivkit.core.VanillaSpec`), and words a quote
and a confirmation. The ticket knows nothing else about a product.

A field is typed text (stake, duration, barriers, take profit) or a choice among options
(multiplier, growth rate, deal cancellation, a turbos barrier or payout per point, a vanilla
strike, the tick of High/Low ticks). Choices come from the symbol's ``contracts_for``
(:class:`~derivkit.products.Offers`, :func:`~derivkit.products.offer_choices`), so they are what
the server accepts for that symbol; until it is known, the fixed ranges get a documented default
and the spot-dependent ones (turbos, vanilla) none. One key is always the same kind of field,
whatever the product, so the ticket keeps one widget per key and a value typed for one product
carries over to the next.

What is not the ticket's own is shared with the CLI and the bot: the specs are built by
:func:`derivkit.formatting.contract_spec` (binary options) and
:func:`derivkit.products.product_spec` (Multipliers, Accumulators, Turbos, Vanillas), which check
the terms; this module reads the ticket's fields, and words the quote and the confirmation.

Pure: no Textual, no I/O. ``spec`` raises ``ValueError`` with a message fit to show the user.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol, cast

from derivkit.core import (
    AccumulatorSpec,
    AnySpec,
    ContractOffer,
    ContractSpec,
    MultiplierSpec,
    Proposal,
    TurbosSpec,
    VanillaSpec,
)
from derivkit.formatting import contract_spec, duration_text, money
from derivkit.products import (
    Offers,
    ProductOptions,
    expiry_type,
    offer_choices,
    product_spec,
    server_level,
)

__all__ = [
    "PRODUCTS",
    "AccumulatorProduct",
    "BinaryProduct",
    "Choice",
    "Field",
    "MultiplierProduct",
    "Offers",
    "Product",
    "TurbosProduct",
    "VanillaProduct",
    "choice_by_key",
    "choices_offered",
]

Option = tuple[str, str]  # what the user sees, the value


@dataclass(frozen=True, slots=True)
class Field:
    """One input of the ticket: ``key`` in the values handed to :meth:`Product.spec`.

    ``options`` makes it a choice (label, value) instead of typed text; ``row`` 0 holds the
    contract's terms, row 1 its orders (take profit, stop loss, deal cancellation)."""

    key: str
    label: str
    default: str = ""
    placeholder: str = ""
    options: tuple[Option, ...] | None = None
    row: int = 0

    @property
    def is_choice(self) -> bool:
        return self.options is not None


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

    def fields(self, choice: Choice, offers: Offers, values: Mapping[str, str]) -> list[Field]:
        """The inputs ``choice`` needs, in display order; choices drawn from ``offers`` (and,
        for a vanilla's strike, from the duration in ``values``)."""
        ...

    def spec(
        self, choice: Choice, symbol: str, values: Mapping[str, str], currency: str
    ) -> AnySpec:
        """The contract to price; ValueError (a message for the user) for a bad value."""
        ...

    def describe(self, choice: Choice, spec: AnySpec) -> str:
        """One line naming the contract and its terms (for the confirmation)."""
        ...

    def quote_text(self, spec: AnySpec, proposal: Proposal, currency: str) -> str:
        """What the quote says: the price, and what the product pays or stops at."""
        ...


class _Typed:
    """What every product below shares: a choice per ``(contract type, label)`` in ``types``."""

    __slots__ = ()
    types: tuple[tuple[str, str], ...]

    def choices(self) -> list[Choice]:
        product = cast("Product", self)
        return [Choice(product, contract_type, label) for contract_type, label in self.types]


# -- fields ---------------------------------------------------------------------------------

STAKE = Field("stake", "Stake", "10", "e.g. 10")
DURATION = Field("duration", "Duration", "5t", "5t, 30s, 5m, 1h, 1d")
TIMED_DURATION = Field("duration", "Duration", "5m", "5m, 1h, 1d (no ticks)")
PRICE_BARRIER = Field("barrier", "Barrier", "+0.5", "+0.5 / -0.5 (relative) or 1234.5")
DIGIT = Field("digit", "Digit", "5", "0-9")
HIGH_BARRIER = Field("high", "High barrier", "+0.5", "+0.5 or a level")
LOW_BARRIER = Field("low", "Low barrier", "-0.5", "-0.5 or a level")
TICKS = tuple((f"tick {n}", str(n)) for n in range(1, 6))
SELECTED_TICK = Field("tick", "Which tick", "1", options=TICKS)
TAKE_PROFIT = Field("take_profit", "Take profit", "", "none", row=1)
STOP_LOSS = Field("stop_loss", "Stop loss", "", "none", row=1)

#: Used until the symbol's own ranges are known (Deriv's defaults on the volatility indices).
DEFAULT_MULTIPLIERS = ("10", "20", "30", "50", "100")
DEFAULT_GROWTH_RATES = ("0.01", "0.02", "0.03", "0.04", "0.05")
DEFAULT_CANCELLATIONS = ("5m", "10m", "15m", "30m", "60m")
NO_CANCELLATION = ("none", "")


def _number(value: float) -> str:
    return f"{value:g}"


def _amount(text: str, what: str, *, optional: bool = False) -> float | None:
    """A positive amount (2 decimals); blank (or ``none``) is None when ``optional``."""
    text = text.strip()
    if optional and text.lower() in ("", "none"):
        return None
    try:
        value = float(text)
    except ValueError:
        hint = " (or leave it empty)" if optional else ""
        raise ValueError(f"{what} must be a number, e.g. 10{hint}") from None
    if not value > 0:
        raise ValueError(f"{what} must be more than 0")
    return round(value, 2)


def _stake(values: Mapping[str, str]) -> float:
    stake = _amount(values.get("stake", ""), "Stake")
    assert stake is not None
    return stake


def _choice_value(values: Mapping[str, str], key: str, what: str) -> str:
    value = values.get(key, "").strip()
    if not value:
        raise ValueError(f"choose a {what}")
    return value


def _expiry_type(values: Mapping[str, str]) -> str:
    return expiry_type(values.get("duration", ""))


def _offered(offer: ContractOffer | None, option: str, default: tuple[str, ...] = ()) -> list[str]:
    """The values ``option`` may take on ``offer`` (``default`` while no offer is known)."""
    if offer is None:
        return list(default)
    return offer_choices(offer).get(option, [])


def _product(
    choice: Choice,
    symbol: str,
    stake: float,
    currency: str,
    options: ProductOptions,
    *,
    duration: str | None = None,
    barrier: str | None = None,
) -> AnySpec:
    """The spec of a Multiplier, Accumulator, Turbos or Vanilla, checked by the shared
    :func:`~derivkit.products.product_spec` (its ProductInputError is a ValueError)."""
    spec = product_spec(
        symbol,
        choice.contract_type,
        stake,
        duration=duration,
        barrier=barrier,
        currency=currency,
        options=options,
        spell=lambda name: f"a {name.replace('_', ' ')}",
        see="the symbol's list",
    )
    assert spec is not None  # a product's own type, never a binary one
    return spec


def _level(proposal: Proposal, *path: str) -> str | None:
    return server_level(proposal.raw, *path)


def _with_orders(text: str, proposal: Proposal, currency: str) -> str:
    for kind, order in (("take_profit", proposal.take_profit), ("stop_loss", proposal.stop_loss)):
        if order is not None and order.amount is not None:
            level = _level(proposal, "limit_order", kind, "value")
            at = f" at {level}" if level is not None else ""
            label = kind.replace("_", " ")
            text += f" · {label} {money(abs(order.amount), currency)}{at}"
    return text


# -- the binary options -----------------------------------------------------------------------

#: Which ContractSpec parameter each binary field fills.
_BINARY_PARAMETERS = {
    "barrier": "barrier",
    "digit": "barrier",
    "high": "barrier",
    "low": "barrier2",
}


@dataclass(frozen=True, slots=True)
class BinaryProduct(_Typed):
    """Options with a fixed payout: stake, a duration (or a fixed one) and, for some types,
    barriers, a digit or a selected tick.

    ``types`` maps each contract type to its label; ``extra`` are the fields after the stake
    and duration, taken by the types in ``extra_for`` (every type when it is None).
    """

    name: str
    types: tuple[tuple[str, str], ...]
    extra: tuple[Field, ...] = ()
    extra_for: frozenset[str] | None = None
    duration: Field | None = DURATION
    fixed_duration: tuple[int, str] = (5, "t")  # when ``duration`` is None

    def _takes_extra(self, contract_type: str) -> bool:
        return self.extra_for is None or contract_type in self.extra_for

    def fields(self, choice: Choice, offers: Offers, values: Mapping[str, str]) -> list[Field]:
        fields = [STAKE] if self.duration is None else [STAKE, self.duration]
        if self._takes_extra(choice.contract_type):
            fields.extend(self.extra)
        return fields

    def spec(
        self, choice: Choice, symbol: str, values: Mapping[str, str], currency: str
    ) -> ContractSpec:
        stake = _stake(values)
        if self.duration is None:
            amount, unit = self.fixed_duration
            duration = f"{amount}{unit}"
        else:
            duration = values.get("duration", "")
        params: dict[str, str] = {}
        selected_tick: int | None = None
        if self._takes_extra(choice.contract_type):
            for field in self.extra:
                value = values.get(field.key, "").strip()
                if not value:
                    raise ValueError(f"{choice.label} needs a {field.label.lower()}")
                if field.key == "digit" and value not in tuple("0123456789"):
                    raise ValueError(f"the digit must be one of 0-9, not {value!r}")
                if field.key == "tick":
                    selected_tick = int(value)
                else:
                    params[_BINARY_PARAMETERS[field.key]] = value
        return contract_spec(
            symbol,
            choice.contract_type,
            stake,
            duration,
            barrier=params.get("barrier"),
            barrier2=params.get("barrier2"),
            selected_tick=selected_tick,
            currency=currency,
        )

    def describe(self, choice: Choice, spec: AnySpec) -> str:
        assert isinstance(spec, ContractSpec)
        text = f"{choice.label} ({spec.contract_type}) on {spec.symbol}"
        text += f" · {duration_text(spec.duration, spec.duration_unit)}"
        if spec.barrier2 is not None:
            text += f" · barriers {spec.barrier} and {spec.barrier2}"
        elif spec.barrier is not None:
            text += f" · {'digit' if spec.contract_type.startswith('DIGIT') else 'barrier'}"
            text += f" {spec.barrier}"
        if spec.selected_tick is not None:
            text += f" · tick {spec.selected_tick}"
        return text

    def quote_text(self, spec: AnySpec, proposal: Proposal, currency: str) -> str:
        profit = proposal.payout - proposal.ask_price
        ratio = f" ({profit / proposal.ask_price:+.1%})" if proposal.ask_price else ""
        return (
            f"Price {money(proposal.ask_price, currency)} · payout "
            f"{money(proposal.payout, currency)} · profit if it wins {money(profit, currency)}"
            f"{ratio}"
        )


# -- Multipliers ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MultiplierProduct(_Typed):
    """``MULTUP``/``MULTDOWN``: stake and multiplier, no expiry; take profit and stop loss, or
    deal cancellation (where the symbol offers it)."""

    name: str = "Multipliers"
    types: tuple[tuple[str, str], ...] = (("MULTUP", "Up"), ("MULTDOWN", "Down"))

    def fields(self, choice: Choice, offers: Offers, values: Mapping[str, str]) -> list[Field]:
        offer = offers.get(choice.contract_type)
        multipliers = _offered(offer, "multiplier", DEFAULT_MULTIPLIERS)
        windows = _offered(offer, "cancellation", DEFAULT_CANCELLATIONS)
        return [
            STAKE,
            Field(
                "multiplier",
                "Multiplier",
                multipliers[0] if multipliers else "",
                options=tuple((f"×{m}", m) for m in multipliers),
            ),
            TAKE_PROFIT,
            STOP_LOSS,
            Field(
                "cancellation",
                "Deal cancellation",
                "",
                options=(NO_CANCELLATION, *((window, window) for window in windows)),
                row=1,
            ),
        ]

    def spec(
        self, choice: Choice, symbol: str, values: Mapping[str, str], currency: str
    ) -> AnySpec:
        take_profit = _amount(values.get("take_profit", ""), "Take profit", optional=True)
        stop_loss = _amount(values.get("stop_loss", ""), "Stop loss", optional=True)
        stake = _stake(values)
        options = ProductOptions(
            multiplier=float(_choice_value(values, "multiplier", "multiplier")),
            take_profit=take_profit,
            stop_loss=stop_loss,
            cancellation=values.get("cancellation", "").strip() or None,
        )
        return _product(choice, symbol, stake, currency, options)

    def describe(self, choice: Choice, spec: AnySpec) -> str:
        assert isinstance(spec, MultiplierSpec)
        currency = spec.currency
        text = f"Multiply {choice.label.lower()} ({spec.contract_type}) on {spec.symbol}"
        text += f" · stake {money(spec.stake, currency)} ×{_number(spec.multiplier)}"
        if spec.take_profit is not None:
            text += f" · take profit {money(spec.take_profit, currency)}"
        if spec.stop_loss is not None:
            text += f" · stop loss {money(spec.stop_loss, currency)}"
        if spec.cancellation is not None:
            text += f" · deal cancellation {spec.cancellation}"
        return text + " · no expiry"

    def quote_text(self, spec: AnySpec, proposal: Proposal, currency: str) -> str:
        text = f"Price {money(proposal.ask_price, currency)}"
        if proposal.cancellation is not None and proposal.cancellation.ask_price is not None:
            fee = money(proposal.cancellation.ask_price, currency)
            text += f" (deal cancellation {fee}, not refunded)"
        text += f" · commission {money(proposal.commission, currency)}"
        stop_out = _level(proposal, "limit_order", "stop_out", "value")
        if stop_out is not None:
            text += f" · stop out at {stop_out}"
        return _with_orders(text, proposal, currency)


# -- Accumulators -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AccumulatorProduct(_Typed):
    """``ACCU``: the stake grows by the growth rate a tick while each tick stays in the range;
    optional take profit (which cannot be changed after the purchase)."""

    name: str = "Accumulators"
    types: tuple[tuple[str, str], ...] = (("ACCU", "Accumulate"),)

    def fields(self, choice: Choice, offers: Offers, values: Mapping[str, str]) -> list[Field]:
        offer = offers.get(choice.contract_type)
        rates = _offered(offer, "growth_rate", DEFAULT_GROWTH_RATES)
        return [
            STAKE,
            Field(
                "growth_rate",
                "Growth a tick",
                rates[0] if rates else "",
                options=tuple((f"{100 * float(r):g} %", r) for r in rates),
            ),
            TAKE_PROFIT,
        ]

    def spec(
        self, choice: Choice, symbol: str, values: Mapping[str, str], currency: str
    ) -> AnySpec:
        stake = _stake(values)
        options = ProductOptions(
            growth_rate=float(_choice_value(values, "growth_rate", "growth rate")),
            take_profit=_amount(values.get("take_profit", ""), "Take profit", optional=True),
        )
        return _product(choice, symbol, stake, currency, options)

    def describe(self, choice: Choice, spec: AnySpec) -> str:
        assert isinstance(spec, AccumulatorSpec)
        text = f"{choice.label} ({spec.contract_type}) on {spec.symbol}"
        text += f" · stake {money(spec.stake, spec.currency)} · {100 * spec.growth_rate:g} % a tick"
        if spec.take_profit is not None:
            text += f" · take profit {money(spec.take_profit, spec.currency)}"
        return text + " · no expiry"

    def quote_text(self, spec: AnySpec, proposal: Proposal, currency: str) -> str:
        details = proposal.contract_details
        text = f"Price {money(proposal.ask_price, currency)}"
        if details.get("tick_size_barrier_percentage"):
            text += f" · each tick within ±{details['tick_size_barrier_percentage']} of the last"
        if details.get("maximum_ticks") is not None:
            text += f" · ends by {details['maximum_ticks']} ticks"
        if details.get("maximum_payout") is not None:
            text += f" or {money(float(details['maximum_payout']), currency)}"
        return _with_orders(text, proposal, currency)


# -- Turbos -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TurbosProduct(_Typed):
    """``TURBOSLONG``/``TURBOSSHORT``: a duration and one of the symbol's barrier choices or
    payout-per-point choices (one field: ``b:<offset>`` or ``p:<amount>``); optional take
    profit."""

    name: str = "Turbos"
    types: tuple[tuple[str, str], ...] = (("TURBOSLONG", "Long"), ("TURBOSSHORT", "Short"))

    def fields(self, choice: Choice, offers: Offers, values: Mapping[str, str]) -> list[Field]:
        offer = offers.get(choice.contract_type, _expiry_type(values))
        options: tuple[Option, ...] = ()
        default = ""
        if offer is not None:
            options = tuple((f"barrier {b}", f"b:{b}") for b in _offered(offer, "barrier"))
            options += tuple(
                (f"per point {p}", f"p:{p}") for p in _offered(offer, "payout_per_point")
            )
            if offer.barrier:
                default = f"b:{offer.barrier}"
        return [
            STAKE,
            DURATION,
            Field("turbos", "Barrier or per point", default, options=options),
            TAKE_PROFIT,
        ]

    def spec(
        self, choice: Choice, symbol: str, values: Mapping[str, str], currency: str
    ) -> AnySpec:
        stake = _stake(values)
        level = values.get("turbos", "").strip()
        kind, _, value = level.partition(":")
        if kind not in ("b", "p") or not value:
            raise ValueError("choose a barrier or a payout per point (the symbol's list)")
        options = ProductOptions(
            payout_per_point=float(value) if kind == "p" else None,
            take_profit=_amount(values.get("take_profit", ""), "Take profit", optional=True),
        )
        barrier = value if kind == "b" else None
        duration = values.get("duration", "")
        return _product(
            choice, symbol, stake, currency, options, duration=duration, barrier=barrier
        )

    def describe(self, choice: Choice, spec: AnySpec) -> str:
        assert isinstance(spec, TurbosSpec)
        text = f"Turbos {choice.label.lower()} ({spec.contract_type}) on {spec.symbol}"
        text += f" · {duration_text(spec.duration, spec.duration_unit)}"
        if spec.barrier is not None:
            text += f" · barrier {spec.barrier}"
        else:
            text += f" · payout per point {spec.payout_per_point:g}"
        if spec.take_profit is not None:
            text += f" · take profit {money(spec.take_profit, spec.currency)}"
        return text

    def quote_text(self, spec: AnySpec, proposal: Proposal, currency: str) -> str:
        text = f"Price {money(proposal.ask_price, currency)}"
        barrier = _level(proposal, "contract_details", "barrier")
        if barrier is not None:
            text += f" · knocked out at {barrier}"
        if proposal.number_of_contracts is not None:
            text += f" · {money(proposal.number_of_contracts, currency, 6)} a point beyond it"
        return _with_orders(text, proposal, currency)


# -- Vanillas ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class VanillaProduct(_Typed):
    """``VANILLALONGCALL``/``VANILLALONGPUT``: a timed duration and one of the symbol's
    strikes (offsets intraday, price levels for days)."""

    name: str = "Vanillas"
    types: tuple[tuple[str, str], ...] = (
        ("VANILLALONGCALL", "Call"),
        ("VANILLALONGPUT", "Put"),
    )

    def fields(self, choice: Choice, offers: Offers, values: Mapping[str, str]) -> list[Field]:
        expiry = "daily" if _expiry_type(values) == "daily" else "intraday"
        offer = offers.get(choice.contract_type, expiry)
        strikes = _offered(offer, "strike")
        default = (offer.barrier or "") if offer is not None else ""
        return [
            STAKE,
            TIMED_DURATION,
            Field("strike", "Strike", default, options=tuple((s, s) for s in strikes)),
        ]

    def spec(
        self, choice: Choice, symbol: str, values: Mapping[str, str], currency: str
    ) -> AnySpec:
        stake = _stake(values)
        options = ProductOptions(
            strike=_choice_value(values, "strike", "strike (the symbol's list)")
        )
        duration = values.get("duration", "")
        return _product(choice, symbol, stake, currency, options, duration=duration)

    def describe(self, choice: Choice, spec: AnySpec) -> str:
        assert isinstance(spec, VanillaSpec)
        text = f"Vanilla {choice.label.lower()} ({spec.contract_type}) on {spec.symbol}"
        return (
            text + f" · {duration_text(spec.duration, spec.duration_unit)} · strike {spec.strike}"
        )

    def quote_text(self, spec: AnySpec, proposal: Proposal, currency: str) -> str:
        text = f"Price {money(proposal.ask_price, currency)}"
        strike = _level(proposal, "contract_details", "barrier")
        if strike is not None:
            text += f" · strike {strike}"
        if proposal.number_of_contracts is not None:
            count = proposal.number_of_contracts
            text += f" · {count:g} contracts: pays {count:g} a point beyond the strike"
        return text


#: Every product the ticket offers, in menu order.
PRODUCTS: tuple[Product, ...] = (
    BinaryProduct("Rise/Fall", (("CALL", "Rise"), ("PUT", "Fall"))),
    BinaryProduct("Rise/Fall equal", (("CALLE", "Rise or equal"), ("PUTE", "Fall or equal"))),
    BinaryProduct("Higher/Lower", (("CALL", "Higher"), ("PUT", "Lower")), (PRICE_BARRIER,)),
    BinaryProduct("Touch", (("ONETOUCH", "Touch"), ("NOTOUCH", "No touch")), (PRICE_BARRIER,)),
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
        (DIGIT,),
        frozenset({"DIGITMATCH", "DIGITDIFF", "DIGITOVER", "DIGITUNDER"}),
    ),
    MultiplierProduct(),
    AccumulatorProduct(),
    TurbosProduct(),
    VanillaProduct(),
    BinaryProduct(
        "Ends in/out",
        (("EXPIRYRANGE", "Ends between"), ("EXPIRYMISS", "Ends outside")),
        (HIGH_BARRIER, LOW_BARRIER),
        duration=TIMED_DURATION,
    ),
    BinaryProduct(
        "Stays in/out",
        (("RANGE", "Stays between"), ("UPORDOWN", "Goes outside")),
        (HIGH_BARRIER, LOW_BARRIER),
        duration=TIMED_DURATION,
    ),
    BinaryProduct("Asians", (("ASIANU", "Asian up"), ("ASIAND", "Asian down"))),
    BinaryProduct(
        "High/Low ticks",
        (("TICKHIGH", "High tick"), ("TICKLOW", "Low tick")),
        (SELECTED_TICK,),
        duration=None,
    ),
    BinaryProduct("Only ups/downs", (("RUNHIGH", "Only ups"), ("RUNLOW", "Only downs"))),
)


def choice_by_key(key: str) -> Choice | None:
    for product in PRODUCTS:
        for choice in product.choices():
            if choice.key == key:
                return choice
    return None


def choices_offered(offers: Offers) -> list[Choice]:
    """Every choice whose contract type the symbol offers (all of them before that is known)."""
    return [
        choice
        for product in PRODUCTS
        for choice in product.choices()
        if offers.offers(choice.contract_type)
    ]
