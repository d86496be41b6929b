"""Contract terms, validation and pricing from the same models that generate the prices.

Pricing rule (documented constants below): the *fair* probability ``p`` that a contract wins is
computed under the symbol's model (digital ``N(d2)`` for CALL/PUT, the barrier-hit probability of a
drifting Brownian motion in log-price for ONETOUCH/NOTOUCH, exact last-digit probabilities for
DIGIT*). The ask probability is ``max(p + COMMISSION, MIN_ASK_PROBABILITY)``; a contract whose ask
probability exceeds ``MAX_ASK_PROBABILITY`` is refused ("offers no return"). ``payout = stake /
ask_probability`` (basis ``stake``) or ``stake = payout * ask_probability`` (basis ``payout``). An
open contract's bid (the ``sell`` price) is ``payout * clamp(p_now - COMMISSION, 0, 1)``.

All functions are pure and synchronous.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from statistics import NormalDist
from typing import Any

from derivkit.sim.errors import ApiError
from derivkit.sim.models import PriceModel, Step
from derivkit.sim.symbols import CALLPUT, DIGITS, TOUCH, SymbolSpec

#: Markup added to the fair win probability on sale (and taken off when buying back).
COMMISSION = 0.015
MIN_ASK_PROBABILITY = 0.05
MAX_ASK_PROBABILITY = 0.98
MIN_STAKE = 0.35
MAX_PAYOUT = 50_000.0

CATEGORY: dict[str, str] = {
    "CALL": CALLPUT,
    "PUT": CALLPUT,
    "ONETOUCH": TOUCH,
    "NOTOUCH": TOUCH,
    "DIGITMATCH": DIGITS,
    "DIGITDIFF": DIGITS,
    "DIGITEVEN": DIGITS,
    "DIGITODD": DIGITS,
    "DIGITOVER": DIGITS,
    "DIGITUNDER": DIGITS,
}

#: (min, max) duration per category and unit; units absent from a category are not offered.
DURATIONS: dict[str, dict[str, tuple[int, int]]] = {
    CALLPUT: {"t": (1, 10), "s": (15, 86400), "m": (1, 1440), "h": (1, 24)},
    TOUCH: {"t": (5, 10), "s": (15, 86400), "m": (1, 1440), "h": (1, 24)},
    DIGITS: {"t": (1, 10)},
}
UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600}
UNIT_WORDS = {"t": "tick", "s": "second", "m": "minute", "h": "hour"}
DIGIT_RANGES = {
    "DIGITMATCH": range(10),
    "DIGITDIFF": range(10),
    "DIGITOVER": range(9),
    "DIGITUNDER": range(1, 10),
}
_N = NormalDist()
_RELATIVE = re.compile(r"^[+-]\d+(\.\d+)?$")
_ABSOLUTE = re.compile(r"^\d+(\.\d+)?$")


def _bad(field: str, message: str) -> ApiError:
    return ApiError("ContractBuyValidationError", message, {"field": field})


@dataclass(frozen=True)
class Terms:
    """Validated contract parameters."""

    contract_type: str
    symbol: str
    amount: float
    basis: str
    currency: str
    duration: int
    duration_unit: str
    barrier_kind: str  # "none" | "relative" | "absolute" | "digit"
    barrier_value: float | None  # offset, absolute price, or digit
    barrier_raw: str | None

    @property
    def category(self) -> str:
        return CATEGORY[self.contract_type]

    @property
    def ticks(self) -> int | None:
        return self.duration if self.duration_unit == "t" else None

    @property
    def seconds(self) -> int:
        return self.duration * UNIT_SECONDS.get(self.duration_unit, 0)

    def barrier_price(self, spot: float) -> float | None:
        """The barrier level given the entry (or current) spot; ``None`` when there is none."""
        if self.barrier_kind == "relative":
            return spot + (self.barrier_value or 0.0)
        if self.barrier_kind == "absolute":
            return self.barrier_value
        if self.barrier_kind == "none" and self.category == CALLPUT:
            return spot
        return None

    def digit(self) -> int:
        return int(self.barrier_value or 0)


def parse_terms(params: dict[str, Any], spec: SymbolSpec, now: float, currency: str) -> Terms:
    """Validate proposal parameters (already type-checked) against the offering."""
    ct = params["contract_type"]
    category = CATEGORY[ct]
    if category not in spec.categories:
        raise ApiError(
            "ContractBuyValidationError",
            f"Trading is not offered for {ct} on {spec.display_name}.",
            {"field": "contract_type"},
        )
    cur = params.get("currency", currency)
    if cur != currency:
        raise ApiError(
            "InvalidCurrency", f"The currency {cur} is not offered.", {"field": "currency"}
        )
    if "amount" not in params:
        raise _bad("amount", "Please enter a stake or payout amount.")
    amount = float(params["amount"])
    if not amount > 0 or round(amount, 2) != amount:
        raise _bad("amount", "Amount must be positive with at most 2 decimal places.")
    if "date_expiry" in params:
        unit, duration = "s", int(params["date_expiry"]) - int(now)
    elif "duration" in params:
        unit, duration = params.get("duration_unit", "s"), int(params["duration"])
    else:
        raise _bad("duration", "Please specify either duration or date_expiry.")
    limits = DURATIONS[category].get(unit)
    if limits is None or not limits[0] <= duration <= limits[1]:
        raise _bad("duration", "Trading is not offered for this duration.")
    kind, value, raw = _parse_barrier(ct, params.get("barrier"), spec)
    return Terms(
        ct, spec.symbol, amount, params.get("basis", "stake"), cur, duration, unit, kind, value, raw
    )


def _parse_barrier(ct: str, barrier: Any, spec: SymbolSpec) -> tuple[str, float | None, str | None]:
    category = CATEGORY[ct]
    if barrier is not None and not isinstance(barrier, str):
        barrier = repr(barrier) if isinstance(barrier, float) else str(barrier)
    if category == DIGITS:
        if ct in ("DIGITEVEN", "DIGITODD"):
            return "none", None, None
        if barrier is None or not barrier.isdigit() or int(barrier) not in DIGIT_RANGES[ct]:
            raise _bad("barrier", f"Last digit prediction for {ct} is out of range.")
        return "digit", float(int(barrier)), barrier
    if barrier is None:
        if category == TOUCH:
            raise _bad("barrier", "A barrier is required for this contract.")
        return "none", None, None
    if _RELATIVE.match(barrier):
        value = float(barrier)
        if value == 0 and category == TOUCH:
            raise _bad("barrier", "The barrier must differ from the spot.")
        return "relative", value, barrier
    if _ABSOLUTE.match(barrier) and math.isfinite(float(barrier)) and float(barrier) > 0:
        return "absolute", float(barrier), barrier
    raise _bad("barrier", "Invalid barrier.")


# -- probabilities ------------------------------------------------------------------------------
def prob_above(spot: float, barrier: float, mean: float, sd: float) -> float:
    """``P(S_T > barrier)`` when ``ln S_T ~ N(ln spot + mean, sd^2)``."""
    if barrier <= 0:
        return 1.0
    if sd <= 0:
        return 1.0 if spot * math.exp(mean) > barrier else 0.0
    return _N.cdf((math.log(spot / barrier) + mean) / sd)


def prob_touch(spot: float, barrier: float, mean: float, sd: float) -> float:
    """Probability that the log-price Brownian motion (drift ``mean``, sd ``sd`` over the horizon)
    touches ``barrier`` (above or below ``spot``) before the horizon ends."""
    if barrier <= 0:
        return 0.0
    b = math.log(barrier / spot)
    if b == 0:
        return 1.0
    if sd <= 0:
        return 1.0 if (b > 0) == (mean >= b) and abs(mean) >= abs(b) else 0.0
    var = sd * sd
    try:
        reflect = math.exp(2 * mean * b / var)
    except OverflowError:
        reflect = math.inf
    if b > 0:
        p = _N.cdf((-b + mean) / sd) + reflect * _N.cdf((-b - mean) / sd)
    else:
        p = _N.cdf((b - mean) / sd) + reflect * _N.cdf((b + mean) / sd)
    return min(1.0, max(0.0, p if math.isfinite(p) else 1.0))


def digit_distribution(model: PriceModel, spot: float, pip_size: int, n_ticks: int) -> list[float]:
    """Exact probabilities of the last digit (quote formatted to ``pip_size``) after ``n_ticks``."""
    scale = 10**pip_size
    k0 = round(spot * scale)
    if n_ticks <= 0:
        out = [0.0] * 10
        out[k0 % 10] = 1.0
        return out
    if isinstance(model, Step):
        step = round(model.size * scale)
        dist = [0.0] * 10
        dist[k0 % 10] = 1.0
        for _ in range(n_ticks):
            dist = [0.5 * dist[(d - step) % 10] + 0.5 * dist[(d + step) % 10] for d in range(10)]
        return dist
    sd = model.tick_log_sd(spot) * math.sqrt(n_ticks)
    mean = model.tick_log_mean(spot) * n_ticks
    sd_pips = spot * sd * scale
    if sd_pips > 30:
        # Poisson summation: deviation from uniform is below exp(-2 pi^2 (sd/10)^2) < 1e-70.
        return [0.1] * 10
    lo = math.floor(spot * math.exp(mean - 9 * sd) * scale)
    hi = math.ceil(spot * math.exp(mean + 9 * sd) * scale)
    out = [0.0] * 10
    ln_spot = math.log(spot)

    def cdf(level: float) -> float:
        if level <= 0:
            return 0.0
        return _N.cdf((math.log(level) - ln_spot - mean) / sd) if sd > 0 else float(level >= spot)

    prev = cdf((lo - 0.5) / scale)
    for k in range(lo, hi + 1):
        cur = cdf((k + 0.5) / scale)
        out[k % 10] += cur - prev
        prev = cur
    total = sum(out)
    return [x / total for x in out] if total > 0 else [0.1] * 10


def digit_win_probability(ct: str, digit: int, dist: list[float]) -> float:
    if ct == "DIGITMATCH":
        return dist[digit]
    if ct == "DIGITDIFF":
        return 1 - dist[digit]
    if ct == "DIGITOVER":
        return sum(dist[digit + 1 :])
    if ct == "DIGITUNDER":
        return sum(dist[:digit])
    if ct == "DIGITEVEN":
        return sum(dist[0::2])
    return sum(dist[1::2])


def win_probability(
    terms: Terms,
    spec: SymbolSpec,
    spot: float,
    barrier: float | None,
    n_ticks: float,
) -> float:
    """Fair probability of winning from ``spot`` with ``n_ticks`` of the model left to run."""
    model = spec.model
    n = max(0.0, n_ticks)
    sd = model.tick_log_sd(spot) * math.sqrt(n)
    mean = model.tick_log_mean(spot) * n
    ct = terms.contract_type
    if terms.category == DIGITS:
        dist = digit_distribution(model, spot, spec.pip_size, round(n))
        return digit_win_probability(ct, terms.digit(), dist)
    assert barrier is not None
    if ct in ("CALL", "PUT"):
        above = prob_above(spot, barrier, mean, sd)
        if ct == "PUT":
            # P(S_T < barrier); ties have probability zero except for the discrete step index.
            return 1 - above if sd > 0 else float(spot * math.exp(mean) < barrier)
        return above
    hit = prob_touch(spot, barrier, mean, sd)
    return hit if ct == "ONETOUCH" else 1 - hit


def horizon_ticks(terms: Terms, spec: SymbolSpec) -> float:
    """Model ticks between now and expiry for a new contract (entry happens at the next tick)."""
    if terms.ticks is not None:
        return terms.ticks + (
            1 if terms.barrier_kind == "absolute" or terms.category == DIGITS else 0
        )
    return terms.seconds / spec.interval


@dataclass(frozen=True)
class Quote:
    ask_price: float
    payout: float
    probability: float
    barrier: str | None


def quote(terms: Terms, spec: SymbolSpec, spot: float) -> Quote:
    """Price a new contract at ``spot``; raises ``ContractBuyValidationError`` when not offered."""
    barrier = terms.barrier_price(spot)
    if terms.category == TOUCH and barrier is not None and spec.fmt(barrier) == spec.fmt(spot):
        raise _bad("barrier", "The barrier must differ from the spot.")
    p = win_probability(terms, spec, spot, barrier, horizon_ticks(terms, spec))
    ask_prob = max(p + COMMISSION, MIN_ASK_PROBABILITY)
    if ask_prob > MAX_ASK_PROBABILITY:
        raise _bad("payout", "This contract offers no return.")
    if terms.basis == "stake":
        ask, payout = terms.amount, round(terms.amount / ask_prob, 2)
    else:
        payout, ask = terms.amount, round(terms.amount * ask_prob, 2)
    if ask < MIN_STAKE:
        raise _bad("amount", f"Stake must be at least {MIN_STAKE:.2f}.")
    if payout > MAX_PAYOUT:
        raise _bad("amount", f"Maximum payout is {MAX_PAYOUT:.2f}.")
    shown = None
    if terms.barrier_kind == "digit":
        shown = terms.barrier_raw
    elif barrier is not None and terms.barrier_kind != "none":
        shown = spec.fmt(barrier)
    return Quote(ask, payout, p, shown)


def bid_probability(p_now: float) -> float:
    return min(1.0, max(0.0, p_now - COMMISSION))


# -- text -----------------------------------------------------------------------------------------
def duration_text(terms: Terms) -> str:
    word = UNIT_WORDS[terms.duration_unit]
    return f"{terms.duration} {word}{'s' if terms.duration != 1 else ''}"


def longcode(terms: Terms, spec: SymbolSpec) -> str:
    name, dur, ct = spec.display_name, duration_text(terms), terms.contract_type
    if terms.category == DIGITS:
        what = {
            "DIGITMATCH": f"is {terms.barrier_raw}",
            "DIGITDIFF": f"is not {terms.barrier_raw}",
            "DIGITOVER": f"is strictly higher than {terms.barrier_raw}",
            "DIGITUNDER": f"is strictly lower than {terms.barrier_raw}",
            "DIGITEVEN": "is even",
            "DIGITODD": "is odd",
        }[ct]
        return f"Win payout if the last digit of {name} {what} after {dur}."
    if terms.barrier_kind == "relative":
        off = terms.barrier_value or 0.0
        target = f"entry spot {'plus' if off >= 0 else 'minus'} {spec.fmt(abs(off))}"
    elif terms.barrier_kind == "absolute":
        target = spec.fmt(terms.barrier_value or 0.0)
    else:
        target = "entry spot"
    if ct in ("CALL", "PUT"):
        rel = "higher" if ct == "CALL" else "lower"
        return f"Win payout if {name} after {dur} is strictly {rel} than {target}."
    verb = "touches" if ct == "ONETOUCH" else "does not touch"
    return f"Win payout if {name} {verb} {target} through {dur} after contract start time."


def shortcode(terms: Terms, spec: SymbolSpec, payout: float, start: int) -> str:
    if terms.barrier_kind == "relative":
        b = f"S{round((terms.barrier_value or 0.0) * 10**spec.pip_size)}P"
    elif terms.barrier_kind in ("absolute", "digit"):
        b = terms.barrier_raw or ""
    else:
        b = "S0P"
    return (
        f"{terms.contract_type}_{spec.symbol.upper()}_{payout:g}_{start}_"
        f"{terms.duration}{terms.duration_unit.upper()}_{b}_0"
    )
