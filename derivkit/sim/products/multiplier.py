"""Multipliers (``MULTUP``, ``MULTDOWN``): a leveraged bet on direction with no expiry, closed by
the client (sell, cancel) or by the server at the stop out, take profit or stop loss (products
doc §2).

PnL(S) = stake x multiplier x direction x (S - S0) / S0 - commission, where S0 is the entry
spot (the first tick after purchase) and the commission is ``c x stake x multiplier`` (c is
2 one-tick standard deviations on the volatility indices), at least 0.02. An order of amount X
sits at the spot where PnL = X; the first tick that reaches any order closes the contract, take
profit first. Deal cancellation (volatility indices) costs a fee on top of the stake and, while
active, lets the client cancel for the stake back; a stop out while it is active cancels too.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from statistics import NormalDist
from typing import Any

from derivkit.sim.errors import ApiError
from derivkit.sim.models import SECONDS_PER_YEAR
from derivkit.sim.products.base import (
    MIN_ORDER_AMOUNT,
    NOT_OFFERED_ASSET,
    Context,
    Contract,
    Order,
    Product,
    Quote,
    creation,
    decimals,
    end_of_day,
    invalid,
    limit_amount,
    money,
    offerings,
    reject_fields,
    round_to_pip,
)
from derivkit.sim.symbols import MULTIPLIER, SymbolSpec

MIN_STAKE = 1.0
MAX_STAKE = 2000.0
MIN_COMMISSION = 0.02
CANCELLATION_COMMISSION = 0.05
MIN_CANCELLATION_FEE = 0.01
CANCELLATION_DURATIONS = ("5m", "10m", "15m", "30m", "60m")
#: Multiplier ranges of the volatility indices by annual volatility (products doc §2).
VOLATILITY_RANGES = {
    0.10: (100, 200, 300, 500, 1000),
    0.25: (50, 100, 150, 250, 500),
    0.50: (20, 40, 60, 100, 200),
    0.75: (15, 30, 50, 75, 150),
    1.00: (10, 20, 30, 50, 100),
}
_N = NormalDist()
_CANCELLATION = re.compile(r"^(\d+)([smh])$")
_UNIT = {"s": 1, "m": 60, "h": 3600}
DEAL_CANCELLATION_ACTIVE = (
    "The spot price has moved. We have not closed this contract because your profit is negative "
    "and deal cancellation is active. Cancel your contract to get your full stake back."
)


@dataclass(frozen=True)
class Config:
    multipliers: tuple[int, ...]
    commission: float
    stop_out_levels: tuple[int, ...]
    cancellation: tuple[str, ...]

    def stop_out_level(self, multiplier: float) -> int:
        return self.stop_out_levels[self.multipliers.index(int(multiplier))]


def config(spec: SymbolSpec) -> Config:
    """The default multiplier configuration of ``spec`` (landing company ``common``)."""
    sigma = spec.sigma
    if spec.is_volatility:
        commission = 2 * sigma * math.sqrt(spec.interval / SECONDS_PER_YEAR)
        return Config(VOLATILITY_RANGES[sigma], commission, (0,) * 5, CANCELLATION_DURATIONS)
    if spec.submarket == "crash_index":
        return Config((100, 200, 300, 400), 2.5e-4, (10, 20, 30, 50), ())
    if spec.submarket == "jump_index":
        return Config(VOLATILITY_RANGES[sigma], 2.36e-4 * sigma, (10, 20, 30, 40, 50), ())
    return Config((500, 1000, 2000, 3000, 4000), 1e-5, (0,) * 5, ())


def cancellation_seconds(raw: str) -> int | None:
    match = _CANCELLATION.match(raw)
    if not match:
        return None
    return int(match.group(1)) * _UNIT[match.group(2)]


def bs_call(spot: float, strike: float, years: float, sigma: float) -> float:
    """Black-Scholes call with zero rates."""
    if years <= 0 or sigma <= 0:
        return max(0.0, spot - strike)
    sd = sigma * math.sqrt(years)
    d1 = (math.log(spot / strike) + sd * sd / 2) / sd
    return spot * _N.cdf(d1) - strike * _N.cdf(d1 - sd)


def cancellation_fee(
    stake: float, multiplier: float, c: float, seconds: int, sigma: float
) -> float:
    """Deal-cancellation fee (modelling assumption, products doc §2): 1.05 x stake x multiplier x
    a one-unit call struck at 1 + c over the window."""
    value = bs_call(1.0, 1.0 + c, seconds / SECONDS_PER_YEAR, sigma)
    return round(
        max(MIN_CANCELLATION_FEE, (1 + CANCELLATION_COMMISSION) * stake * multiplier * value), 2
    )


@dataclass(frozen=True)
class MultiplierTerms:
    contract_type: str
    symbol: str
    amount: float
    currency: str
    multiplier: float
    take_profit: float | None
    stop_loss: float | None
    cancellation: str | None
    cancellation_seconds: int | None

    @property
    def direction(self) -> int:
        return 1 if self.contract_type == "MULTUP" else -1


def _check_take_profit(tp: float, stake: float, multiplier: float, floor: float) -> None:
    if decimals(tp) > 2:
        raise invalid("Only 2 decimal places allowed.", field="take_profit")
    if tp < MIN_ORDER_AMOUNT or tp <= floor:
        shown = max(MIN_ORDER_AMOUNT, floor)
        raise invalid(
            f"Please enter a take profit amount that's higher than {money(shown)}.",
            field="take_profit",
        )
    cap = round(stake * min(0.9 * multiplier, 50), 2)
    if tp > cap:
        raise invalid(
            f"Please enter a take profit amount that's lower than {money(cap)}.",
            field="take_profit",
        )


def _check_stop_loss(sl: float, cap: float, floor: float) -> None:
    if decimals(sl) > 2:
        raise invalid("Only 2 decimal places allowed.", field="stop_loss")
    if sl < MIN_ORDER_AMOUNT or sl <= floor:
        shown = max(MIN_ORDER_AMOUNT, floor)
        raise invalid(
            f"Please enter a stop loss amount that's higher than {money(shown)}.", field="stop_loss"
        )
    if sl > cap:
        raise invalid(
            f"Invalid stop loss. Stop loss cannot be more than {money(cap)}.", field="stop_loss"
        )


class MultiplierProduct(Product):
    contract_types = {"MULTUP": MULTIPLIER, "MULTDOWN": MULTIPLIER}

    def offered_on(self, spec: SymbolSpec, contract_type: str) -> bool:
        return MULTIPLIER in spec.categories

    def parse(self, params: dict[str, Any], spec: SymbolSpec, ctx: Context) -> MultiplierTerms:
        ct = params["contract_type"]
        if not self.offered_on(spec, ct):
            raise offerings(NOT_OFFERED_ASSET, "symbol")
        if params.get("basis", "stake") != "stake":
            raise creation("Basis must be stake for this contract.", "basis")
        if "duration" in params or "date_expiry" in params:
            raise creation(
                f"Invalid input (duration or date_expiry) for this contract type ({ct}).",
                "duration",
            )
        if "barrier" in params or "barrier2" in params:
            raise creation("Barrier is not allowed for this contract type.", "barrier")
        reject_fields(
            params, ct, ("growth_rate", "payout_per_point", "selected_tick", "barrier_range")
        )
        if "multiplier" not in params:
            raise creation("Missing required contract parameters (multiplier).", "multiplier")
        if "amount" not in params:
            raise creation("Missing required contract parameters (amount).", "amount")
        stake = float(params["amount"])
        multiplier = float(params["multiplier"])
        if decimals(stake) > 2:
            raise invalid("Stake can not have more than 2 decimal places.", field="amount")
        if stake < MIN_STAKE:
            raise creation(
                f"Please enter a stake amount that's at least {money(MIN_STAKE)}.", "amount"
            )
        if stake > MAX_STAKE:
            raise invalid(f"Maximum stake allowed is {money(MAX_STAKE)}.", field="amount")
        cfg = config(spec)
        if multiplier not in cfg.multipliers:
            accepts = ",".join(str(m) for m in cfg.multipliers)
            raise invalid(
                f"Multiplier is not in acceptable range. Accepts {accepts}.", field="multiplier"
            )
        tp = limit_amount(params, "take_profit")
        sl = limit_amount(params, "stop_loss")
        raw_cancel = params.get("cancellation")
        seconds = None
        if raw_cancel is not None:
            seconds = cancellation_seconds(raw_cancel)
            if not cfg.cancellation:
                raise invalid(
                    "Deal cancellation is not available for this asset.", field="cancellation"
                )
            offered = {cancellation_seconds(d) for d in cfg.cancellation}
            if seconds is None or seconds not in offered:
                raise invalid(
                    "Deal cancellation is not offered at this duration.", field="cancellation"
                )
            if tp is not None:
                raise invalid(
                    "You may use either take profit or deal cancellation, but not both. Please "
                    "select either one.",
                    field="take_profit",
                )
            if sl is not None:
                raise invalid(
                    "You may use either stop loss or deal cancellation, but not both. Please "
                    "select either one.",
                    field="stop_loss",
                )
        commission = commission_amount(stake, multiplier, cfg.commission)
        if tp is not None:
            _check_take_profit(tp, stake, multiplier, 0.0)
        if sl is not None:
            if decimals(sl) <= 2 and MIN_ORDER_AMOUNT <= sl <= commission:
                raise invalid(
                    "Invalid stop loss. Stop loss must be higher than commission "
                    f"({money(commission)}).",
                    field="stop_loss",
                )
            level = cfg.stop_out_level(multiplier)
            _check_stop_loss(sl, round(stake * (1 - level / 100), 2), 0.0)
        return MultiplierTerms(
            ct, spec.symbol, stake, params["currency"], multiplier, tp, sl, raw_cancel, seconds
        )

    def quote(
        self, terms: MultiplierTerms, spec: SymbolSpec, spot: tuple[int, float], ctx: Context
    ) -> Quote:
        cfg = config(spec)
        now = int(ctx.now)
        book = OrderBook(terms, spec, cfg)
        book.place_initial(now)
        book.set_entry(spot[1])
        fields: dict[str, Any] = {
            "commission": book.commission,
            "multiplier": terms.multiplier,
            "limit_order": book.payload(),
            "contract_details": {
                "minimum_stake": money(MIN_STAKE),
                "maximum_stake": money(MAX_STAKE),
            },
        }
        fee = book.fee
        if terms.cancellation_seconds is not None:
            fields["cancellation"] = {
                "ask_price": fee,
                "date_expiry": now + terms.cancellation_seconds,
            }
        return Quote(
            ask_price=round(terms.amount + fee, 2),
            payout=0.0,
            longcode=longcode(terms, spec),
            date_expiry=end_of_day(now, 36_500),
            fields=fields,
        )

    def open(
        self,
        ids: tuple[int, int],
        terms: MultiplierTerms,
        spec: SymbolSpec,
        quote: Quote,
        spot: tuple[int, float],
        now: float,
    ) -> MultiplierContract:
        fee = round(quote.ask_price - terms.amount, 2)
        cancel = terms.cancellation or "0"
        code = (
            f"{terms.contract_type}_{spec.symbol.upper()}_{terms.amount:.2f}_"
            f"{terms.multiplier:g}_{int(now)}_{quote.date_expiry}_{cancel}_{fee:.2f}_N1"
        )
        return MultiplierContract(ids, terms, spec, quote, spot, now, code)

    def offers(self, spec: SymbolSpec, ctx: Context) -> list[dict[str, Any]]:
        if MULTIPLIER not in spec.categories:
            return []
        cfg = config(spec)
        out = []
        for ct, display, sentiment in (
            ("MULTUP", "Multiply Up", "up"),
            ("MULTDOWN", "Multiply Down", "down"),
        ):
            out.append(
                {
                    "contract_type": ct,
                    "contract_category": MULTIPLIER,
                    "contract_category_display": "Multiply Up/Multiply Down",
                    "contract_display": display,
                    "barrier_category": "american",
                    "barriers": 0,
                    "expiry_type": "no_expiry",
                    "start_type": "spot",
                    "min_contract_duration": "0",
                    "max_contract_duration": "0",
                    "sentiment": sentiment,
                    "market": spec.market,
                    "submarket": spec.submarket,
                    "underlying_symbol": spec.symbol,
                    "exchange_name": "RANDOM",
                    "multiplier_range": list(cfg.multipliers),
                    "cancellation_range": list(cfg.cancellation),
                }
            )
        return out


def commission_amount(stake: float, multiplier: float, c: float) -> float:
    return max(MIN_COMMISSION, round(c * stake * multiplier, 2))


def longcode(terms: MultiplierTerms, spec: SymbolSpec) -> str:
    word, move = ("Up", "increase") if terms.direction > 0 else ("Down", "decrease")
    exposure = terms.amount * terms.multiplier
    return (
        f"If you select '{word}', your total profit/loss will be the percentage {move} in "
        f"{spec.display_name}, multiplied by {exposure:g}, minus commissions."
    )


class OrderBook:
    """A multiplier's orders and their barriers (shared by the quote and the open contract)."""

    def __init__(self, terms: MultiplierTerms, spec: SymbolSpec, cfg: Config) -> None:
        self.terms = terms
        self.spec = spec
        self.cfg = cfg
        self.exposure = terms.amount * terms.multiplier
        self.commission = commission_amount(terms.amount, terms.multiplier, cfg.commission)
        self.level = cfg.stop_out_level(terms.multiplier)
        self.fee = (
            cancellation_fee(
                terms.amount,
                terms.multiplier,
                cfg.commission,
                terms.cancellation_seconds,
                spec.sigma,
            )
            if terms.cancellation_seconds is not None
            else 0.0
        )
        self.entry: float | None = None
        self.orders: dict[str, Order] = {}

    def place_initial(self, now: int) -> None:
        terms = self.terms
        stop_out = -round(terms.amount * (1 - self.level / 100), 2)
        self.orders["stop_out"] = Order("stop_out", stop_out, now)
        if terms.take_profit is not None:
            self.orders["take_profit"] = Order("take_profit", terms.take_profit, now)
        if terms.stop_loss is not None:
            self.orders["stop_loss"] = Order("stop_loss", -terms.stop_loss, now)

    def pnl(self, spot: float, entry: float | None = None) -> float:
        s0 = entry if entry is not None else self.entry
        if s0 is None:
            return -self.commission
        return self.exposure * self.terms.direction * (spot - s0) / s0 - self.commission

    def barrier_for(self, order: Order) -> float:
        """The spot at which PnL reaches the order (plus the fee for take profit / stop loss)."""
        assert self.entry is not None
        target = order.amount + (self.fee if order.kind != "stop_out" else 0.0)
        level = self.entry * (1 + self.terms.direction * (target + self.commission) / self.exposure)
        return round_to_pip(level, self.spec.pip_size)

    def set_entry(self, entry: float) -> None:
        self.entry = entry
        for order in self.orders.values():
            order.barrier = self.barrier_for(order)

    def payload(self) -> dict[str, Any]:
        return {kind: order.payload(self.spec) for kind, order in self.orders.items()}

    def hit(self, epoch: int, quote: float) -> Order | None:
        """The order this tick closes the contract at (take profit first), if any."""
        up = self.terms.direction > 0
        found: list[Order] = []
        for kind in ("take_profit", "stop_loss", "stop_out"):
            order = self.orders.get(kind)
            if order is None or order.barrier is None or epoch <= order.date:
                continue
            favourable = kind == "take_profit"
            above = quote >= order.barrier
            below = quote <= order.barrier
            if (favourable and (above if up else below)) or (
                not favourable and (below if up else above)
            ):
                found.append(order)
        return found[0] if found else None


class MultiplierContract(Contract):
    terms: MultiplierTerms

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        terms = self.terms
        self.book = OrderBook(terms, self.spec, config(self.spec))
        self.book.place_initial(self.date_start)
        self.history: list[dict[str, Any]] = []
        for kind in ("take_profit", "stop_loss"):
            if kind in self.book.orders:
                self._record(self.book.orders[kind])
        self.last_update: int | None = None

    @property
    def fee(self) -> float:
        return self.book.fee

    def cancellation_active(self, now: float) -> bool:
        seconds = self.terms.cancellation_seconds
        return seconds is not None and not self.closed and now <= self.date_start + seconds

    # -- lifecycle -----------------------------------------------------------------------------
    def on_entry(self, epoch: int, quote: float) -> bool:
        self.book.set_entry(quote)
        self.history = [
            {**h, "value": self.spec.fmt(self.book.orders[h["order_type"]].barrier or 0.0)}
            if h["order_type"] in self.book.orders and h["order_amount"]
            else h
            for h in self.history
        ]
        return False

    def on_next(self, epoch: int, quote: float) -> bool:
        order = self.book.hit(epoch, quote)
        if order is None:
            return False
        stake = self.terms.amount
        if order.kind == "stop_out" and self.cancellation_active(epoch):
            return self.close("cancelled", stake, (epoch, quote))
        if quote == order.barrier:
            extra = self.fee if order.kind != "stop_out" else 0.0
            value = stake + order.amount + extra
        else:
            value = stake + self.book.pnl(quote)
        return self.close(None, value, (epoch, quote))

    # -- valuation -----------------------------------------------------------------------------
    def bid_price(self, now: float) -> float:
        if self.closed:
            return float(self.sell_price or 0.0)
        return round(max(0.0, self.terms.amount + self.book.pnl(self.current[1])), 2)

    def sell_error(self, now: float) -> str | None:
        reason = super().sell_error(now)
        if reason is None and self.cancellation_active(now) and self.book.pnl(self.current[1]) < 0:
            return DEAL_CANCELLATION_ACTIVE
        return reason

    # -- client actions ------------------------------------------------------------------------
    def cancel(self, now: float) -> float:
        seconds = self.terms.cancellation_seconds
        if seconds is None:
            raise ApiError(
                "CancelFailed",
                "This contract does not include deal cancellation. Your contract can only be "
                "cancelled when you select deal cancellation in your purchase.",
            )
        if self.closed:
            raise ApiError("CancelFailed", "This contract has been sold.")
        if now > self.date_start + seconds:
            raise ApiError(
                "CancelFailed",
                "Deal cancellation period has expired. Your contract can only be cancelled "
                "while deal cancellation is active.",
            )
        if int(now) <= self.date_start:
            raise ApiError(
                "CancelFailed", "Contract cannot be cancelled at this time. Please try again."
            )
        stake = self.terms.amount
        self.mark_sold(stake, int(now), "cancelled")
        return stake

    def update(self, orders: dict[str, Any], now: float) -> dict[str, Any]:
        if not orders:
            raise ApiError(
                "ContractUpdateFailure", "Cannot perform update, please specify limit_order"
            )
        second = int(now)
        if self.last_update == second:
            raise ApiError("TooFrequentUpdate", "Only one update per second is allowed.")
        if self.cancellation_active(now):
            if "stop_loss" in orders:
                raise ApiError(
                    "UpdateStopLossNotAllowed",
                    "You may update your stop loss amount after deal cancellation has expired.",
                )
            raise ApiError(
                "UpdateTakeProfitNotAllowed",
                "You may update your take profit amount after deal cancellation has expired.",
            )
        stake, pnl = self.terms.amount, self.book.pnl(self.current[1])
        profit = pnl - self.fee
        for kind, value in orders.items():
            if value is None:
                continue
            try:
                if kind == "take_profit":
                    _check_take_profit(float(value), stake, self.terms.multiplier, profit)
                else:
                    cap = round(stake * (1 - self.book.level / 100), 2)
                    _check_stop_loss(float(value), cap, -profit)
            except ApiError as error:
                raise ApiError("InvalidContractUpdate", error.message, error.details) from None
        for kind, value in orders.items():
            if value is None:
                self.book.orders.pop(kind, None)
                self.history.append(
                    {
                        "display_name": Order.DISPLAY[kind],
                        "order_amount": 0,
                        "order_date": second,
                        "order_type": kind,
                        "value": None,
                    }
                )
                continue
            amount = float(value) if kind == "take_profit" else -float(value)
            order = Order(kind, amount, second)
            if self.book.entry is not None:
                order.barrier = self.book.barrier_for(order)
            self.book.orders[kind] = order
            self._record(order)
        self.last_update = second
        return {
            kind: self.book.orders[kind].payload(self.spec) if kind in self.book.orders else {}
            for kind in ("take_profit", "stop_loss")
        }

    def _record(self, order: Order) -> None:
        self.history.append(
            {
                "display_name": Order.DISPLAY[order.kind],
                "order_amount": order.amount,
                "order_date": order.date,
                "order_type": order.kind,
                "value": None if order.barrier is None else self.spec.fmt(order.barrier),
            }
        )

    def update_history(self) -> list[dict[str, Any]]:
        return list(reversed(self.history))

    # -- reports -------------------------------------------------------------------------------
    def duration_type(self) -> str:
        return "days"

    def transaction_extras(self) -> dict[str, Any]:
        return {
            kind: self.spec.fmt(order.barrier)
            for kind, order in self.book.orders.items()
            if order.barrier is not None
        }

    def profit_table_extras(self) -> dict[str, Any]:
        out = {"multiplier": f"{self.terms.multiplier:g}"}
        if self.terms.cancellation is not None:
            out["deal_cancellation_duration"] = self.terms.cancellation
        return out

    def extras(self, now: float) -> dict[str, Any]:
        book = self.book
        if book.entry is None:  # show the orders as they would sit at the current spot
            preview = OrderBook(self.terms, self.spec, book.cfg)
            preview.orders = {k: Order(o.kind, o.amount, o.date) for k, o in book.orders.items()}
            preview.set_entry(self.current[1])
            book = preview
        active = self.cancellation_active(now)
        updatable = int(not self.closed and not active)
        out: dict[str, Any] = {
            "multiplier": self.terms.multiplier,
            "commission": book.commission,
            "limit_order": book.payload(),
            "is_valid_to_update": {"take_profit": updatable, "stop_loss": updatable, "stop_out": 0},
            "is_valid_to_cancel": int(active and int(now) > self.date_start),
        }
        if self.terms.cancellation_seconds is not None:
            out["cancellation"] = {
                "ask_price": self.fee,
                "date_expiry": self.date_start + self.terms.cancellation_seconds,
            }
        return out
