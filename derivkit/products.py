"""Multipliers, Accumulators, Turbos and Vanillas as a user asks for them, as a quote shows them,
and as they end.

Shared by every front-end: the CLI's ``--multiplier``-style options and the bot's
``multiplier=``-style terms both become a :class:`ProductOptions`, and :func:`product_spec` turns
it into the typed spec of the product; each front-end only says how it spells an option in its
error messages (``spell``). :func:`product_quote` is a quote's lines, :func:`order_text` one limit
order, :func:`ending` how a closed contract ended (take profit, stop out, knock-out, ...) and
:func:`net_result` what it made or lost in money. :class:`Offers` is a symbol's ``contracts_for``
by contract type, and :func:`offer_choices` the values each option may take on one offer.

Pure functions, no I/O; ``derivkit.core`` is imported lazily, as in :mod:`derivkit.formatting`,
and nothing from any front-end.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from derivkit.formatting import PRODUCT_TYPES, money, parse_duration, utc

if TYPE_CHECKING:
    from derivkit.core import AnySpec, ContractOffer, OpenContract, Order, Proposal

__all__ = [
    "OPTION_PRODUCTS",
    "Offers",
    "ProductInputError",
    "ProductOptions",
    "ProductQuote",
    "amount_or_none",
    "ending",
    "expiry_type",
    "is_product",
    "net_result",
    "offer_choices",
    "order_payload",
    "order_text",
    "position_terms",
    "product_quote",
    "product_spec",
    "server_level",
]

#: Which products take each option (for "--growth-rate is for ACCU contracts, not MULTUP").
OPTION_PRODUCTS = {
    "multiplier": "MULTUP/MULTDOWN",
    "take_profit": "MULTUP/MULTDOWN, ACCU, TURBOS*",
    "stop_loss": "MULTUP/MULTDOWN",
    "cancellation": "MULTUP/MULTDOWN",
    "growth_rate": "ACCU",
    "strike": "VANILLALONGCALL/PUT",
    "payout_per_point": "TURBOSLONG/SHORT",
}
#: What each product takes besides a stake.
_TAKES = {
    "MULTUP": ("multiplier", "take_profit", "stop_loss", "cancellation"),
    "MULTDOWN": ("multiplier", "take_profit", "stop_loss", "cancellation"),
    "ACCU": ("growth_rate", "take_profit"),
    "TURBOSLONG": ("take_profit", "payout_per_point"),
    "TURBOSSHORT": ("take_profit", "payout_per_point"),
    "VANILLALONGCALL": ("strike",),
    "VANILLALONGPUT": ("strike",),
}

Spell = Callable[[str], str]


def _as_flag(name: str) -> str:
    return "--" + name.replace("_", "-")


class ProductInputError(ValueError):
    """A product asked for with an option it does not take, without one it needs, or with a
    value its spec refuses; the message says which, spelled as the front-end spells it."""


@dataclass(frozen=True)
class ProductOptions:
    """The product options as the user gave them (None: not given)."""

    multiplier: float | None = None
    take_profit: float | None = None
    stop_loss: float | None = None
    cancellation: str | None = None
    growth_rate: float | None = None
    strike: str | None = None
    payout_per_point: float | None = None

    def given(self) -> dict[str, Any]:
        """The options that were given, by name."""
        return {name: value for name, value in asdict(self).items() if value is not None}


def is_product(spec: object) -> bool:
    """Whether ``spec`` (or a contract) is a Multiplier, Accumulator, Turbos or Vanilla."""
    return getattr(spec, "contract_type", None) in PRODUCT_TYPES


def _refuse_others(ct: str, options: ProductOptions, spell: Spell) -> None:
    takes = _TAKES.get(ct, ())
    for name in options.given():
        if name not in takes:
            raise ProductInputError(
                f"{spell(name)} is for {OPTION_PRODUCTS[name]} contracts, not {ct}"
            )


def product_spec(
    symbol: str,
    contract_type: str,
    stake: float,
    *,
    duration: str | None,
    barrier: str | None,
    currency: str,
    options: ProductOptions,
    default_duration: str | None = None,
    spell: Spell = _as_flag,
    see: str = "see `derivkit contracts`",
) -> AnySpec | None:
    """The typed spec of a Multiplier, Accumulator, Turbos or Vanilla; None for a binary type
    (for which no product option may be given).

    ``duration`` is the one the user gave (None: none; Turbos and Vanillas then take
    ``default_duration``, if any). ``spell(name)`` is how the front-end writes an option
    (``--take-profit``, ``take_profit=``; also ``duration`` and ``barrier``); ``see`` where to
    find the choices. Raises :class:`ProductInputError` (nothing has been sent).
    """
    from derivkit.core import (
        AccumulatorSpec,
        MultiplierSpec,
        TurbosSpec,
        UsageError,
        VanillaSpec,
    )

    ct = contract_type.strip().upper()
    _refuse_others(ct, options, spell)
    if ct not in PRODUCT_TYPES:
        return None
    o = options
    try:
        if ct in ("MULTUP", "MULTDOWN", "ACCU"):
            if duration is not None or barrier is not None:
                raise ProductInputError(
                    f"{ct} has no expiry: leave out {spell('duration')} and {spell('barrier')}"
                )
            if ct == "ACCU":
                if o.growth_rate is None:
                    raise ProductInputError(
                        f"ACCU needs {spell('growth_rate')}, e.g. 0.01 for 1 % a tick"
                    )
                return AccumulatorSpec(symbol, stake, o.growth_rate, o.take_profit, currency)
            if o.multiplier is None:
                raise ProductInputError(f"{ct} needs {spell('multiplier')} ({see})")
            return MultiplierSpec(
                ct,  # type: ignore[arg-type]
                symbol,
                stake,
                o.multiplier,
                take_profit=o.take_profit,
                stop_loss=o.stop_loss,
                cancellation=o.cancellation,  # type: ignore[arg-type]
                currency=currency,
            )
        chosen = duration if duration is not None else default_duration
        if chosen is None:
            example = "5t" if ct.startswith("TURBOS") else "5m"
            raise ProductInputError(f"{ct} needs {spell('duration')}, e.g. {example}")
        try:
            amount, unit = parse_duration(chosen)
        except ValueError as error:
            raise ProductInputError(str(error)) from None
        if ct in ("TURBOSLONG", "TURBOSSHORT"):
            if barrier is None and o.payout_per_point is None:
                raise ProductInputError(
                    f"{ct} needs {spell('barrier')} (e.g. -3.08 for a long) or "
                    f"{spell('payout_per_point')} ({see})"
                )
            return TurbosSpec(
                ct,  # type: ignore[arg-type]
                symbol,
                stake,
                amount,
                unit,  # type: ignore[arg-type]
                barrier=barrier,
                payout_per_point=o.payout_per_point,
                take_profit=o.take_profit,
                currency=currency,
            )
        strike = o.strike if o.strike is not None else barrier
        if strike is None:
            raise ProductInputError(f"{ct} needs {spell('strike')} ({see})")
        if unit == "t":
            raise ProductInputError(f"{ct} takes a timed duration (1m, 1h, 1d), not ticks")
        return VanillaSpec(
            ct,  # type: ignore[arg-type]
            symbol,
            stake,
            amount,
            unit,  # type: ignore[arg-type]
            strike=strike,
            currency=currency,
        )
    except UsageError as error:
        raise ProductInputError(str(error)) from None


def amount_or_none(text: str) -> float | None:
    """A new take profit / stop loss as typed: a positive amount, or None for ``none`` (remove
    the order). Raises ValueError with the reason."""
    if text.strip().lower() in ("none", "off", "remove"):
        return None
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{text!r} is not an amount; use a number, or none to remove") from None
    if not (math.isfinite(value) and value > 0):
        raise ValueError("the amount must be positive (or none to remove)")
    return value


def order_text(order: Order | None, currency: str) -> str:
    """``5.00 USD (at 1234.56)``, or ``none`` for an order that is not set."""
    if order is None or order.amount is None or order.amount == 0:
        return "none"
    where = f" (at {order.level})" if order.level else ""
    return f"{money(abs(order.amount), currency)}{where}"


def server_level(raw: Mapping[str, Any], *path: str) -> str | None:
    """A price level as the server wrote it in a reply (at the symbol's pip size: the number
    parsed from it would drop trailing zeros), found by ``path``, e.g. ``server_level(
    proposal.raw, "limit_order", "stop_out", "value")``; a number there at up to 10 digits;
    None when there is none."""
    value: object = raw
    for key in path:
        value = value.get(key) if isinstance(value, Mapping) else None
    from derivkit.core.models import level_text

    return level_text(value) or None


# -- quotes ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProductQuote:
    """A product's quote: a JSON-ready ``payload``, a ``head`` line, labelled ``rows`` and the
    server's ``longcode``."""

    payload: dict[str, Any]
    head: str
    rows: list[tuple[str, str]] = field(default_factory=list)
    longcode: str = ""

    def text(self) -> str:
        """Plain text: the head, then indented ``Label:  value`` lines and the longcode."""
        lines = [f"  {label + ':':<12} {value}" for label, value in self.rows]
        return "\n".join([self.head, *lines, f"  {self.longcode}"])


def _order_row(label: str, order: Order | None, currency: str) -> tuple[str, str] | None:
    if order is None or order.amount is None:
        return None
    where = f" at {order.level}" if order.level else ""
    return label, f"{money(order.amount, currency)}{where}"


def order_payload(order: Order | None) -> dict[str, Any] | None:
    """An order as JSON: ``{"amount": ..., "value": ...}``, or None when not set."""
    if order is None:
        return None
    return {"amount": order.amount, "value": order.value}


def product_quote(spec: AnySpec, proposal: Proposal) -> ProductQuote:
    """The quote of a Multiplier, Accumulator, Turbos or Vanilla."""
    currency = spec.currency
    ct = spec.contract_type
    payload: dict[str, Any] = {
        "proposal_id": proposal.id,
        "contract_type": ct,
        "symbol": spec.symbol,
        "stake": spec.amount,
        "ask_price": proposal.ask_price,
        "payout": proposal.payout,
        "currency": currency,
        "spot": proposal.spot,
        "longcode": proposal.longcode,
    }
    rows: list[tuple[str, str] | None] = [("Stake", money(spec.amount, currency))]
    details = proposal.contract_details
    if ct in ("MULTUP", "MULTDOWN"):
        fee = proposal.cancellation.ask_price if proposal.cancellation else None
        payload.update(
            multiplier=proposal.multiplier,
            commission=proposal.commission,
            stop_out=order_payload(proposal.stop_out),
            take_profit=order_payload(proposal.take_profit),
            stop_loss=order_payload(proposal.stop_loss),
            cancellation_fee=fee,
        )
        head = f"{ct} on {spec.symbol}, x{proposal.multiplier or 0:g}, no expiry"
        if fee is not None:
            rows.append(("Deal cancellation", f"{money(fee, currency)} (not refunded)"))
        rows += [
            ("Commission", money(proposal.commission, currency)),
            _order_row("Stop out", proposal.stop_out, currency),
            _order_row("Take profit", proposal.take_profit, currency),
            _order_row("Stop loss", proposal.stop_loss, currency),
        ]
    elif ct == "ACCU":
        growth_rate = float(getattr(spec, "growth_rate", 0.0))
        payload.update(
            growth_rate=growth_rate,
            high_barrier=details.get("high_barrier"),
            low_barrier=details.get("low_barrier"),
            maximum_ticks=details.get("maximum_ticks"),
            maximum_payout=details.get("maximum_payout"),
            take_profit=order_payload(proposal.take_profit),
        )
        head = f"ACCU on {spec.symbol}, {100 * growth_rate:g} % a tick"
        rows += [
            (
                "Barriers",
                f"{details.get('low_barrier')} to {details.get('high_barrier')} "
                f"(+/- {details.get('tick_size_barrier_percentage')} from each tick)",
            ),
            (
                "Ends by",
                f"{details.get('maximum_ticks')} ticks or "
                f"{money(details.get('maximum_payout'), currency)}",
            ),
            _order_row("Take profit", proposal.take_profit, currency),
        ]
    else:
        duration = f"{getattr(spec, 'duration', '')}{getattr(spec, 'duration_unit', '')}"
        payload.update(
            duration=duration,
            barrier=proposal.barrier,
            number_of_contracts=proposal.number_of_contracts,
            min_stake=proposal.min_stake,
            max_stake=proposal.max_stake,
        )
        head = f"{ct} on {spec.symbol}, {duration}"
        vanilla = ct.startswith("VANILLA")
        rows.append(("Strike" if vanilla else "Barrier", str(details.get("barrier"))))
        rows.append(("Contracts" if vanilla else "Per point", str(proposal.number_of_contracts)))
        if not vanilla:
            payload["take_profit"] = order_payload(proposal.take_profit)
            rows.append(_order_row("Take profit", proposal.take_profit, currency))
    if proposal.spot is not None:
        rows.append(("Spot", f"{proposal.spot}  at {utc(proposal.spot_time)} UTC"))
    return ProductQuote(payload, head, [row for row in rows if row], proposal.longcode)


# -- what a symbol offers --------------------------------------------------------------------


def offer_choices(offer: ContractOffer) -> dict[str, list[str]]:
    """The values a product's options may take on this offer (``contracts_for``), by option
    name: ``multiplier``, ``cancellation``, ``growth_rate``, ``barrier`` (turbos),
    ``payout_per_point``, ``strike`` (vanillas); empty for the binary options."""
    ct = offer.contract_type
    choices: dict[str, list[str]] = {}
    if ct in ("MULTUP", "MULTDOWN"):
        choices["multiplier"] = [f"{value:g}" for value in offer.multiplier_range]
        choices["cancellation"] = list(offer.cancellation_range)
    elif ct == "ACCU":
        choices["growth_rate"] = [f"{value:g}" for value in offer.growth_rate_range]
    elif ct in ("TURBOSLONG", "TURBOSSHORT"):
        choices["barrier"] = list(offer.barrier_choices)
        choices["payout_per_point"] = [f"{value:g}" for value in offer.payout_choices]
    elif ct in ("VANILLALONGCALL", "VANILLALONGPUT"):
        choices["strike"] = list(offer.barrier_choices)
    return {name: values for name, values in choices.items() if values}


class Offers:
    """What a symbol's ``contracts_for`` offers, by contract type; before it is known (or if
    it could not be read) every type counts as offered and no offer is known."""

    def __init__(self, offers: Iterable[ContractOffer] = (), *, loaded: bool = False) -> None:
        self.loaded = loaded
        self._by_type: dict[str, list[ContractOffer]] = {}
        for offer in offers:
            self._by_type.setdefault(offer.contract_type, []).append(offer)

    def offers(self, contract_type: str) -> bool:
        return not self.loaded or contract_type in self._by_type

    def get(self, contract_type: str, expiry_type: str | None = None) -> ContractOffer | None:
        """The offer of ``contract_type`` (for ``expiry_type``: tick, intraday, daily, if
        given and listed), or None."""
        offers = self._by_type.get(contract_type, [])
        for offer in offers:
            if expiry_type is None or offer.expiry_type == expiry_type:
                return offer
        return offers[0] if offers else None


def expiry_type(duration: str) -> str:
    """The ``contracts_for`` expiry type a duration such as ``5t`` falls in: ``tick``,
    ``intraday`` or ``daily`` (intraday for one that is not valid)."""
    try:
        _, unit = parse_duration(duration)
    except ValueError:
        return "intraday"
    return {"t": "tick", "d": "daily"}.get(unit, "intraday")


# -- how contracts end ------------------------------------------------------------------------


def net_result(contract: OpenContract) -> float:
    """What a contract made or lost in money: what it was sold for less what was paid (a deal
    cancellation fee included, which ``profit`` leaves out); ``profit`` while it is open."""
    if contract.is_sold and contract.sell_price is not None and contract.buy_price:
        return round(contract.sell_price - contract.buy_price, 2)
    return contract.profit


def _reached(order: Order | None, profit: float) -> bool:
    return order is not None and bool(order.amount) and profit >= abs(order.amount or 0) - 0.01


def ending(contract: OpenContract) -> str | None:
    """How a closed product ended, in a few words: ``take profit``, ``stop loss``, ``stop
    out``, ``deal cancellation``, ``knocked out``, ``maximum ticks``, ``expiry`` or ``sold``;
    None while it is open, and for the binary options (won, lost or sold says it all).

    Deriv leaves a multiplier's ``status`` empty when it closes one (stop out, take profit or
    stop loss) and calls an accumulator the client sold ``won``; what closed it is read from
    the orders it had, as Deriv's own apps do: only a take profit closes a multiplier at a
    gain, and a stop loss always sits before the stop out.
    """
    if not contract.is_sold:
        return None
    status = contract.status
    ct = contract.contract_type
    if status == "cancelled":
        return "deal cancellation"
    if not is_product(contract):
        return "sold" if status == "sold" else None
    if status == "sold":
        return "sold"
    profit = contract.profit
    take_profit = getattr(contract, "take_profit", None)
    if ct in ("MULTUP", "MULTDOWN"):
        if profit >= 0:
            return "take profit" if take_profit is not None else None
        return "stop loss" if getattr(contract, "stop_loss", None) is not None else "stop out"
    if ct == "ACCU":
        if status == "lost":
            return "knocked out"
        if _reached(take_profit, profit):
            return "take profit"
        ticks, passed = contract.tick_count, int(getattr(contract, "tick_passed", 0) or 0)
        return "maximum ticks" if ticks and passed >= ticks else "sold"
    if ct in ("TURBOSLONG", "TURBOSSHORT"):
        if status == "lost" and not contract.sell_price:
            return "knocked out"
        early = contract.date_expiry is not None and (contract.sell_time or 0) < (
            contract.date_expiry
        )
        if _reached(take_profit, profit) and early:
            return "take profit"
        return "expiry"
    return "expiry"


# -- open positions ---------------------------------------------------------------------------
# :func:`position_terms`: an open product's terms in a few words (the bot's /portfolio).


def _written(contract: OpenContract, value: float | None, *path: str) -> str | None:
    """A level of ``contract`` as the server wrote it at ``path`` in its message (at the
    symbol's pip size, which the parsed number would lose), else ``value``; None when there is
    neither."""
    from derivkit.core.models import level_text

    return server_level(contract.raw, *path) or level_text(value) or None


def _order_amount(label: str, order: Order | None, currency: str) -> str | None:
    if order is None or not order.amount:
        return None
    return f"{label} {money(abs(order.amount), currency).removesuffix(currency).strip()}"


def position_terms(contract: OpenContract) -> list[str]:
    """What a trader needs of an open product besides its value, each a few words for a
    narrow screen (amounts in the contract's currency, levels as the server wrote them):

    * a multiplier: ``x100``, ``TP 5.00``, ``SL 3.00``, ``stop out 1168.23``, and while deal
      cancellation lasts ``DC until 12:34:56 UTC`` and ``DC fee 0.45``;
    * an accumulator: ``1 %/tick``, ``tick 7/230``, ``band 1233.91-1234.42`` (the barriers
      of the latest tick), ``TP 2.00``;
    * a turbos: ``barrier 1230.45``, ``0.523/pt`` (payout per point), ``TP 5.00``;
    * a vanilla: ``strike 1234.00``, ``1.2345/pt``.

    Empty for the binary options (and a product whose state has none of these yet).
    """
    from derivkit.core import (
        AccumulatorContract,
        MultiplierContract,
        TurbosContract,
        VanillaContract,
    )

    currency = contract.currency
    terms: list[str | None] = []
    if isinstance(contract, MultiplierContract):
        level = None if contract.stop_out is None else contract.stop_out.value
        stop_out = _written(contract, level, "limit_order", "stop_out", "value")
        cancellation = contract.cancellation
        terms = [
            f"x{contract.multiplier:g}" if contract.multiplier else None,
            _order_amount("TP", contract.take_profit, currency),
            _order_amount("SL", contract.stop_loss, currency),
            None if stop_out is None else f"stop out {stop_out}",
        ]
        if cancellation is not None and contract.is_valid_to_cancel and not contract.is_sold:
            fee = money(cancellation.ask_price, currency).removesuffix(currency).strip()
            terms += [f"DC until {utc(cancellation.date_expiry)[11:]} UTC", f"DC fee {fee}"]
    elif isinstance(contract, AccumulatorContract):
        low = _written(contract, contract.low_barrier, "low_barrier")
        high = _written(contract, contract.high_barrier, "high_barrier")
        terms = [
            f"{100 * contract.growth_rate:g} %/tick" if contract.growth_rate else None,
            f"tick {contract.tick_passed}/{contract.tick_count or '?'}",
            f"band {low}-{high}" if low is not None and high is not None else None,
            _order_amount("TP", contract.take_profit, currency),
        ]
    elif isinstance(contract, TurbosContract):
        barrier = _written(contract, contract.barrier_level, "barrier")
        terms = [
            None if barrier is None else f"barrier {barrier}",
            None if contract.payout_per_point is None else f"{contract.payout_per_point:g}/pt",
            _order_amount("TP", contract.take_profit, currency),
        ]
    elif isinstance(contract, VanillaContract):
        strike = _written(contract, contract.strike, "barrier")
        per_point = contract.number_of_contracts
        terms = [
            None if strike is None else f"strike {strike}",
            None if per_point is None else f"{per_point:g}/pt",
        ]
    return [term for term in terms if term]
