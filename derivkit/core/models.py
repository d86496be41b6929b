"""Typed views of API replies: small frozen dataclasses that hold the types they declare.

Every model keeps the payload it was built from in ``raw`` (not shown in ``repr``), so a field the
model does not name is still reachable, and unknown fields are never an error. Building a model
checks each field it names against its declared type:

* ``float`` fields take numbers and numeric strings (the API sends ``ohlc`` prices, limit orders
  and, on the new API, ``ask_price``/``payout`` as strings); ``""`` or null is None where the
  field is optional;
* ``int`` fields take integers (and integral floats); ``str`` fields take strings (numbers are
  written out: barriers come either way); lists and dicts must be lists and dicts;
* a field missing or null takes its default, unless the model requires it (a tick's ``epoch``
  and ``quote``, a candle's prices, a proposal's ``id``).

Anything else (a string epoch, a garbage price, a tick without a quote) raises ``TypeError`` or
``ValueError``, which :mod:`derivkit.core.shapes` turns into a ``ProtocolError``: never a silently
wrong value. The new API's names are read as well as the legacy ones (``underlying_symbol`` for
``symbol``, ``pip_size`` for ``pip``, see each model's ``_aliases``).

Speed: a payload whose every field already has its declared type (the usual case) is converted
by ``msgspec.convert(..., strict=True)``, in C; anything else (numbers as strings, the new API's
names, nulls) goes through the checks above, which accept a superset of what strict msgspec does
and give the same values where both accept. ``strict=False`` msgspec is not used: it would read a
string epoch as a number. See ``benchmarks/bench_models.py``.
"""

from __future__ import annotations

import dataclasses
import math
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import NoneType, UnionType
from typing import Any, ClassVar, Self

import msgspec

__all__ = [
    "AccountInfo",
    "ActiveSymbol",
    "Balance",
    "BuyReceipt",
    "Cancellation",
    "Candle",
    "ContractOffer",
    "ContractSpec",
    "History",
    "OpenContract",
    "Order",
    "PortfolioContract",
    "ProfitTableEntry",
    "Proposal",
    "SellReceipt",
    "StatementEntry",
    "Tick",
    "Transaction",
    "WebsiteStatus",
]


def _float(value: Any) -> float | None:
    """A number the API may send as a string; None for null or ``""``.

    Raises:
        TypeError, ValueError: anything else (a bool, a list, ``"abc"``, a non-finite number).
    """
    if value is None or value == "":
        return None
    kind = type(value)
    if kind is float or kind is int:
        number = float(value)
    elif kind is str:
        number = float(value)  # ValueError for garbage
    else:
        raise TypeError(f"a number was expected, not {kind.__name__}")
    if not math.isfinite(number):
        raise ValueError(f"a finite number was expected, not {value!r}")
    return number


def _floats(value: Any) -> list[float]:
    """A list of numbers the API may send as strings (``payout_choices``); [] when absent."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise TypeError(f"a list was expected, not {type(value).__name__}")
    return [x for x in (_float(v) for v in value) if x is not None]


# -- field converters: value (never None) -> the field's type, or TypeError/ValueError ---------


def _to_float(value: Any) -> float:
    number = _float(value)
    if number is None:
        raise ValueError("a number was expected, not an empty string")
    return number


def _to_int(value: Any) -> int:
    kind = type(value)
    if kind is int or kind is bool:
        return int(value)
    if kind is float and value.is_integer():
        return int(value)
    raise TypeError(f"an integer was expected, not {value!r:.40}")


def _to_str(value: Any) -> str:
    kind = type(value)
    if kind is str:
        return typing.cast(str, value)
    if kind is int or kind is float:  # barriers and ids come as numbers or strings
        return str(value)
    raise TypeError(f"a string was expected, not {kind.__name__}")


def _to_list(value: Any) -> list[Any]:
    if type(value) is not list:
        raise TypeError(f"a list was expected, not {type(value).__name__}")
    return value


def _to_dict(value: Any) -> dict[str, Any]:
    if type(value) is not dict:
        raise TypeError(f"an object was expected, not {type(value).__name__}")
    return typing.cast(dict[str, Any], value)


def _as_is(value: Any) -> Any:
    return value


_CONVERTERS: dict[Any, Callable[[Any], Any]] = {
    float: _to_float,
    int: _to_int,
    str: _to_str,
    list: _to_list,
    dict: _to_dict,
}


def _converter(hint: Any) -> tuple[Callable[[Any], Any], bool]:
    """The converter for a field's type hint, and whether the field may be None."""
    optional = False
    if isinstance(hint, UnionType) or typing.get_origin(hint) is typing.Union:
        members = [arg for arg in typing.get_args(hint) if arg is not NoneType]
        optional = len(members) < len(typing.get_args(hint))
        hint = members[0] if len(members) == 1 else Any
    origin = typing.get_origin(hint) or hint
    return _CONVERTERS.get(origin, _as_is), optional


#: name, converter, may be None, required, the payload keys it is read from.
_Plan = tuple[tuple[str, Callable[[Any], Any], bool, bool, tuple[str, ...]], ...]
_PLANS: dict[type, _Plan] = {}
#: Per model: (required fields, keys that only an alias reads), for the msgspec fast path.
_FAST: dict[type, tuple[tuple[str, ...], tuple[str, ...]]] = {}
_convert = msgspec.convert
_set = object.__setattr__


@dataclass(frozen=True, slots=True)
class _Model:
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False, kw_only=True)

    #: Fields read as numbers even where the API sends strings (all ``float`` fields are).
    _floats: ClassVar[frozenset[str]] = frozenset()
    #: field -> builder from the whole payload (fields named differently or nested).
    _derived: ClassVar[Mapping[str, Callable[[Mapping[str, Any]], Any]]] = {}
    #: field -> payload keys it is read from, first present wins (the new API's names).
    _aliases: ClassVar[Mapping[str, tuple[str, ...]]] = {}
    #: Fields a payload must carry (not null): without them the model would be wrong.
    _required: ClassVar[frozenset[str]] = frozenset()

    @classmethod
    def _plan(cls) -> _Plan:
        plan = _PLANS.get(cls)
        if plan is None:
            hints = typing.get_type_hints(cls)
            entries = []
            for item in dataclasses.fields(cls):
                if item.name == "raw" or item.name in cls._derived:
                    continue
                convert, optional = _converter(hints[item.name])
                if item.name in cls._floats or convert is _to_float:
                    convert = _float if optional else _to_float
                keys = cls._aliases.get(item.name, (item.name,))
                entries.append((item.name, convert, optional, item.name in cls._required, keys))
            plan = _PLANS[cls] = tuple(entries)
        return plan

    @classmethod
    def _fast_plan(cls) -> tuple[tuple[str, ...], tuple[str, ...]]:
        fast = _FAST.get(cls)
        if fast is None:
            aliased = {k for name, keys in cls._aliases.items() for k in keys if k != name}
            fast = _FAST[cls] = (tuple(cls._required), tuple(sorted(aliased)))
        return fast

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Build from a reply payload; unknown keys stay in ``raw``, missing ones take defaults.

        Raises:
            TypeError, ValueError: a field of the wrong type, or a required one missing.
        """
        if type(data) is dict:
            required, aliased = _FAST.get(cls) or cls._fast_plan()
            if all(data.get(k) is not None for k in required) and not any(
                k in data for k in aliased
            ):
                try:
                    model = _convert(data, cls, strict=True)
                except (msgspec.ValidationError, TypeError):
                    pass  # not every field has its declared type: the checks below decide
                else:
                    _set(model, "raw", dict(data))
                    for name, derive in cls._derived.items():
                        try:
                            _set(model, name, derive(data))
                        except (TypeError, ValueError) as exc:
                            raise type(exc)(f"{cls.__name__}.{name}: {exc}") from None
                    return model
        return cls._checked(data)

    @classmethod
    def _checked(cls, data: Mapping[str, Any]) -> Self:
        if not isinstance(data, Mapping):
            raise TypeError(f"{cls.__name__} needs an object, got {type(data).__name__}")
        values: dict[str, Any] = {}
        for name, convert, _optional, required, keys in cls._plan():
            value = None
            for key in keys:
                value = data.get(key)
                if value is not None:
                    break
            if value is None:
                if required:
                    raise ValueError(f"{cls.__name__}.{name} is missing")
                continue
            try:
                values[name] = convert(value)
            except (TypeError, ValueError) as exc:
                raise type(exc)(f"{cls.__name__}.{name}: {exc}") from None
        for name, derive in cls._derived.items():
            try:
                values[name] = derive(data)
            except (TypeError, ValueError) as exc:
                raise type(exc)(f"{cls.__name__}.{name}: {exc}") from None
        return cls(**values, raw=dict(data))


@dataclass(frozen=True, slots=True)
class AccountInfo(_Model):
    """The reply to ``authorize``: which account this connection now acts for."""

    loginid: str = ""
    currency: str = ""
    balance: float = 0.0
    is_virtual: int = 0
    fullname: str = ""
    email: str = ""
    landing_company_name: str = ""
    scopes: list[str] = field(default_factory=list)
    account_list: list[dict[str, Any]] = field(default_factory=list)

    _floats = frozenset({"balance"})


@dataclass(frozen=True, slots=True)
class Balance(_Model):
    balance: float = 0.0
    currency: str = ""
    loginid: str = ""
    id: str | None = None

    _floats = frozenset({"balance"})


@dataclass(frozen=True, slots=True)
class Tick(_Model):
    symbol: str = ""
    epoch: int = 0
    quote: float = 0.0
    pip_size: int | None = None
    ask: float | None = None
    bid: float | None = None
    id: str | None = None

    _floats = frozenset({"quote", "ask", "bid"})
    _required = frozenset({"epoch", "quote"})
    _aliases = {"symbol": ("symbol", "underlying_symbol")}


@dataclass(frozen=True, slots=True)
class Candle(_Model):
    """One OHLC candle. ``epoch`` is the candle's start (``open_time`` in ``ohlc`` updates);
    ``pip_size`` the decimals its prices are quoted with, when the reply said."""

    epoch: int = 0
    open: float = 0.0
    high: float = 0.0
    low: float = 0.0
    close: float = 0.0
    pip_size: int | None = None

    _floats = frozenset({"open", "high", "low", "close"})
    _required = frozenset({"epoch", "open", "high", "low", "close"})

    @classmethod
    def from_ohlc(cls, data: Mapping[str, Any]) -> Candle:
        """An ``ohlc`` stream update (string prices, ``open_time``) as a candle."""
        start = data.get("open_time", data.get("epoch", 0))
        return cls.from_dict({**data, "epoch": start})


@dataclass(frozen=True, slots=True)
class History(_Model):
    """``ticks_history`` in ticks style: parallel lists of epochs and prices."""

    prices: list[float] = field(default_factory=list)
    times: list[int] = field(default_factory=list)
    pip_size: int | None = None

    _derived = {
        "prices": lambda d: [_to_float(x) for x in _to_list(d.get("prices", []))],
        "times": lambda d: [_to_int(x) for x in _to_list(d.get("times", []))],
    }


@dataclass(frozen=True, slots=True)
class ActiveSymbol(_Model):
    symbol: str = ""
    display_name: str = ""
    market: str = ""
    market_display_name: str = ""
    submarket: str = ""
    submarket_display_name: str = ""
    pip: float | None = 0.01
    exchange_is_open: int = 1
    is_trading_suspended: int = 0
    spot: float | None = None

    _floats = frozenset({"spot"})
    _aliases = {
        "symbol": ("symbol", "underlying_symbol"),
        "display_name": ("display_name", "underlying_symbol_name"),
    }
    _derived = {"pip": lambda d: _pip(d)}

    @property
    def pip_size(self) -> int | None:
        """Decimals a quote of this symbol is shown with (``pip`` 0.001 -> 3); None if unknown."""
        if not self.pip:
            return None
        text = f"{self.pip:.10f}".rstrip("0")
        return len(text.split(".")[1]) if "." in text else 0


def _pip(data: Mapping[str, Any]) -> float | None:
    """The pip of a symbol: legacy ``pip`` (0.001), else the new API's ``pip_size``, read as
    decimals when it is a whole number (3) and as the pip itself otherwise (0.001)."""
    if data.get("pip") is not None:
        return _float(data["pip"])
    size = _float(data.get("pip_size"))
    if size is None:
        return 0.01
    if size >= 1 or size == 0:
        if not size.is_integer() or size > 20:
            raise ValueError(f"ActiveSymbol.pip_size: {size!r} is neither decimals nor a pip")
        return 10.0 ** -int(size)
    return size


@dataclass(frozen=True, slots=True)
class ContractOffer(_Model):
    """One entry of ``contracts_for.available``."""

    contract_type: str = ""
    contract_category: str = ""
    contract_display: str = ""
    barrier_category: str = ""
    barriers: int = 0
    expiry_type: str = ""
    min_contract_duration: str = ""
    max_contract_duration: str = ""
    sentiment: str = ""
    underlying_symbol: str = ""
    contract_category_display: str = ""
    barrier: str | None = None
    high_barrier: str | None = None
    low_barrier: str | None = None
    last_digit_range: list[int] = field(default_factory=list)
    multiplier_range: list[float] = field(default_factory=list)
    cancellation_range: list[str] = field(default_factory=list)
    growth_rate_range: list[float] = field(default_factory=list)
    barrier_choices: list[str] = field(default_factory=list)
    payout_choices: list[float] = field(default_factory=list)
    min_stake: float | None = None
    max_stake: float | None = None

    _floats = frozenset({"min_stake", "max_stake"})
    _derived = {"payout_choices": lambda d: _floats(d.get("payout_choices"))}

    @property
    def no_expiry(self) -> bool:
        """Multipliers and accumulators: no duration (``min/max_contract_duration`` are "0")."""
        return self.expiry_type == "no_expiry"


@dataclass(frozen=True, slots=True)
class Order:
    """One limit order of a contract (take profit, stop loss, stop out): its signed amount in
    the account currency and, for multipliers, the spot ``value`` it sits at. Numbers may arrive
    as strings (``"-100.00"``); both are read."""

    display_name: str = ""
    amount: float | None = None
    date: int | None = None
    value: float | None = None
    #: ``value`` as the server wrote it, at the symbol's pip size ("1289.70"); "" when absent.
    level: str = ""

    @classmethod
    def from_payload(cls, data: Any) -> Order | None:
        """The order in ``data``; None when it is absent or empty (an unset order is ``{}``)."""
        if not isinstance(data, Mapping) or not data:
            return None
        date = _float(data.get("order_date"))
        value = _float(data.get("value"))
        return cls(
            display_name=str(data.get("display_name") or ""),
            amount=_float(data.get("order_amount")),
            date=None if date is None else int(date),
            value=value,
            level="" if value is None else level_text(data.get("value")),
        )


def level_text(raw: Any) -> str:
    """A price level as sent: a string kept as it is, a number at up to 10 digits."""
    if isinstance(raw, str):
        return raw
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        return f"{raw:.10g}"
    return ""


def _order(kind: str) -> Callable[[Mapping[str, Any]], Order | None]:
    def build(data: Mapping[str, Any]) -> Order | None:
        orders = data.get("limit_order")
        return Order.from_payload(orders.get(kind)) if isinstance(orders, Mapping) else None

    return build


@dataclass(frozen=True, slots=True)
class Cancellation:
    """Deal cancellation of a multiplier: its fee and when the window closes."""

    ask_price: float | None = None
    date_expiry: int | None = None

    @classmethod
    def from_payload(cls, data: Any) -> Cancellation | None:
        if not isinstance(data, Mapping) or not data:
            return None
        expiry = _float(data.get("date_expiry"))
        return cls(_float(data.get("ask_price")), None if expiry is None else int(expiry))


@dataclass(frozen=True, slots=True)
class ContractSpec:
    """What to trade: the parameters shared by ``proposal`` and ``buy``."""

    contract_type: str
    symbol: str
    amount: float
    duration: int
    duration_unit: str = "t"
    basis: str = "stake"
    currency: str = "USD"
    barrier: str | None = None
    barrier2: str | None = None
    selected_tick: int | None = None

    def parameters(self) -> dict[str, Any]:
        """The spec as API parameters (``None`` fields left out)."""
        params = {
            "contract_type": self.contract_type,
            "symbol": self.symbol,
            "amount": self.amount,
            "basis": self.basis,
            "currency": self.currency,
            "duration": self.duration,
            "duration_unit": self.duration_unit,
        }
        if self.barrier is not None:
            params["barrier"] = self.barrier
        if self.barrier2 is not None:
            params["barrier2"] = self.barrier2
        if self.selected_tick is not None:
            params["selected_tick"] = self.selected_tick
        return params


@dataclass(frozen=True, slots=True)
class Proposal(_Model):
    id: str = ""
    ask_price: float = 0.0
    payout: float = 0.0
    spot: float | None = None
    spot_time: int | None = None
    date_start: int | None = None
    date_expiry: int | None = None
    display_value: str = ""
    longcode: str = ""
    contract_details: dict[str, Any] = field(default_factory=dict)
    commission: float | None = None
    multiplier: float | None = None
    stop_out: Order | None = None
    take_profit: Order | None = None
    stop_loss: Order | None = None
    cancellation: Cancellation | None = None
    number_of_contracts: float | None = None
    barrier_choices: list[str] = field(default_factory=list)
    payout_choices: list[float] = field(default_factory=list)
    min_stake: float | None = None
    max_stake: float | None = None

    _floats = frozenset(
        {"ask_price", "payout", "spot", "commission", "multiplier", "min_stake", "max_stake"}
    )
    _required = frozenset({"id"})
    _derived = {
        "stop_out": _order("stop_out"),
        "take_profit": _order("take_profit"),
        "stop_loss": _order("stop_loss"),
        "cancellation": lambda d: Cancellation.from_payload(d.get("cancellation")),
        "number_of_contracts": lambda d: _float(d.get("display_number_of_contracts")),
        "payout_choices": lambda d: _floats(d.get("payout_choices")),
    }

    @property
    def barrier(self) -> float | None:
        """The absolute barrier (or strike) the contract would have, when it has one."""
        return _float(self.contract_details.get("barrier"))


@dataclass(frozen=True, slots=True)
class BuyReceipt(_Model):
    contract_id: int = 0
    transaction_id: int = 0
    buy_price: float = 0.0
    payout: float = 0.0
    balance_after: float = 0.0
    purchase_time: int = 0
    start_time: int = 0
    shortcode: str = ""
    longcode: str = ""

    _floats = frozenset({"buy_price", "payout", "balance_after"})


@dataclass(frozen=True, slots=True)
class SellReceipt(_Model):
    contract_id: int = 0
    sold_for: float = 0.0
    balance_after: float = 0.0
    transaction_id: int = 0
    reference_id: int = 0

    _floats = frozenset({"sold_for", "balance_after"})


@dataclass(frozen=True, slots=True)
class PortfolioContract(_Model):
    contract_id: int = 0
    transaction_id: int = 0
    contract_type: str = ""
    symbol: str = ""
    currency: str = ""
    buy_price: float = 0.0
    payout: float = 0.0
    purchase_time: int = 0
    date_start: int = 0
    expiry_time: int = 0
    shortcode: str = ""
    longcode: str = ""

    _floats = frozenset({"buy_price", "payout"})
    _aliases = {"symbol": ("symbol", "underlying_symbol")}


@dataclass(frozen=True, slots=True)
class OpenContract(_Model):
    """One ``proposal_open_contract`` message: a contract's live state."""

    contract_id: int = 0
    contract_type: str = ""
    underlying: str = ""
    currency: str = ""
    #: ``open``, ``sold``, ``won``, ``lost``, ``cancelled``, or None: a non-binary contract that
    #: the server closed (see :attr:`outcome`).
    status: str | None = None
    buy_price: float = 0.0
    bid_price: float | None = None
    payout: float = 0.0
    profit: float = 0.0
    profit_percentage: float | None = None
    is_sold: int = 0
    is_expired: int = 0
    is_valid_to_sell: int = 0
    entry_tick: float | None = None
    exit_tick: float | None = None
    current_spot: float | None = None
    current_spot_time: int | None = None
    barrier: str | None = None
    date_start: int | None = None
    date_expiry: int | None = None
    sell_price: float | None = None
    sell_time: int | None = None
    longcode: str = ""
    shortcode: str = ""
    entry_tick_time: int | None = None
    exit_tick_time: int | None = None
    tick_count: int | None = None
    is_valid_to_cancel: int = 0
    validation_error: str | None = None

    _floats = frozenset(
        {
            "buy_price",
            "bid_price",
            "payout",
            "profit",
            "profit_percentage",
            "entry_tick",
            "exit_tick",
            "current_spot",
            "sell_price",
        }
    )
    _aliases = {"underlying": ("underlying", "underlying_symbol")}

    @property
    def outcome(self) -> str:
        """``open``, ``won``, ``lost``, ``sold`` or ``cancelled``; for a contract the server
        closed without a status (multipliers, vanillas), won or lost by the sign of its profit,
        as Deriv's own apps show it."""
        if self.status:
            return self.status
        if not self.is_sold:
            return "open"
        return "won" if self.profit > 0 else "lost"


@dataclass(frozen=True, slots=True)
class Transaction(_Model):
    """One message of the ``transaction`` stream."""

    action: str = ""
    amount: float = 0.0
    balance: float = 0.0
    contract_id: int | None = None
    currency: str = ""
    symbol: str = ""
    transaction_id: int = 0
    transaction_time: int = 0
    longcode: str = ""

    _floats = frozenset({"amount", "balance"})
    _aliases = {"symbol": ("symbol", "underlying_symbol")}


@dataclass(frozen=True, slots=True)
class StatementEntry(_Model):
    transaction_id: int = 0
    transaction_time: int = 0
    action_type: str = ""
    amount: float = 0.0
    balance_after: float = 0.0
    contract_id: int | None = None
    reference_id: int | None = None
    payout: float | None = None
    shortcode: str = ""
    longcode: str = ""

    _floats = frozenset({"amount", "balance_after", "payout"})


@dataclass(frozen=True, slots=True)
class ProfitTableEntry(_Model):
    contract_id: int = 0
    transaction_id: int = 0
    buy_price: float = 0.0
    sell_price: float = 0.0
    payout: float = 0.0
    purchase_time: int = 0
    sell_time: int = 0
    shortcode: str = ""
    longcode: str = ""
    contract_type: str = ""
    underlying_symbol: str = ""

    _floats = frozenset({"buy_price", "sell_price", "payout"})
    _aliases = {"underlying_symbol": ("underlying_symbol", "symbol")}

    @property
    def profit(self) -> float:
        return round(self.sell_price - self.buy_price, 2)


@dataclass(frozen=True, slots=True)
class WebsiteStatus(_Model):
    site_status: str = ""
    message: str = ""
    api_call_limits: dict[str, Any] = field(default_factory=dict)
    currencies_config: dict[str, Any] = field(default_factory=dict)
    supported_languages: list[str] = field(default_factory=list)

    def currency_decimals(self, currency: str, default: int = 2) -> int:
        config = self.currencies_config.get(currency) or {}
        digits = config.get("fractional_digits")
        return digits if isinstance(digits, int) else default
