"""Accumulators (``ACCU``): the stake grows by the growth rate on every tick that stays strictly
inside a band of +/- b around the previous tick; the first tick that reaches the band edge knocks
the contract out (value 0). The client sells at will once a tick has passed; the server closes
the contract as won at the maximum ticks, the maximum payout or the take profit (products
doc §3).

b is set so that the knock-out probability per tick under the index's model equals the loss
probability of the growth rate: ``2 (1 - Phi(b / sigma_tick)) = p``. Value after n ticks past
the entry is ``stake x (1 + g)^n`` (growth start step 0, as live).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist
from typing import Any

from derivkit.sim.errors import ApiError
from derivkit.sim.models import SECONDS_PER_YEAR
from derivkit.sim.products.base import (
    NOT_OFFERED_ASSET,
    NOT_UPDATABLE,
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
)
from derivkit.sim.symbols import ACCUMULATOR, SymbolSpec

GROWTH_RATES = (0.01, 0.02, 0.03, 0.04, 0.05)
#: Per-tick knock-out probability by growth rate (accumulator_loss_probabilities.yml).
LOSS_PROBABILITY = {0.01: 0.015, 0.02: 0.023, 0.03: 0.033, 0.04: 0.0425, 0.05: 0.0535}
#: Default maximum ticks by growth rate.
MAX_TICKS = {0.01: 300, 0.02: 150, 0.03: 90, 0.04: 75, 0.05: 60}
MAX_PAYOUT = 10_000.0
MIN_STAKE = 1.0
MAX_STAKE = 2000.0
RECENT_TICKS = 10
_N = NormalDist()
AT_ENTRY = "Contract cannot be sold at entry tick. Please wait for the next tick."


def band(spec: SymbolSpec, growth_rate: float) -> float:
    """``tick_size_barrier``: the band half-width as a fraction of the previous spot."""
    sigma_tick = spec.sigma * math.sqrt(spec.interval / SECONDS_PER_YEAR)
    return sigma_tick * _N.inv_cdf(1 - LOSS_PROBABILITY[growth_rate] / 2)


def _growth(value: Any) -> float | None:
    for g in GROWTH_RATES:
        if math.isclose(float(value), g, abs_tol=1e-12):
            return g
    return None


@dataclass(frozen=True)
class AccumulatorTerms:
    contract_type: str
    symbol: str
    amount: float
    currency: str
    growth_rate: float
    take_profit: float | None

    def max_ticks(self) -> int:
        """Ticks after which the server closes the contract: the maximum ticks, or fewer when
        the maximum payout or the take profit is reached first."""
        g = self.growth_rate
        limit = MAX_TICKS[g]
        targets = [MAX_PAYOUT]
        if self.take_profit is not None:
            targets.append(self.amount + self.take_profit)
        for target in targets:
            n = math.ceil(math.log(target / self.amount) / math.log(1 + g) - 1e-12)
            limit = min(limit, max(1, n))
        return limit


class AccumulatorProduct(Product):
    contract_types = {"ACCU": ACCUMULATOR}
    max_open_per_symbol = 1

    def offered_on(self, spec: SymbolSpec, contract_type: str) -> bool:
        return ACCUMULATOR in spec.categories

    def parse(self, params: dict[str, Any], spec: SymbolSpec, ctx: Context) -> AccumulatorTerms:
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
            params,
            ct,
            ("multiplier", "cancellation", "payout_per_point", "selected_tick", "barrier_range"),
        )
        if limit_amount(params, "stop_loss") is not None:
            raise creation("stop_loss is not a valid input for contract type ACCU.", "stop_loss")
        if "growth_rate" not in params:
            raise creation("Missing required contract parameters (growth_rate).", "growth_rate")
        g = _growth(params["growth_rate"])
        if g is None:
            accepts = ", ".join(f"{x:g}" for x in GROWTH_RATES)
            raise creation(
                f"Growth rate is not in acceptable range. Accepts {accepts}.", "growth_rate"
            )
        if "amount" not in params:
            raise creation("Missing required contract parameters (amount).", "amount")
        stake = float(params["amount"])
        if decimals(stake) > 2:
            raise invalid("Stake can not have more than 2 decimal places.", field="amount")
        if stake < MIN_STAKE:
            raise creation(
                f"Please enter a stake amount that's at least {money(MIN_STAKE)}.", "amount"
            )
        if stake > MAX_STAKE:
            raise creation(f"Maximum stake allowed is {money(MAX_STAKE)}.", "amount")
        tp = limit_amount(params, "take_profit")
        if tp is not None:
            if tp < 0:
                raise creation("Negative take profit value is not accepted", "take_profit")
            if decimals(tp) > 2:
                raise invalid("Only 2 decimal places allowed.", field="take_profit")
            if tp <= 0:
                raise invalid(
                    "Please enter a take profit amount that's higher than 0.00.",
                    field="take_profit",
                )
            cap = round(MAX_PAYOUT - stake, 2)
            if tp > cap:
                raise invalid(
                    f"Please enter a take profit amount that's lower than {money(cap)}.",
                    field="take_profit",
                )
        return AccumulatorTerms(ct, spec.symbol, stake, params["currency"], g, tp)

    def quote(
        self, terms: AccumulatorTerms, spec: SymbolSpec, spot: tuple[int, float], ctx: Context
    ) -> Quote:
        b = band(spec, terms.growth_rate)
        high, low = band_levels(spec, spot[1], b)
        details: dict[str, Any] = {
            "maximum_payout": MAX_PAYOUT,
            "maximum_ticks": terms.max_ticks(),
            "minimum_stake": money(MIN_STAKE),
            "maximum_stake": money(MAX_STAKE),
            "tick_size_barrier": round(b, 12),
            "tick_size_barrier_percentage": f"{100 * b:.5f}%",
            "high_barrier": fmt_band(spec, high),
            "low_barrier": fmt_band(spec, low),
            "barrier_spot_distance": fmt_band(spec, high - spot[1]),
            "ticks_stayed_in": stayed_in_runs(spec, ctx.recent_quotes(2000), terms.growth_rate),
            "last_tick_epoch": spot[0],
        }
        fields: dict[str, Any] = {"contract_details": details}
        if terms.take_profit is not None:
            fields["limit_order"] = {
                "take_profit": Order("take_profit", terms.take_profit, int(ctx.now)).payload(
                    spec, with_value=False
                )
            }
        return Quote(
            ask_price=terms.amount,
            payout=0.0,
            longcode=longcode(terms, spec, b),
            date_expiry=end_of_day(ctx.now, 365),
            fields=fields,
        )

    def open(
        self,
        ids: tuple[int, int],
        terms: AccumulatorTerms,
        spec: SymbolSpec,
        quote: Quote,
        spot: tuple[int, float],
        now: float,
    ) -> AccumulatorContract:
        b = band(spec, terms.growth_rate)
        code = (
            f"ACCU_{spec.symbol.upper()}_{terms.amount:.2f}_0_{terms.growth_rate:g}_1_"
            f"{b:.12f}_{int(now)}"
        )
        return AccumulatorContract(ids, terms, spec, quote, spot, now, code)

    def offers(self, spec: SymbolSpec, ctx: Context) -> list[dict[str, Any]]:
        if ACCUMULATOR not in spec.categories:
            return []
        b = band(spec, GROWTH_RATES[0])
        offset = spec.fmt(ctx.reference_spot() * b)
        return [
            {
                "contract_type": "ACCU",
                "contract_category": ACCUMULATOR,
                "contract_category_display": "Accumulator",
                "contract_display": "Accumulator Up",
                "barrier_category": "american",
                "barriers": 2,
                "expiry_type": "no_expiry",
                "start_type": "spot",
                "min_contract_duration": "0",
                "max_contract_duration": "0",
                "sentiment": "low_vol",
                "market": spec.market,
                "submarket": spec.submarket,
                "underlying_symbol": spec.symbol,
                "exchange_name": "RANDOM",
                "growth_rate_range": list(GROWTH_RATES),
                "high_barrier": f"+{offset}",
                "low_barrier": f"-{offset}",
            }
        ]


def band_levels(spec: SymbolSpec, previous: float, b: float) -> tuple[float, float]:
    """The band around ``previous``, rounded outwards at a tenth of a pip."""
    scale = 10 ** (spec.pip_size + 1)
    high = math.ceil(previous * (1 + b) * scale - 1e-9) / scale
    low = math.floor(previous * (1 - b) * scale + 1e-9) / scale
    return high, low


def fmt_band(spec: SymbolSpec, value: float) -> str:
    return f"{value:.{spec.pip_size + 1}f}"


def stayed_in_runs(spec: SymbolSpec, quotes: list[float], growth_rate: float) -> list[int]:
    """Lengths of the recent runs of ticks that stayed inside the band (newest first, <= 100)."""
    b = band(spec, growth_rate)
    runs: list[int] = []
    run = 0
    for prev, cur in zip(quotes, quotes[1:], strict=False):
        high, low = band_levels(spec, prev, b)
        if low < cur < high:
            run += 1
        else:
            runs.append(run)
            run = 0
    runs.append(run)
    runs.reverse()
    return runs[:100]


def longcode(terms: AccumulatorTerms, spec: SymbolSpec, b: float) -> str:
    return (
        f"After the entry spot tick, your stake will grow continuously by "
        f"{100 * terms.growth_rate:g}% for every tick that the spot price remains within the "
        f"+/- {100 * b:.5f}% from the previous spot price."
    )


class AccumulatorContract(Contract):
    terms: AccumulatorTerms

    barrier_count = 2

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        terms = self.terms
        self.b = band(self.spec, terms.growth_rate)
        self.tick_count = terms.max_ticks()
        self.tick_passed = 0
        self.band: tuple[float, float] | None = None  # applied to the latest tick

    def value(self) -> float:
        return self.terms.amount * (1 + self.terms.growth_rate) ** self.tick_passed

    def on_next(self, epoch: int, quote: float) -> bool:
        previous = self.ticks[-2][1]
        high, low = band_levels(self.spec, previous, self.b)
        self.band = (high, low)
        if quote >= high or quote <= low:
            return self.close("lost", 0.0, (epoch, quote))
        self.tick_passed += 1
        if self.tick_passed >= self.tick_count:
            return self.close("won", self.value(), (epoch, quote))
        return False

    def bid_price(self, now: float) -> float:
        if self.closed:
            return float(self.sell_price or 0.0)
        return round(max(self.value(), self.terms.amount), 2)

    def sell_error(self, now: float) -> str | None:
        reason = super().sell_error(now)
        if reason is not None:
            return reason
        if self.tick_passed < 1:
            return AT_ENTRY
        return None

    def update(self, orders: dict[str, Any], now: float) -> dict[str, Any]:
        raise ApiError("UpdateNotAllowed", NOT_UPDATABLE)

    def tick_stream(self) -> list[tuple[int, float]] | None:
        return self.ticks[-RECENT_TICKS:]

    def profit_table_extras(self) -> dict[str, Any]:
        return {"growth_rate": f"{self.terms.growth_rate:g}"}

    def extras(self, now: float) -> dict[str, Any]:
        spec = self.spec
        high, low = band_levels(spec, self.current[1], self.b)
        out: dict[str, Any] = {
            "growth_rate": self.terms.growth_rate,
            "tick_count": self.tick_count,
            "tick_passed": self.tick_passed,
            "current_spot_high_barrier": fmt_band(spec, high),
            "current_spot_low_barrier": fmt_band(spec, low),
            "barrier_spot_distance": fmt_band(spec, high - self.current[1]),
            "is_valid_to_update": {"take_profit": 0},
        }
        if self.band is not None:
            out["high_barrier"] = fmt_band(spec, self.band[0])
            out["low_barrier"] = fmt_band(spec, self.band[1])
        if self.terms.take_profit is not None:
            out["limit_order"] = {
                "take_profit": Order(
                    "take_profit", self.terms.take_profit, self.date_start
                ).payload(spec, with_value=False)
            }
        return out
