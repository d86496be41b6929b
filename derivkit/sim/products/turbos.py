"""Turbos (``TURBOSLONG``, ``TURBOSSHORT``): a knock-out option whose barrier B is its strike.
LONG pays n x (S_T - B) at expiry and is worth nothing as soon as a tick reaches B; SHORT is the
mirror image. n, the payout per point, is the stake over the price per point at entry (products
doc §4).

Spread: c = (one-tick standard deviation) x (ticks commission, 0.9; R_75 1.1). LONG costs
S0 (1 + c) - B per point and is bid at S (1 - c) - B; at expiry no spread is charged. The entry
tick is the purchase tick. Barrier choices (20 distances) and payout-per-point choices are built
on the first tick of the hour, so a choice quoted stays valid while the hour lasts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from derivkit.sim.errors import ApiError
from derivkit.sim.models import SECONDS_PER_YEAR
from derivkit.sim.pricing import Offering, parse_duration
from derivkit.sim.products import multiplier as mult
from derivkit.sim.products.base import (
    NOT_OFFERED_ASSET,
    RESALE_NOT_OFFERED,
    SECONDS_PER_DAY,
    Context,
    Contract,
    Order,
    Product,
    Quote,
    creation,
    decimals,
    expiry_epoch,
    invalid,
    limit_amount,
    money,
    offerings,
    reject_fields,
    round_to_pip,
)
from derivkit.sim.symbols import TURBOS, SymbolSpec

OFFERING = Offering((5, 10), (15, SECONDS_PER_DAY), (1, 365))
MIN_STAKE = 1.0
MAX_STAKE = 2000.0
DEFAULT_STAKE = 10.0
CHOICES = 20
MAX_OPEN_PER_SYMBOL = 5


def spread(spec: SymbolSpec) -> float:
    """c: the one-tick standard deviation times the ticks commission."""
    ticks_commission = 1.1 if spec.symbol == "R_75" else 0.9
    return spec.sigma * math.sqrt(spec.interval / SECONDS_PER_YEAR) * ticks_commission


def _n_bounds(spec: SymbolSpec, spot: float) -> tuple[float, float]:
    """(n_min, n_max): payouts per point of the smallest and largest multiplier exposures."""
    cfg = mult.config(spec)
    return min(cfg.multipliers) * mult.MIN_STAKE / spot, max(
        cfg.multipliers
    ) * mult.MAX_STAKE / spot


def barrier_distances(spec: SymbolSpec, spot: float) -> list[float]:
    """The 20 barrier distances from ``spot``, nearest first (0.3 % of spot to 50 %)."""
    sigma = spec.sigma
    _, n_max = _n_bounds(spec, spot)
    beta = max(sigma * math.sqrt(300 / SECONDS_PER_YEAR), 1 / (n_max * spot))
    growth = (0.5 / beta) ** (1 / (CHOICES - 1))
    return [spot * beta * growth**i for i in range(CHOICES)]


def barrier_choices(spec: SymbolSpec, spot: float, contract_type: str) -> list[str]:
    sign = "-" if contract_type == "TURBOSLONG" else "+"
    return [f"{sign}{spec.fmt(d)}" for d in barrier_distances(spec, spot)]


def payout_choices(spec: SymbolSpec, spot: float, stake: float) -> list[float]:
    c = spread(spec)
    sigma = spec.sigma
    n_close = stake / (spot * (c + sigma * math.sqrt(300 / SECONDS_PER_YEAR)))
    n_far = stake / (spot * (c + sigma * math.sqrt(1e6 / SECONDS_PER_YEAR)))
    raw = (n_close - n_far) * 0.2
    magnitude = 10 ** math.floor(math.log10(raw))
    step = math.floor(raw / magnitude) * magnitude
    hi = math.floor(n_close / step + 1e-9)
    lo = math.ceil(n_far / step - 1e-9)
    return [round(k * step, 10) for k in range(hi, lo - 1, -1)]


def _fmt_choice(x: float) -> str:
    return f"{x:.10f}".rstrip("0").rstrip(".")


@dataclass(frozen=True)
class TurbosTerms:
    contract_type: str
    symbol: str
    amount: float
    currency: str
    duration: int
    duration_unit: str
    date_expiry: int | None
    offset: float | None  # barrier mode: signed distance from the entry spot
    payout_per_point: float | None
    take_profit: float | None

    @property
    def is_long(self) -> bool:
        return self.contract_type == "TURBOSLONG"

    @property
    def ticks(self) -> int | None:
        return self.duration if self.duration_unit == "t" else None

    def expiry(self, start: float) -> int:
        return expiry_epoch(start, self.duration, self.duration_unit, self.date_expiry)

    def years(self, spec: SymbolSpec, now: float) -> float:
        """Time to expiry of a new contract, in years."""
        if self.ticks is not None:
            return self.ticks * spec.interval / SECONDS_PER_YEAR
        return max(0.0, self.expiry(now) - now) / SECONDS_PER_YEAR

    def barrier(self, spec: SymbolSpec, entry: float) -> float:
        if self.offset is not None:
            return round(entry + self.offset, spec.pip_size)
        assert self.payout_per_point is not None
        c = spread(spec)
        if self.is_long:
            level = entry * (1 + c) - self.amount / self.payout_per_point
        else:
            level = entry * (1 - c) + self.amount / self.payout_per_point
        return round(level, spec.pip_size)

    def per_point(self, spec: SymbolSpec, entry: float, barrier: float) -> float:
        """Payout per point, rounded down to 6 decimals (USD)."""
        c = spread(spec)
        price = entry * (1 + c) - barrier if self.is_long else barrier - entry * (1 - c)
        if price <= 0:
            return 0.0
        if self.payout_per_point is not None:
            return self.payout_per_point
        return math.floor(self.amount / price * 1e6 + 1e-6) / 1e6


class TurbosProduct(Product):
    contract_types = {"TURBOSLONG": TURBOS, "TURBOSSHORT": TURBOS}
    max_open_per_symbol = MAX_OPEN_PER_SYMBOL

    def offered_on(self, spec: SymbolSpec, contract_type: str) -> bool:
        return TURBOS in spec.categories

    def parse(self, params: dict[str, Any], spec: SymbolSpec, ctx: Context) -> TurbosTerms:
        ct = params["contract_type"]
        if not self.offered_on(spec, ct):
            raise offerings(NOT_OFFERED_ASSET, "symbol")
        if params.get("basis", "stake") != "stake":
            raise creation("Basis must be stake for this contract.", "basis")
        reject_fields(
            params,
            ct,
            ("multiplier", "growth_rate", "cancellation", "selected_tick", "barrier2", "stop_loss"),
        )
        duration, unit, expiry = parse_duration(params, ctx.now, OFFERING)
        if "amount" not in params:
            raise creation("Missing required contract parameters (amount).", "amount")
        stake = float(params["amount"])
        if decimals(stake) > 2:
            raise invalid("Stake can not have more than 2 decimal places.", field="amount")
        has_barrier = "barrier" in params
        has_ppp = "payout_per_point" in params
        if has_barrier == has_ppp:
            raise creation(
                "Please specify either barrier or payout_per_point.",
                "barrier" if has_barrier else "payout_per_point",
            )
        anchor = ctx.reference_spot()
        offset = ppp = None
        if has_barrier:
            choices = barrier_choices(spec, anchor, ct)
            raw = str(params["barrier"])
            try:
                value = float(raw)
            except ValueError:
                value = math.nan
            match = [x for x in choices if abs(float(x) - value) < spec.pip / 2]
            if not raw.startswith(("+", "-")) or not match:
                raise invalid(
                    f"Barriers available are {', '.join(choices)}", barrier_choices=choices
                )
            offset = float(match[0])
        else:
            choices_n = payout_choices(spec, anchor, stake)
            value = float(params["payout_per_point"])
            found = [n for n in choices_n if math.isclose(n, value, rel_tol=1e-9, abs_tol=1e-12)]
            if not found:
                shown = [_fmt_choice(n) for n in choices_n]
                raise invalid(
                    f"Available payout per points are {', '.join(shown)}",
                    payout_per_point_choices=shown,
                )
            ppp = found[0]
        tp = limit_amount(params, "take_profit")
        terms = TurbosTerms(
            ct, spec.symbol, stake, params["currency"], duration, unit, expiry, offset, ppp, tp
        )
        spot = anchor
        barrier = terms.barrier(spec, spot)
        lo, hi = stake_limits(spec, spot, barrier)
        if stake < lo:
            raise invalid(
                f"Please enter a stake amount that's at least {money(lo)}.",
                min_stake=lo,
                max_stake=hi,
            )
        if stake > hi:
            raise invalid(f"Maximum stake allowed is {money(hi)}.", min_stake=lo, max_stake=hi)
        if tp is not None:
            if decimals(tp) > 2:
                raise invalid("Only 2 decimal places allowed.", field="take_profit")
            if tp <= 0:
                raise invalid(
                    "Please enter a take profit amount that's higher than 0.00.",
                    field="take_profit",
                )
            cap = max_take_profit(terms, spec, spot, ctx.now)
            if tp > cap:
                raise invalid(
                    f"Please enter a take profit amount that's lower than {money(cap)}.",
                    field="take_profit",
                )
        return terms

    def quote(
        self, terms: TurbosTerms, spec: SymbolSpec, spot: tuple[int, float], ctx: Context
    ) -> Quote:
        s = spot[1]
        barrier = terms.barrier(spec, s)
        n = terms.per_point(spec, s, barrier)
        if n <= 0:
            raise invalid("Barrier is out of acceptable range.", field="barrier")
        lo, hi = stake_limits(spec, s, barrier)
        anchor = ctx.reference_spot()
        fields: dict[str, Any] = {
            "contract_details": {"barrier": spec.fmt(barrier)},
            "display_number_of_contracts": f"{n:.6f}",
            "min_stake": lo,
            "max_stake": hi,
        }
        if terms.offset is not None:
            fields["barrier_choices"] = barrier_choices(spec, anchor, terms.contract_type)
        else:
            fields["payout_choices"] = [
                _fmt_choice(x) for x in payout_choices(spec, anchor, terms.amount)
            ]
        if terms.take_profit is not None:
            fields["limit_order"] = {
                "take_profit": Order("take_profit", terms.take_profit, int(ctx.now)).payload(
                    spec, with_value=False
                )
            }
        return Quote(
            ask_price=terms.amount,
            payout=0.0,
            longcode=longcode(terms, spec),
            date_expiry=terms.expiry(ctx.now) if terms.ticks is None else None,
            fields=fields,
        )

    def open(
        self,
        ids: tuple[int, int],
        terms: TurbosTerms,
        spec: SymbolSpec,
        quote: Quote,
        spot: tuple[int, float],
        now: float,
    ) -> TurbosContract:
        contract = TurbosContract(ids, terms, spec, quote, spot, now, "")
        pips = round((contract.barrier - spot[1]) * 10**spec.pip_size)
        expiry = contract.date_expiry
        contract.shortcode = (
            f"{terms.contract_type}_{spec.symbol.upper()}_{terms.amount:.2f}_{int(now)}_"
            f"{expiry}_S{pips}P_{contract.n:.6f}_{spot[0]}"
        )
        return contract

    def offers(self, spec: SymbolSpec, ctx: Context) -> list[dict[str, Any]]:
        if TURBOS not in spec.categories:
            return []
        anchor = ctx.reference_spot()
        out = []
        o = OFFERING
        rows = [
            ("tick", f"{o.ticks[0]}t", f"{o.ticks[1]}t") if o.ticks else None,
            ("intraday", "15s", "1d"),
            ("daily", "1d", "365d"),
        ]
        ppp = payout_choices(spec, anchor, DEFAULT_STAKE)
        for ct, display, sentiment in (
            ("TURBOSLONG", "Turbos Long", "up"),
            ("TURBOSSHORT", "Turbos Short", "down"),
        ):
            choices = barrier_choices(spec, anchor, ct)
            middle = choices[len(choices) // 2]
            barrier = round(anchor + float(middle), spec.pip_size)
            lo, hi = stake_limits(spec, anchor, barrier)
            for row in rows:
                if row is None:
                    continue
                expiry_type, lo_d, hi_d = row
                out.append(
                    {
                        "contract_type": ct,
                        "contract_category": TURBOS,
                        "contract_category_display": "Turbos",
                        "contract_display": display,
                        "barrier_category": "american",
                        "barriers": 1,
                        "expiry_type": expiry_type,
                        "start_type": "spot",
                        "min_contract_duration": lo_d,
                        "max_contract_duration": hi_d,
                        "sentiment": sentiment,
                        "market": spec.market,
                        "submarket": spec.submarket,
                        "underlying_symbol": spec.symbol,
                        "exchange_name": "RANDOM",
                        "barrier": middle,
                        "barrier_choices": choices,
                        "payout_choices": [_fmt_choice(x) for x in ppp],
                        "display_number_of_contracts": ppp[len(ppp) // 2],
                        "min_stake": lo,
                        "max_stake": hi,
                    }
                )
        return out


def stake_limits(spec: SymbolSpec, spot: float, barrier: float) -> tuple[float, float]:
    n_min, n_max = _n_bounds(spec, spot)
    distance = abs(spot - barrier)
    lo = max(MIN_STAKE, n_min * distance)
    hi = min(n_max * distance, MAX_STAKE)
    return math.ceil(lo * 100 - 1e-9) / 100, math.floor(hi * 100 + 1e-9) / 100


def max_take_profit(terms: TurbosTerms, spec: SymbolSpec, spot: float, now: float) -> float:
    """Largest take profit: sigma x n_max x stake (barrier mode) or 2 n S0 sigma sqrt(T)."""
    _, n_max = _n_bounds(spec, spot)
    if terms.payout_per_point is None:
        cap = spec.sigma * n_max * terms.amount
    else:
        cap = 2 * terms.payout_per_point * spot * spec.sigma * math.sqrt(terms.years(spec, now))
    return math.floor(cap * 100) / 100


def longcode(terms: TurbosTerms, spec: SymbolSpec) -> str:
    side, rel = ("Long", "above") if terms.is_long else ("Short", "below")
    when = (
        f"{terms.ticks} ticks after the entry spot"
        if terms.ticks is not None
        else "the close of the contract"
    )
    return (
        f"Turbos {side} on {spec.display_name}: you receive a payout at {when} if the spot price "
        f"never touches or breaches the barrier, equal to the payout per point multiplied by the "
        f"distance of the final price {rel} the barrier."
    )


class TurbosContract(Contract):
    terms: TurbosTerms

    entry_at_purchase = True
    barrier_count = 1
    path_dependent = True

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        terms = self.terms
        entry = self.current[1]
        self.c = spread(self.spec)
        self.barrier = terms.barrier(self.spec, entry)
        self.n = terms.per_point(self.spec, entry, self.barrier)
        if terms.ticks is not None:
            self.date_expiry = self.date_start + (terms.ticks + 1) * self.spec.interval
        else:
            self.date_expiry = terms.expiry(self.purchase_time)
        self.take_profit: Order | None = None
        if terms.take_profit is not None:
            self.take_profit = self._order(terms.take_profit, self.date_start)
        self.history: list[dict[str, Any]] = []
        if self.take_profit is not None:
            self._record(self.take_profit)
        self.last_update: int | None = None

    @property
    def barrier_text(self) -> str | None:
        return self.spec.fmt(self.barrier)

    def _order(self, amount: float, date: int) -> Order:
        level = (self.terms.amount + amount) / self.n
        if self.terms.is_long:
            target = round_to_pip((level + self.barrier) / (1 - self.c), self.spec.pip_size, "up")
        else:
            target = round_to_pip((self.barrier - level) / (1 + self.c), self.spec.pip_size, "down")
        return Order("take_profit", amount, date, target)

    def _value(self, spot: float, spread_charged: bool) -> float:
        c = self.c if spread_charged else 0.0
        if self.terms.is_long:
            points = spot * (1 - c) - self.barrier
        else:
            points = self.barrier - spot * (1 + c)
        return max(0.0, self.n * points)

    def _knocked(self, quote: float) -> bool:
        return quote <= self.barrier if self.terms.is_long else quote >= self.barrier

    def on_next(self, epoch: int, quote: float) -> bool:
        terms = self.terms
        if terms.ticks is None and epoch > self.date_expiry:
            self.ticks.pop()
            self.current = self.ticks[-1]
            return self._expire(self.ticks[-1])
        if self._knocked(quote):
            return self.close("lost", 0.0, (epoch, quote))
        tp = self.take_profit
        if tp is not None and tp.barrier is not None and epoch > tp.date:
            reached = quote >= tp.barrier if terms.is_long else quote <= tp.barrier
            if reached:
                return self.close("won", self._value(quote, True), (epoch, quote))
        if terms.ticks is not None:
            if len(self.ticks) >= terms.ticks + 1:
                return self._expire((epoch, quote))
            return False
        if epoch >= self.date_expiry:
            return self._expire((epoch, quote))
        return False

    def _expire(self, exit_tick: tuple[int, float]) -> bool:
        value = round(self._value(exit_tick[1], False), 2)
        if self.terms.ticks is not None:
            self.date_expiry = exit_tick[0]
        return self.close("won" if value > self.buy_price else "lost", value, exit_tick)

    def bid_price(self, now: float) -> float:
        if self.closed:
            return float(self.sell_price or 0.0)
        return round(self._value(self.current[1], True), 2)

    def sell_error(self, now: float) -> str | None:
        reason = super().sell_error(now)
        if reason is None and self.terms.ticks is not None:
            return RESALE_NOT_OFFERED
        return reason

    def update(self, orders: dict[str, Any], now: float) -> dict[str, Any]:
        if not orders:
            raise ApiError(
                "ContractUpdateFailure", "Cannot perform update, please specify limit_order"
            )
        if "stop_loss" in orders:
            raise ApiError(
                "UpdateNotAllowed", "Only updates to these parameters are allowed take_profit."
            )
        second = int(now)
        if self.last_update == second:
            raise ApiError("TooFrequentUpdate", "Only one update per second is allowed.")
        value = orders.get("take_profit")
        if value is None:
            self.take_profit = None
            self.history.append(
                {
                    "display_name": "Take profit",
                    "order_amount": 0,
                    "order_date": second,
                    "order_type": "take_profit",
                }
            )
        else:
            tp = float(value)
            profit = self.bid_price(now) - self.buy_price
            if decimals(tp) > 2:
                raise ApiError("InvalidContractUpdate", "Only 2 decimal places allowed.")
            if tp <= max(0.0, profit):
                raise ApiError(
                    "TakeProfitTooLow",
                    "Please enter a take profit amount that's higher than "
                    f"{money(max(0.0, profit))}.",
                )
            spot = self.entry[1] if self.entry else self.current[1]
            cap = max_take_profit(self.terms, self.spec, spot, self.purchase_time)
            if tp > cap:
                raise ApiError(
                    "TakeProfitTooHigh",
                    f"Please enter a take profit amount that's lower than {money(cap)}.",
                )
            self.take_profit = self._order(tp, second)
            self._record(self.take_profit)
        self.last_update = second
        shown = self.take_profit.payload(self.spec, with_value=False) if self.take_profit else {}
        return {"take_profit": shown}

    def _record(self, order: Order) -> None:
        self.history.append(
            {
                "display_name": "Take profit",
                "order_amount": order.amount,
                "order_date": order.date,
                "order_type": "take_profit",
            }
        )

    def update_history(self) -> list[dict[str, Any]]:
        return list(reversed(self.history))

    def duration_type(self) -> str:
        return {"t": "ticks", "s": "seconds", "m": "minutes", "h": "hours", "d": "days"}[
            self.terms.duration_unit
        ]

    def tick_stream(self) -> list[tuple[int, float]] | None:
        return self.ticks if self.terms.ticks is not None else None

    def extras(self, now: float) -> dict[str, Any]:
        out: dict[str, Any] = {
            "barrier": self.spec.fmt(self.barrier),
            "display_number_of_contracts": f"{self.n:.6f}",
            "is_valid_to_update": {"take_profit": int(not self.closed)},
        }
        if self.terms.ticks is not None:
            out["tick_count"] = self.terms.ticks
        if self.take_profit is not None:
            out["limit_order"] = {
                "take_profit": self.take_profit.payload(self.spec, with_value=False)
            }
        return out
