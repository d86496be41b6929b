"""Vanilla options (``VANILLALONGCALL``, ``VANILLALONGPUT``): a European call or put paying
n x max(S_T - K, 0) (call) or n x max(K - S_T, 0) (put) at expiry (products doc §5).

Black-Scholes with zero rates at the index volatility: the ask uses sigma x 1.025, the bid
sigma x 0.975, the value at expiry is the intrinsic value. n = stake / ask at entry (the purchase
tick), 5 decimals. Strike choices (intraday: offsets of the 0.1 ... 0.9-delta strikes; daily:
absolute levels between them) are built on the first tick of the hour. Sellable after the start
second until 60 s before expiry.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist
from typing import Any

from derivkit.sim.models import SECONDS_PER_YEAR
from derivkit.sim.pricing import Offering, parse_duration
from derivkit.sim.products.base import (
    NOT_OFFERED_ASSET,
    RESALE_NOT_OFFERED,
    SECONDS_PER_DAY,
    Context,
    Contract,
    Product,
    Quote,
    creation,
    decimals,
    expiry_epoch,
    invalid,
    offerings,
    reject_fields,
)
from derivkit.sim.symbols import VANILLA, SymbolSpec

OFFERING = Offering(None, (60, SECONDS_PER_DAY), (1, 365))
VOL_MARKUP = 0.025
MIN_STAKE = 0.35
MAX_STAKE = 2000.0
MAX_CONTRACTS = 1000
MIN_CONTRACTS = 0.1
NO_RESALE_SECONDS = 60
DELTAS = (0.1, 0.3, 0.5, 0.7, 0.9)
DAILY_LEVELS = 11
MAX_OPEN_PER_SYMBOL = 10
_N = NormalDist()


def black_scholes(call: bool, spot: float, strike: float, years: float, sigma: float) -> float:
    if years <= 0 or sigma <= 0:
        return max(0.0, spot - strike) if call else max(0.0, strike - spot)
    sd = sigma * math.sqrt(years)
    d1 = (math.log(spot / strike) + sd * sd / 2) / sd
    d2 = d1 - sd
    if call:
        return spot * _N.cdf(d1) - strike * _N.cdf(d2)
    return strike * _N.cdf(-d2) - spot * _N.cdf(-d1)


def _delta_strike(spot: float, delta: float, years: float, sigma: float) -> float:
    """The call strike whose spot delta N(d1) is ``delta``."""
    sd = sigma * math.sqrt(years)
    return spot * math.exp(sd * sd / 2 - _N.inv_cdf(delta) * sd)


def strike_choices(spec: SymbolSpec, spot: float, years: float, daily: bool) -> list[str]:
    """Relative offsets (intraday) or absolute levels (daily), high to low."""
    strikes = [_delta_strike(spot, d, years, spec.sigma) for d in DELTAS]
    step = 10 * spec.pip
    if daily:
        hi, lo = strikes[0], strikes[-1]
        levels = [lo + (hi - lo) * i / (DAILY_LEVELS - 1) for i in range(DAILY_LEVELS)]
        out = sorted({round(round(x / step) * step, spec.pip_size) for x in levels}, reverse=True)
        return [spec.fmt(x) for x in out]
    offsets = sorted(
        {round(round((k - spot) / step) * step, spec.pip_size) for k in strikes}, reverse=True
    )
    return [f"{'+' if x >= 0 else '-'}{spec.fmt(abs(x))}" for x in offsets]


@dataclass(frozen=True)
class VanillaTerms:
    contract_type: str
    symbol: str
    amount: float
    currency: str
    duration: int
    duration_unit: str
    date_expiry: int | None
    strike_raw: str
    relative: bool

    @property
    def is_call(self) -> bool:
        return self.contract_type == "VANILLALONGCALL"

    def expiry(self, start: float) -> int:
        return expiry_epoch(start, self.duration, self.duration_unit, self.date_expiry)

    def strike(self, spec: SymbolSpec, entry: float) -> float:
        value = float(self.strike_raw)
        return round(entry + value, spec.pip_size) if self.relative else value


def _years(seconds: float) -> float:
    return max(0.0, seconds) / SECONDS_PER_YEAR


def ask_per_contract(
    terms: VanillaTerms, spec: SymbolSpec, spot: float, strike: float, seconds: float
) -> float:
    return black_scholes(
        terms.is_call, spot, strike, _years(seconds), spec.sigma * (1 + VOL_MARKUP)
    )


def stake_limits(ask: float) -> tuple[float, float]:
    lo = max(MIN_STAKE, MIN_CONTRACTS * ask)
    hi = min(MAX_STAKE, MAX_CONTRACTS * ask)
    lo = math.ceil(lo) if lo > 1 else math.ceil(lo * 10 - 1e-9) / 10
    hi = math.floor(hi) if hi > 1 else math.floor(hi * 10 + 1e-9) / 10
    return float(lo), float(hi)


class VanillaProduct(Product):
    contract_types = {"VANILLALONGCALL": VANILLA, "VANILLALONGPUT": VANILLA}
    max_open_per_symbol = MAX_OPEN_PER_SYMBOL

    def offered_on(self, spec: SymbolSpec, contract_type: str) -> bool:
        return VANILLA in spec.categories

    def parse(self, params: dict[str, Any], spec: SymbolSpec, ctx: Context) -> VanillaTerms:
        ct = params["contract_type"]
        if not self.offered_on(spec, ct):
            raise offerings(NOT_OFFERED_ASSET, "symbol")
        if params.get("basis", "stake") != "stake":
            raise creation("Basis must be stake for this contract.", "basis")
        reject_fields(
            params,
            ct,
            (
                "multiplier",
                "growth_rate",
                "cancellation",
                "limit_order",
                "payout_per_point",
                "selected_tick",
                "barrier2",
            ),
        )
        duration, unit, expiry = parse_duration(params, ctx.now, OFFERING)
        if "barrier" not in params:
            raise creation("Missing required contract parameters (barrier).", "barrier")
        if "amount" not in params:
            raise creation("Missing required contract parameters (amount).", "amount")
        stake = float(params["amount"])
        if decimals(stake) > 2:
            raise invalid("Stake can not have more than 2 decimal places.", field="amount")
        end = expiry_epoch(ctx.now, duration, unit, expiry)
        daily = end - ctx.now > SECONDS_PER_DAY
        anchor = ctx.reference_spot()
        choices = strike_choices(spec, anchor, _years(end - ctx.now), daily)
        raw = str(params["barrier"])
        relative = raw.startswith(("+", "-"))
        try:
            value = float(raw)
        except ValueError:
            value = math.nan
        match = [x for x in choices if abs(float(x) - value) < spec.pip / 2]
        if relative == daily or not match:
            raise invalid(f"Barriers available are {', '.join(choices)}", barrier_choices=choices)
        terms = VanillaTerms(
            ct, spec.symbol, stake, params["currency"], duration, unit, expiry, match[0], relative
        )
        strike = terms.strike(spec, anchor)
        lo, hi = stake_limits(ask_per_contract(terms, spec, anchor, strike, end - ctx.now))
        if stake < lo:
            raise invalid(
                f"Please enter a stake amount that's at least {lo:g}.", min_stake=lo, max_stake=hi
            )
        if stake > hi:
            raise invalid(f"Maximum stake allowed is {hi:g}.", min_stake=lo, max_stake=hi)
        return terms

    def quote(
        self, terms: VanillaTerms, spec: SymbolSpec, spot: tuple[int, float], ctx: Context
    ) -> Quote:
        end = terms.expiry(ctx.now)
        strike = terms.strike(spec, spot[1])
        ask = ask_per_contract(terms, spec, spot[1], strike, end - ctx.now)
        n = round(terms.amount / ask, 5) if ask > 0 else 0.0
        lo, hi = stake_limits(ask)
        anchor = ctx.reference_spot()
        daily = end - ctx.now > SECONDS_PER_DAY
        return Quote(
            ask_price=terms.amount,
            payout=0.0,
            longcode=longcode(terms, spec, strike, end),
            date_expiry=end,
            fields={
                "contract_details": {"barrier": spec.fmt(strike)},
                "display_number_of_contracts": f"{n:.5f}",
                "barrier_choices": strike_choices(spec, anchor, _years(end - ctx.now), daily),
                "min_stake": lo,
                "max_stake": hi,
            },
        )

    def open(
        self,
        ids: tuple[int, int],
        terms: VanillaTerms,
        spec: SymbolSpec,
        quote: Quote,
        spot: tuple[int, float],
        now: float,
    ) -> VanillaContract:
        contract = VanillaContract(ids, terms, spec, quote, spot, now, "")
        contract.shortcode = (
            f"{terms.contract_type}_{spec.symbol.upper()}_{terms.amount:.2f}_{int(now)}_"
            f"{contract.date_expiry}_{spec.fmt(contract.strike)}_{contract.n:.5f}_{spot[0]}"
        )
        return contract

    def offers(self, spec: SymbolSpec, ctx: Context) -> list[dict[str, Any]]:
        if VANILLA not in spec.categories:
            return []
        anchor = ctx.reference_spot()
        out = []
        for ct, display, sentiment in (
            ("VANILLALONGCALL", "Vanilla Long Call", "up"),
            ("VANILLALONGPUT", "Vanilla Long Put", "down"),
        ):
            for expiry_type, lo_d, hi_d, seconds, daily in (
                ("intraday", "1m", "1d", 300, False),
                ("daily", "1d", "365d", SECONDS_PER_DAY * 2, True),
            ):
                choices = strike_choices(spec, anchor, _years(seconds), daily)
                out.append(
                    {
                        "contract_type": ct,
                        "contract_category": VANILLA,
                        "contract_category_display": "Vanilla Options",
                        "contract_display": display,
                        "barrier_category": "euro_non_atm",
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
                        "barrier": choices[len(choices) // 2],
                        "barrier_choices": choices,
                    }
                )
        return out


def longcode(terms: VanillaTerms, spec: SymbolSpec, strike: float, end: int) -> str:
    kind, rel = ("Call", "above") if terms.is_call else ("Put", "below")
    return (
        f"Vanilla Long {kind} on {spec.display_name}: your payout at expiry is the number of "
        f"contracts multiplied by how far the final price is {rel} the strike {spec.fmt(strike)}. "
        f"You may sell the contract up until {NO_RESALE_SECONDS} seconds before expiry."
    )


class VanillaContract(Contract):
    terms: VanillaTerms

    entry_at_purchase = True
    barrier_count = 1

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        terms = self.terms
        entry = self.current[1]
        self.date_expiry = terms.expiry(self.purchase_time)
        self.strike = terms.strike(self.spec, entry)
        ask = ask_per_contract(
            terms, self.spec, entry, self.strike, self.date_expiry - self.purchase_time
        )
        self.n = round(terms.amount / ask, 5) if ask > 0 else 0.0

    @property
    def barrier_text(self) -> str | None:
        return self.spec.fmt(self.strike)

    def _intrinsic(self, spot: float) -> float:
        diff = spot - self.strike if self.terms.is_call else self.strike - spot
        return self.n * max(0.0, diff)

    def on_next(self, epoch: int, quote: float) -> bool:
        if epoch > self.date_expiry:
            self.ticks.pop()
            self.current = self.ticks[-1]
            return self._expire(self.ticks[-1])
        if epoch >= self.date_expiry:
            return self._expire((epoch, quote))
        return False

    def _expire(self, exit_tick: tuple[int, float]) -> bool:
        return self.close(None, self._intrinsic(exit_tick[1]), exit_tick)

    def bid_price(self, now: float) -> float:
        if self.closed:
            return float(self.sell_price or 0.0)
        spot = self.current[1]
        left = self.date_expiry - max(now, self.current[0])
        sigma = self.spec.sigma * (1 - VOL_MARKUP)
        return round(
            self.n * black_scholes(self.terms.is_call, spot, self.strike, _years(left), sigma), 2
        )

    def sell_error(self, now: float) -> str | None:
        reason = super().sell_error(now)
        if reason is None and now > self.date_expiry - NO_RESALE_SECONDS:
            return RESALE_NOT_OFFERED
        return reason

    def duration_type(self) -> str:
        return {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}[self.terms.duration_unit]

    def extras(self, now: float) -> dict[str, Any]:
        return {
            "barrier": self.spec.fmt(self.strike),
            "display_number_of_contracts": f"{self.n:.5f}",
        }
