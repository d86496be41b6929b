"""What every contract product shares: the error stages, the proposal quote, and the open
contract with the ``proposal_open_contract`` fields common to all products.

Product modules (binaries, multipliers, accumulators, turbos, vanillas) subclass :class:`Product`
and :class:`Contract`. Everything here is synchronous and pure apart from a contract's own state,
which only the broker's tick monitor and the trading handlers mutate, on the event loop thread.

Error stages follow Deriv (products doc §1.6): a bad combination of parameters is
``ContractCreationFailure``, an offering that does not exist (symbol, type, duration) is
``OfferingsValidationError`` and a contract that is built but not valid to buy (limits, barriers,
orders) is ``ContractBuyValidationError``. ``buy`` by parameters renames the last two
(:data:`BUY_CODES`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from derivkit.sim.errors import ApiError
from derivkit.sim.symbols import SymbolSpec

#: How ``buy`` with ``parameters`` reports the errors ``proposal`` gives.
BUY_CODES = {
    "OfferingsValidationError": "InvalidOfferings",
    "ContractBuyValidationError": "InvalidtoBuy",
}
#: Minimum amount of any limit order (take profit, stop loss) in the account currency.
MIN_ORDER_AMOUNT = 0.10
SECONDS_PER_DAY = 86_400
NOT_OFFERED_ASSET = "Trading is not offered for this asset."
NOT_OFFERED_DURATION = "Trading is not offered for this duration."
RESALE_NOT_OFFERED = "Resale of this contract is not offered."
WAITING_FOR_ENTRY = "Waiting for entry tick."
SAME_SECOND = "Contract cannot be sold at this time. Please try again."
NOT_UPDATABLE = (
    "This contract cannot be updated once you've made your purchase. This feature is not "
    "available for this contract type."
)


def creation(message: str, field_name: str | None = None) -> ApiError:
    """``ContractCreationFailure``: the parameters do not make a contract."""
    return ApiError(
        "ContractCreationFailure", message, {"field": field_name} if field_name else None
    )


def offerings(message: str = NOT_OFFERED_ASSET, field_name: str | None = None) -> ApiError:
    """``OfferingsValidationError``: the symbol, type or duration is not offered."""
    return ApiError(
        "OfferingsValidationError", message, {"field": field_name} if field_name else None
    )


def invalid(message: str, **details: Any) -> ApiError:
    """``ContractBuyValidationError``: a contract that exists but may not be bought so."""
    return ApiError("ContractBuyValidationError", message, details or None)


def for_buy(error: ApiError) -> ApiError:
    """The error ``buy`` with ``parameters`` answers where ``proposal`` answers ``error``."""
    code = BUY_CODES.get(error.code)
    if code is None:
        return error
    return ApiError(code, error.message, error.details)


def decimals(value: float) -> int:
    """How many decimals ``value`` needs (0.1 -> 1, 10 -> 0, 0.125 -> 3)."""
    text = repr(float(value))
    if "e" in text or "E" in text:
        return 10
    whole, _, frac = text.partition(".")
    frac = frac.rstrip("0")
    return len(frac)


def money(value: float) -> str:
    return f"{value:.2f}"


def end_of_day(epoch: float, days_ahead: int) -> int:
    """23:59:59 UTC of the day ``days_ahead`` days after ``epoch``'s day."""
    day = int(epoch) // SECONDS_PER_DAY + days_ahead
    return day * SECONDS_PER_DAY + SECONDS_PER_DAY - 1


UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600}


def expiry_epoch(start: float, duration: int, unit: str, date_expiry: int | None) -> int:
    """Expiry of a timed contract bought at ``start``: ``date_expiry`` when given, the end of the
    trading day (23:59:59 UTC) for days, else the start plus the duration."""
    if date_expiry is not None:
        return date_expiry
    if unit == "d":
        return end_of_day(start, duration)
    return int(start) + duration * UNIT_SECONDS[unit]


def round_to_pip(price: float, pip_size: int, how: str = "nearest") -> float:
    """``price`` on the symbol's pip grid; ``how`` is ``nearest``, ``up`` or ``down``."""
    scale = 10.0**pip_size
    x = price * scale
    if how == "up":
        n = math.ceil(x - 1e-9)
    elif how == "down":
        n = math.floor(x + 1e-9)
    else:
        n = round(x)
    return round(n / scale, pip_size)


def reject_fields(params: dict[str, Any], contract_type: str, fields: tuple[str, ...]) -> None:
    """``ContractCreationFailure`` for inputs this product does not take."""
    for name in fields:
        if name in params:
            raise creation(f"{name} is not a valid input for contract type {contract_type}.", name)
    orders = params.get("limit_order")
    if isinstance(orders, dict):
        for name in ("take_profit", "stop_loss"):
            if name in orders and name in fields:
                raise creation(
                    f"{name} is not a valid input for contract type {contract_type}.", name
                )


def check_stake_decimals(amount: float, what: str = "Stake") -> None:
    if decimals(amount) > 2:
        raise invalid(f"{what} can not have more than 2 decimal places.", field="amount")


def limit_amount(params: dict[str, Any], name: str) -> float | None:
    orders = params.get("limit_order")
    if isinstance(orders, dict) and orders.get(name) is not None:
        return float(orders[name])
    return None


@dataclass(frozen=True)
class Context:
    """What a product may know when it parses and prices: the time and a stable reference spot
    (the first tick of the hour; turbos and vanilla choices are built on it)."""

    now: float
    reference_spot: Callable[[], float]
    #: The last ``n`` quotes of the symbol (oldest first).
    recent_quotes: Callable[[int], list[float]] = field(default=lambda n: [])


@dataclass
class Quote:
    """A priced contract: what ``proposal`` shows and what ``buy`` charges."""

    ask_price: float
    payout: float
    longcode: str
    date_expiry: int | None
    fields: dict[str, Any] = field(default_factory=dict)
    #: Whether the price depends on the spot (proposal streams only send a changed price).
    constant: bool = False


@dataclass
class Order:
    """One limit order (take profit, stop loss or stop out) of an open contract."""

    kind: str  # take_profit | stop_loss | stop_out
    amount: float  # signed: positive for take profit, negative for stop loss and stop out
    date: int
    barrier: float | None = None

    DISPLAY: ClassVar[dict[str, str]] = {
        "take_profit": "Take profit",
        "stop_loss": "Stop loss",
        "stop_out": "Stop out",
    }

    def payload(self, spec: SymbolSpec, with_value: bool = True) -> dict[str, Any]:
        out: dict[str, Any] = {
            "display_name": self.DISPLAY[self.kind],
            "order_amount": self.amount,
            "order_date": self.date,
        }
        if with_value:
            out["value"] = None if self.barrier is None else spec.fmt(self.barrier)
        return out


class Product:
    """One family of contract types: parsing, pricing and opening contracts."""

    #: contract_type -> contracts_for category of this product.
    contract_types: ClassVar[dict[str, str]] = {}
    #: Open contracts of this product allowed per account and symbol (None: no limit).
    max_open_per_symbol: ClassVar[int | None] = None

    def offered_on(self, spec: SymbolSpec, contract_type: str) -> bool:
        raise NotImplementedError

    def parse(self, params: dict[str, Any], spec: SymbolSpec, ctx: Context) -> Any:
        """Validated terms, or an :class:`ApiError` of the stage that refused them."""
        raise NotImplementedError

    def quote(self, terms: Any, spec: SymbolSpec, spot: tuple[int, float], ctx: Context) -> Quote:
        raise NotImplementedError

    def open(
        self,
        ids: tuple[int, int],
        terms: Any,
        spec: SymbolSpec,
        quote: Quote,
        spot: tuple[int, float],
        now: float,
    ) -> Contract:
        raise NotImplementedError

    def offers(self, spec: SymbolSpec, ctx: Context) -> list[dict[str, Any]]:
        """This product's ``contracts_for.available`` entries on ``spec``."""
        raise NotImplementedError


class Contract:
    """One bought contract. ``status`` is ``open``, ``won``, ``lost``, ``sold``, ``cancelled``
    or ``None`` (a non-binary contract closed by the server, as Deriv reports it)."""

    #: Entry tick is the tick at the purchase (turbos, vanillas) rather than the next one.
    entry_at_purchase: ClassVar[bool] = False
    barrier_count: int = 0
    path_dependent: bool = False

    def __init__(
        self,
        ids: tuple[int, int],
        terms: Any,
        spec: SymbolSpec,
        quote: Quote,
        spot: tuple[int, float],
        now: float,
        shortcode: str,
    ) -> None:
        self.contract_id, self.transaction_id = ids
        self.terms = terms
        self.contract_type: str = terms.contract_type
        self.spec = spec
        self.buy_price = quote.ask_price
        self.payout = quote.payout
        self.purchase_time = now
        self.date_start = int(now)
        self.longcode = quote.longcode
        self.shortcode = shortcode
        self.date_expiry = quote.date_expiry or 0
        self.current: tuple[int, float] = spot
        self.entry: tuple[int, float] | None = spot if self.entry_at_purchase else None
        self.exit: tuple[int, float] | None = None
        self.ticks: list[tuple[int, float]] = [spot] if self.entry_at_purchase else []
        self.status: str | None = "open"
        self.closed = False
        self.sell_price: float | None = None
        self.sell_time: int | None = None
        self.sell_transaction_id: int | None = None
        self.expired = False

    # -- state ---------------------------------------------------------------------------------
    @property
    def is_sold(self) -> bool:
        return self.closed

    @property
    def fee(self) -> float:
        """Part of the buy price that is not at risk (the deal-cancellation fee)."""
        return 0.0

    @property
    def barrier_text(self) -> str | None:
        """The barrier as the transaction stream shows it."""
        return None

    def on_tick(self, epoch: int, quote: float) -> bool:
        """Feed one tick of the underlying; True when the contract has just closed."""
        if self.closed:
            return False
        if not self.entry_at_purchase and epoch <= self.purchase_time:
            return False
        if self.entry_at_purchase and epoch <= self.ticks[-1][0]:
            return False
        self.current = (epoch, quote)
        self.ticks.append((epoch, quote))
        if self.entry is None:
            self.entry = (epoch, quote)
            return self.on_entry(epoch, quote)
        return self.on_next(epoch, quote)

    def on_entry(self, epoch: int, quote: float) -> bool:
        return False

    def on_next(self, epoch: int, quote: float) -> bool:
        raise NotImplementedError

    def close(self, status: str | None, price: float, exit_tick: tuple[int, float]) -> bool:
        """Close by the server (expiry, knock-out, an order); returns True."""
        self.closed = True
        self.expired = True
        self.status = status
        self.sell_price = round(max(0.0, price), 2)
        self.exit = exit_tick
        self.sell_time = exit_tick[0]
        return True

    def mark_sold(self, price: float, epoch: int, status: str = "sold") -> None:
        """Close at the client's request (sell or cancel)."""
        self.closed = True
        self.status = status
        self.sell_price = round(price, 2)
        self.sell_time = epoch
        self.exit = self.current

    # -- valuation -----------------------------------------------------------------------------
    def bid_price(self, now: float) -> float:
        raise NotImplementedError

    def sell_error(self, now: float) -> str | None:
        """Why the contract cannot be sold now, or None."""
        if self.closed:
            return "This contract has been sold."
        if self.entry is None:
            return WAITING_FOR_ENTRY
        if int(now) <= self.date_start:
            return SAME_SECOND
        return None

    def profit(self, now: float) -> float:
        value = self.sell_price if self.closed else self.bid_price(now)
        return round(float(value or 0.0) - (self.buy_price - self.fee), 2)

    # -- client actions beyond sell ------------------------------------------------------------
    def update(self, orders: dict[str, Any], now: float) -> dict[str, Any]:
        raise ApiError("UpdateNotAllowed", NOT_UPDATABLE)

    def update_history(self) -> list[dict[str, Any]]:
        return []

    def cancel(self, now: float) -> float:
        raise ApiError("CancelFailed", "Deal cancellation is not available for this contract.")

    # -- reports -------------------------------------------------------------------------------
    def extras(self, now: float) -> dict[str, Any]:
        """Product-specific ``proposal_open_contract`` fields."""
        return {}

    def profit_table_extras(self) -> dict[str, Any]:
        return {}

    def transaction_extras(self) -> dict[str, Any]:
        """Product fields of the ``transaction`` stream (multipliers: their order levels)."""
        return {}

    def duration_type(self) -> str:
        return "ticks"

    def tick_stream(self) -> list[tuple[int, float]] | None:
        return None

    def poc(self, currency: str, now: float) -> dict[str, Any]:
        """The ``proposal_open_contract`` payload."""
        spec = self.spec
        bid = float(self.sell_price or 0.0) if self.closed else self.bid_price(now)
        base = self.buy_price - self.fee
        profit = round(bid - base, 2)
        reason = None if self.closed else self.sell_error(now)
        out: dict[str, Any] = {
            "contract_id": self.contract_id,
            "contract_type": self.contract_type,
            "underlying": spec.symbol,
            "display_name": spec.display_name,
            "currency": currency,
            "buy_price": self.buy_price,
            "bid_price": round(bid, 2),
            "payout": self.payout,
            "profit": profit,
            "profit_percentage": round(100 * profit / base, 2) if base else 0.0,
            "status": self.status,
            "is_sold": int(self.closed),
            "is_expired": int(self.expired),
            "is_settleable": int(self.expired),
            "is_valid_to_sell": int(reason is None and not self.closed),
            "is_valid_to_cancel": 0,
            "is_forward_starting": 0,
            "is_path_dependent": int(self.path_dependent),
            "is_intraday": int(self.date_expiry - self.date_start <= SECONDS_PER_DAY),
            "barrier_count": self.barrier_count,
            "date_start": self.date_start,
            "purchase_time": self.date_start,
            "date_expiry": self.date_expiry,
            "expiry_time": self.date_expiry,
            "current_spot": self.current[1],
            "current_spot_display_value": spec.fmt(self.current[1]),
            "current_spot_time": self.current[0],
            "longcode": self.longcode,
            "shortcode": self.shortcode,
            "transaction_ids": {"buy": self.transaction_id},
        }
        stream = self.tick_stream()
        if stream is not None:
            out["tick_stream"] = [
                {"epoch": e, "tick": q, "tick_display_value": spec.fmt(q)} for e, q in stream
            ]
        if self.entry is not None:
            out["entry_tick"] = out["entry_spot"] = self.entry[1]
            out["entry_tick_time"] = self.entry[0]
            out["entry_tick_display_value"] = out["entry_spot_display_value"] = spec.fmt(
                self.entry[1]
            )
        if reason is not None:
            out["validation_error"] = reason
            out["validation_error_code"] = "General"
        out.update(self.extras(now))
        if self.closed:
            out["sell_price"] = self.sell_price
            out["sell_time"] = self.sell_time
            out["date_settlement"] = self.sell_time
            out["transaction_ids"]["sell"] = self.sell_transaction_id
            if self.exit is not None:
                out["exit_tick"] = self.exit[1]
                out["exit_tick_time"] = self.exit[0]
                out["exit_tick_display_value"] = spec.fmt(self.exit[1])
                out["sell_spot"] = self.exit[1]
                out["sell_spot_time"] = self.exit[0]
                out["sell_spot_display_value"] = spec.fmt(self.exit[1])
        return out
