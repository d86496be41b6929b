"""Binary options: terms, offerings, fair probabilities and prices, from the same models that
generate the prices.

Pricing rule (products doc §6.1): the ask probability is the *fair* probability ``p`` that the
contract wins under the symbol's model plus a commission ``c`` (:func:`commission_rate`: 1.2 %
of payout, digits 1 %, High/Low ticks 1.5 %, tick Touch/No Touch 3.2 %, Only Ups/Downs by
length), at least 0.02 of the currency per contract and never below the deep-OTM floor
``MIN_ASK_PROBABILITY``. ``payout = stake / ask`` (basis ``stake``) or ``stake = payout * ask``
(basis ``payout``); a contract whose payout would not exceed its stake "offers no return". An open
contract's bid is ``payout * clamp(p_now - c, 0, 1)``.

``p`` is fair with respect to how the simulator settles: quotes are rounded to the pip, so a
strict comparison needs half a pip more (a Rise that ends on its entry spot loses), and barriers
are checked on ticks, not continuously, so touch probabilities use the Broadie-Glasserman-Kou
shift of the barrier by ``0.5826`` tick standard deviations. The step index is priced exactly
(binomial); digits exactly (:func:`digit_distribution`).

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
from derivkit.sim.products.base import (
    NOT_OFFERED_ASSET,
    NOT_OFFERED_DURATION,
    SECONDS_PER_DAY,
    UNIT_SECONDS,
    creation,
    decimals,
    expiry_epoch,
    invalid,
    offerings,
)
from derivkit.sim.symbols import (
    ASIAN,
    CALLPUT,
    CALLPUTEQUAL,
    DIGITS,
    ENDSINOUT,
    HIGHLOWTICKS,
    RUNS,
    STAYSINOUT,
    TOUCH,
    SymbolSpec,
)

#: Base commission (fraction of payout) on synthetic-index binaries.
BASE_COMMISSION = 0.012
DIGIT_COMMISSION = 0.01
TICK_HIGH_LOW_COMMISSION = 0.015
TICK_TOUCH_COMMISSION = BASE_COMMISSION + 0.02
RUNS_COMMISSION = {2: 0.012, 3: 0.006, 4: 0.003, 5: 0.0015}
MIN_COMMISSION_AMOUNT = 0.02
MIN_ASK_PROBABILITY = 0.025
MIN_STAKE = 0.35
MAX_PAYOUT = 50_000.0
MAX_PAYOUT_BY_CATEGORY = {DIGITS: 30_000.0, RUNS: 10_000.0}
#: Broadie-Glasserman-Kou constant: a barrier checked on each tick acts like a continuous one
#: moved this many tick standard deviations away from the spot.
BGK = 0.5826

CATEGORY: dict[str, str] = {
    "CALL": CALLPUT,
    "PUT": CALLPUT,
    "CALLE": CALLPUTEQUAL,
    "PUTE": CALLPUTEQUAL,
    "ONETOUCH": TOUCH,
    "NOTOUCH": TOUCH,
    "EXPIRYRANGE": ENDSINOUT,
    "EXPIRYMISS": ENDSINOUT,
    "RANGE": STAYSINOUT,
    "UPORDOWN": STAYSINOUT,
    "DIGITMATCH": DIGITS,
    "DIGITDIFF": DIGITS,
    "DIGITEVEN": DIGITS,
    "DIGITODD": DIGITS,
    "DIGITOVER": DIGITS,
    "DIGITUNDER": DIGITS,
    "ASIANU": ASIAN,
    "ASIAND": ASIAN,
    "TICKHIGH": HIGHLOWTICKS,
    "TICKLOW": HIGHLOWTICKS,
    "RUNHIGH": RUNS,
    "RUNLOW": RUNS,
}
TWO_BARRIERS = (ENDSINOUT, STAYSINOUT)
NO_BARRIER = (ASIAN, HIGHLOWTICKS, RUNS)


@dataclass(frozen=True)
class Offering:
    """Durations of one trade type: ticks, intraday seconds and days, each ``(min, max)``."""

    ticks: tuple[int, int] | None = None
    seconds: tuple[int, int] | None = None
    days: tuple[int, int] | None = (1, 365)


#: Products doc §6.2 (R_10 … R_100; the 1s indices are taken to be the same).
OFFERINGS: dict[str, Offering] = {
    "risefall": Offering((1, 10), (15, SECONDS_PER_DAY)),
    "higherlower": Offering((5, 10), (15, SECONDS_PER_DAY)),
    "touch": Offering((5, 10), (120, SECONDS_PER_DAY)),
    "range": Offering(None, (120, SECONDS_PER_DAY)),
    "digits": Offering((1, 10), None, None),
    "asian": Offering((5, 10), None, None),
    "highlowticks": Offering((5, 5), None, None),
    "runs": Offering((2, 5), None, None),
}
UNIT_WORDS = {"t": "tick", "s": "second", "m": "minute", "h": "hour", "d": "day"}
DIGIT_RANGES = {
    "DIGITMATCH": range(10),
    "DIGITDIFF": range(10),
    "DIGITOVER": range(9),
    "DIGITUNDER": range(1, 10),
}
_N = NormalDist()
_RELATIVE = re.compile(r"^[+-]\d+\.?\d*$")
_ABSOLUTE = re.compile(r"^\d+\.?\d*$")


@dataclass(frozen=True)
class Barrier:
    kind: str  # "relative" | "absolute" | "digit"
    value: float
    raw: str

    def level(self, spot: float) -> float:
        return spot + self.value if self.kind == "relative" else self.value


@dataclass(frozen=True)
class Terms:
    """Validated parameters of a binary contract."""

    contract_type: str
    symbol: str
    amount: float
    basis: str
    currency: str
    duration: int
    duration_unit: str
    barrier: Barrier | None = None
    barrier2: Barrier | None = None
    selected_tick: int | None = None
    date_expiry: int | None = None

    @property
    def category(self) -> str:
        return CATEGORY[self.contract_type]

    @property
    def ticks(self) -> int | None:
        return self.duration if self.duration_unit == "t" else None

    @property
    def settle_tick(self) -> int:
        """Index of the exit tick counting the entry as 1 (tick contracts)."""
        n = self.duration
        if self.category in (DIGITS, ASIAN):
            return n
        if self.category == HIGHLOWTICKS:
            return 5
        return n + 1

    def expiry(self, start: float) -> int:
        """Expiry epoch of a timed contract bought at ``start``."""
        return expiry_epoch(start, self.duration, self.duration_unit, self.date_expiry)

    @property
    def barrier_kind(self) -> str:
        return "none" if self.barrier is None else self.barrier.kind

    def barrier_price(self, spot: float) -> float | None:
        """The (high) barrier given the entry (or current) spot; ``None`` when there is none."""
        if self.barrier is not None and self.barrier.kind != "digit":
            return self.barrier.level(spot)
        if self.barrier is None and self.category in (CALLPUT, CALLPUTEQUAL):
            return spot
        return None

    def barrier2_price(self, spot: float) -> float | None:
        return None if self.barrier2 is None else self.barrier2.level(spot)

    def digit(self) -> int:
        return int(self.barrier.value) if self.barrier is not None else 0

    @property
    def trade_type(self) -> str:
        cat = self.category
        if cat in (CALLPUT, CALLPUTEQUAL):
            atm = self.barrier is None or (
                self.barrier.kind == "relative" and self.barrier.value == 0
            )
            return "risefall" if atm else "higherlower"
        return {
            TOUCH: "touch",
            ENDSINOUT: "range",
            STAYSINOUT: "range",
            DIGITS: "digits",
            ASIAN: "asian",
            HIGHLOWTICKS: "highlowticks",
            RUNS: "runs",
        }[cat]


def commission_rate(terms: Terms) -> float:
    cat = terms.category
    if cat == DIGITS:
        return DIGIT_COMMISSION
    if cat == HIGHLOWTICKS:
        return TICK_HIGH_LOW_COMMISSION
    if cat == RUNS:
        return RUNS_COMMISSION[terms.duration]
    if cat == TOUCH and terms.ticks is not None:
        return TICK_TOUCH_COMMISSION
    return BASE_COMMISSION


def _check_duration(offering: Offering, unit: str, amount: int, seconds: int) -> None:
    if unit == "t":
        ok = offering.ticks is not None and offering.ticks[0] <= amount <= offering.ticks[1]
    elif unit == "d":
        ok = offering.days is not None and offering.days[0] <= amount <= offering.days[1]
    else:
        ok = offering.seconds is not None and offering.seconds[0] <= seconds <= offering.seconds[1]
    if not ok:
        raise offerings(NOT_OFFERED_DURATION, "duration")


def parse_duration(
    params: dict[str, Any], now: float, offering: Offering
) -> tuple[int, str, int | None]:
    """``(duration, unit, date_expiry)`` checked against ``offering``.

    Raises ``ContractCreationFailure`` when neither duration nor date_expiry is given and
    ``OfferingsValidationError`` when the duration is not offered.
    """
    if "date_expiry" in params:
        expiry = int(params["date_expiry"])
        seconds = expiry - int(now)
        if seconds <= 0:
            raise invalid("Expiry time cannot be in the past.", field="date_expiry")
        if seconds > SECONDS_PER_DAY and offering.days is not None:
            days = -(-seconds // SECONDS_PER_DAY)
            _check_duration(offering, "d", days, seconds)
        else:
            _check_duration(offering, "s", seconds, seconds)
        return seconds, "s", expiry
    if "duration" not in params:
        raise creation("Please specify either duration or date_expiry.", "duration")
    unit = params.get("duration_unit", "s")
    amount = int(params["duration"])
    if amount <= 0:
        raise offerings(NOT_OFFERED_DURATION, "duration")
    seconds = amount * UNIT_SECONDS.get(unit, 0)
    _check_duration(offering, unit, amount, seconds)
    return amount, unit, None


def _text(barrier: Any) -> str:
    return barrier if isinstance(barrier, str) else str(barrier)


def _parse_level(raw: str, spec: SymbolSpec, field_name: str) -> Barrier:
    if _RELATIVE.match(raw):
        kind = "relative"
    elif _ABSOLUTE.match(raw) and float(raw) > 0:
        kind = "absolute"
    else:
        raise invalid("Invalid barrier.", field=field_name)
    frac = raw.split(".", 1)[1] if "." in raw else ""
    if len(frac) > spec.pip_size:
        raise invalid(
            f"Barrier can only be up to {spec.pip_size} decimal places.", field=field_name
        )
    return Barrier(kind, float(raw), raw)


def parse_terms(params: dict[str, Any], spec: SymbolSpec, now: float, currency: str) -> Terms:
    """Validate binary proposal parameters (already type-checked) against the offering."""
    ct = params["contract_type"]
    category = CATEGORY[ct]
    if category not in spec.categories:
        raise offerings(NOT_OFFERED_ASSET, "contract_type")
    for name in ("multiplier", "growth_rate", "cancellation", "limit_order", "payout_per_point"):
        if name in params:
            raise creation(f"{name} is not a valid input for contract type {ct}.", name)
    if "amount" not in params:
        raise creation("Missing required contract parameters (amount).", "amount")
    amount = float(params["amount"])
    basis = params.get("basis", "stake")
    if decimals(amount) > 2:
        what = "Stake" if basis == "stake" else "Payout"
        raise invalid(f"{what} can not have more than 2 decimal places.", field="amount")
    barrier, barrier2 = _parse_barriers(ct, params, spec)
    selected = None
    if category == HIGHLOWTICKS:
        if "selected_tick" not in params:
            raise creation("Missing required contract parameters (selected tick).", "selected_tick")
        selected = int(params["selected_tick"])
        if not 1 <= selected <= 5:
            raise creation("Tick prediction must be between 1 and 5.", "selected_tick")
    elif "selected_tick" in params:
        raise creation(f"selected_tick is not a valid input for contract type {ct}.")
    terms = Terms(ct, spec.symbol, amount, basis, currency, 0, "t", barrier, barrier2, selected)
    duration, unit, expiry = parse_duration(params, now, OFFERINGS[terms.trade_type])
    return Terms(
        ct,
        spec.symbol,
        amount,
        basis,
        currency,
        duration,
        unit,
        barrier,
        barrier2,
        selected,
        expiry,
    )


def _parse_barriers(
    ct: str, params: dict[str, Any], spec: SymbolSpec
) -> tuple[Barrier | None, Barrier | None]:
    category = CATEGORY[ct]
    raw = params.get("barrier")
    raw2 = params.get("barrier2")
    if category == DIGITS:
        if raw2 is not None:
            raise creation("Barrier2 is not allowed for this contract type.", "barrier2")
        if ct in ("DIGITEVEN", "DIGITODD"):
            if raw is not None:
                raise creation("Barrier is not allowed for this contract type.", "barrier")
            return None, None
        if raw is None:
            raise creation(
                "Missing required contract parameters (last digit prediction for digit contracts).",
                "barrier",
            )
        text = _text(raw)
        if not text.isdigit() or int(text) > 9:
            raise invalid("Barrier is not an integer in range of 0 to 9.", field="barrier")
        allowed = DIGIT_RANGES[ct]
        if int(text) not in allowed:
            raise invalid(
                f"Digit must be in the range of {allowed[0]} to {allowed[-1]}.", field="barrier"
            )
        return Barrier("digit", float(int(text)), text), None
    if category in NO_BARRIER:
        if raw is not None or raw2 is not None:
            raise creation("Barrier is not allowed for this contract type.", "barrier")
        return None, None
    if category in TWO_BARRIERS:
        if raw is None or raw2 is None:
            missing = "barrier" if raw is None else "barrier2"
            raise creation(f"Missing required contract parameters ({missing}).", missing)
        high = _parse_level(_text(raw), spec, "barrier")
        low = _parse_level(_text(raw2), spec, "barrier2")
        if high.kind != low.kind:
            raise invalid("Both barriers should be relative or absolute.", field="barrier")
        if high.value == low.value:
            raise invalid("High and low barriers must be different.", field="barrier")
        if high.value < low.value:
            raise invalid("High barrier must be higher than low barrier.", field="barrier")
        return high, low
    if raw2 is not None:
        raise creation("Barrier2 is not allowed for this contract type.", "barrier2")
    if raw is None:
        if category == TOUCH:
            raise creation("Missing required contract parameters (barrier).", "barrier")
        return None, None
    barrier = _parse_level(_text(raw), spec, "barrier")
    if category == TOUCH and barrier.kind == "relative" and barrier.value == 0:
        raise invalid("Barrier must be at least 1 pips away from the spot.", field="barrier")
    return barrier, None


# -- probabilities ------------------------------------------------------------------------------
def prob_above(spot: float, level: float, mean: float, sd: float) -> float:
    """``P(S_T > level)`` when ``ln S_T ~ N(ln spot + mean, sd^2)``."""
    if level <= 0:
        return 1.0
    if sd <= 0:
        return 1.0 if spot * math.exp(mean) > level else 0.0
    return _N.cdf((math.log(spot / level) + mean) / sd)


def step_prob_above(model: Step, spot: float, level: float, n: int) -> float:
    """Exact ``P(S_n > level)`` for the step index after ``n`` steps."""
    total = 0.0
    for k in range(n + 1):
        final = spot + model.size * (2 * k - n)
        if final > level + 1e-9:
            total += math.comb(n, k)
    return total / 2.0**n


class Horizon:
    """The model's terminal distribution from ``spot`` after ``n`` ticks."""

    def __init__(self, spec: SymbolSpec, spot: float, n: float) -> None:
        self.spec = spec
        self.spot = spot
        self.n = max(0.0, n)
        model = spec.model
        self.tick_sd = model.tick_log_sd(spot)
        self.sd = self.tick_sd * math.sqrt(self.n)
        self.mean = model.tick_log_mean(spot) * self.n
        self.half_pip = spec.pip / 2

    def above(self, level: float) -> float:
        """``P(S_T > level)``."""
        model = self.spec.model
        if isinstance(model, Step):
            return step_prob_above(model, self.spot, level, round(self.n))
        return prob_above(self.spot, level, self.mean, self.sd)

    def quote_above(self, barrier: float) -> float:
        """``P(exit quote > barrier)``: the unrounded price must pass the barrier by half a pip."""
        return self.above(barrier + self.half_pip)

    def quote_at_least(self, barrier: float) -> float:
        return self.above(barrier - self.half_pip)

    def touch(self, barrier: float) -> float:
        """Probability that a tick reaches ``barrier`` (equality counts) before the horizon."""
        up = barrier > self.spot
        level = barrier - self.half_pip if up else barrier + self.half_pip
        shift = math.exp(BGK * self.tick_sd)
        level = level * shift if up else level / shift
        if (up and level <= self.spot) or (not up and level >= self.spot):
            return 1.0
        return prob_touch(self.spot, level, self.mean, self.sd)

    def stays_between(self, high: float, low: float) -> float:
        """Probability that no tick reaches ``high`` or ``low``."""
        shift = math.exp(BGK * self.tick_sd)
        hi = (high - self.half_pip) * shift
        lo = (low + self.half_pip) / shift
        if not lo < self.spot < hi:
            return 0.0
        return prob_stay(self.spot, hi, lo, self.sd)


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


def prob_stay(spot: float, high: float, low: float, sd: float) -> float:
    """Probability that a driftless log-price Brownian motion with total sd ``sd`` stays strictly
    between ``low`` and ``high`` (method of images)."""
    if sd <= 0:
        return 1.0
    a, b = math.log(low / spot), math.log(high / spot)
    w = b - a
    total = 0.0
    for k in range(-6, 7):
        shift = 2 * k * w
        total += _N.cdf((b - shift) / sd) - _N.cdf((a - shift) / sd)
        total -= _N.cdf((b - 2 * a - shift) / sd) - _N.cdf((-a - shift) / sd)
    return min(1.0, max(0.0, total))


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


def _walk_max_weight(m: int) -> float:
    """``P(a symmetric walk of m steps never goes above its start)`` = C(2m, m) / 4^m."""
    return math.comb(2 * m, m) / 4.0**m


def tick_high_probability(selected: int) -> float:
    """Probability that tick ``selected`` of 5 is the highest (or lowest) of the five: the argmax
    of a symmetric walk over 5 points (Sparre Andersen), ties (of probability ~0) ignored."""
    return _walk_max_weight(selected - 1) * _walk_max_weight(5 - selected)


def runs_step_probability(spec: SymbolSpec, spot: float, ct: str) -> float:
    """Probability that the next quote is strictly above (RUNHIGH) / below the current one."""
    h = Horizon(spec, spot, 1)
    return h.quote_above(spot) if ct == "RUNHIGH" else 1 - h.quote_at_least(spot)


def asian_probability(spec: SymbolSpec, spot: float, seen: list[float], n: int, ct: str) -> float:
    """Probability that the last of ``n`` ticks beats (ASIANU) the mean of all ``n``, given the
    ticks ``seen`` (linearised: the future increments are normal)."""
    m = len(seen)
    if m >= n:
        avg = sum(seen[:n]) / n
        last = seen[n - 1]
        return float(last > avg) if ct == "ASIANU" else float(last < avg)
    base = seen[-1] if seen else spot
    drift = (m * base - sum(seen)) / n if seen else 0.0
    first = max(m + 1, 2)
    weights = sum(((j - 1) / n) ** 2 for j in range(first, n + 1))
    sd = spec.model.tick_log_sd(base) * base * math.sqrt(weights)
    if sd <= 0:
        return float(drift > 0) if ct == "ASIANU" else float(drift < 0)
    # The barrier (mean) has a tenth of a pip precision: equal values lose.
    tie = spec.pip / 10 / 2
    up = 1 - _N.cdf((tie - drift) / sd)
    down = _N.cdf((-tie - drift) / sd)
    return up if ct == "ASIANU" else down


def win_probability(
    terms: Terms,
    spec: SymbolSpec,
    spot: float,
    barrier: float | None,
    n_ticks: float,
    barrier2: float | None = None,
    seen: list[float] | None = None,
) -> float:
    """Fair probability of winning from ``spot`` with ``n_ticks`` of the model left to run.

    ``seen`` are the ticks counted so far (entry first), for the types that depend on them.
    """
    ct = terms.contract_type
    cat = terms.category
    h = Horizon(spec, spot, n_ticks)
    if cat == DIGITS:
        dist = digit_distribution(spec.model, spot, spec.pip_size, round(h.n))
        return digit_win_probability(ct, terms.digit(), dist)
    if cat == ASIAN:
        return asian_probability(spec, spot, seen or [], terms.duration, ct)
    if cat == HIGHLOWTICKS:
        return tick_high_probability(terms.selected_tick or 1)
    if cat == RUNS:
        return runs_step_probability(spec, spot, ct) ** round(h.n)
    assert barrier is not None
    if ct == "CALL":
        return h.quote_above(barrier)
    if ct == "PUT":
        return 1 - h.quote_at_least(barrier)
    if ct == "CALLE":
        return h.quote_at_least(barrier)
    if ct == "PUTE":
        return 1 - h.quote_above(barrier)
    if cat == TOUCH:
        hit = h.touch(barrier)
        return hit if ct == "ONETOUCH" else 1 - hit
    assert barrier2 is not None
    if cat == ENDSINOUT:
        inside = max(0.0, h.quote_above(barrier2) - h.quote_at_least(barrier))
        return inside if ct == "EXPIRYRANGE" else 1 - inside
    stay = h.stays_between(barrier, barrier2)
    return stay if ct == "RANGE" else 1 - stay


def horizon_ticks(terms: Terms, spec: SymbolSpec, now: float) -> float:
    """Model ticks from now to the exit of a new contract (its entry is the next tick)."""
    if terms.ticks is not None:
        steps = terms.settle_tick - 1
        # A fixed level is also exposed to the move from now to the entry tick.
        if terms.barrier_kind == "absolute" or terms.category == DIGITS:
            steps += 1
        return float(steps)
    return max(0.0, (terms.expiry(now) - now) / spec.interval)


def _bid_is_zero(terms: Terms) -> bool:
    return terms.category == HIGHLOWTICKS


@dataclass(frozen=True)
class Priced:
    ask_price: float
    payout: float
    probability: float
    barrier: str | None
    barrier2: str | None = None


def price(terms: Terms, spec: SymbolSpec, spot: float, now: float) -> Priced:
    """Price a new contract at ``spot``; raises ``ContractBuyValidationError`` when it may not be
    bought (limits, no return, barrier out of range)."""
    barrier = terms.barrier_price(spot)
    barrier2 = terms.barrier2_price(spot)
    if terms.barrier is not None and terms.barrier.kind == "absolute":
        level = terms.barrier.value
        if not 0.25 * spot <= level <= 2.5 * spot:
            raise invalid("Barrier is out of acceptable range.", field="barrier")
    if terms.category == TOUCH and barrier is not None and spec.fmt(barrier) == spec.fmt(spot):
        raise invalid("Barrier must be at least 1 pips away from the spot.", field="barrier")
    two_absolute = terms.barrier is not None and terms.barrier.kind == "absolute"
    if barrier2 is not None and barrier is not None and two_absolute:  # noqa: SIM102
        if not barrier2 < spot < barrier:
            raise invalid("Barriers must be on either side of the spot.", field="barrier")
    p = win_probability(terms, spec, spot, barrier, horizon_ticks(terms, spec, now), barrier2)
    c = commission_rate(terms)
    ask_prob = max(p + c, MIN_ASK_PROBABILITY)
    if terms.basis == "stake":
        stake = terms.amount
        payout = stake / ask_prob
        if payout * c < MIN_COMMISSION_AMOUNT and p > 0:  # the minimum commission per contract
            payout = min(payout, (stake - MIN_COMMISSION_AMOUNT) / p)
        payout = round(payout, 2)
    else:
        payout = terms.amount
        stake = round(max(payout * ask_prob, payout * p + MIN_COMMISSION_AMOUNT), 2)
    max_payout = MAX_PAYOUT_BY_CATEGORY.get(terms.category, MAX_PAYOUT)
    limits = f"Minimum stake of {MIN_STAKE:.2f} and maximum payout of {max_payout:.2f}."
    if stake < MIN_STAKE:
        raise invalid(f"{limits} Current stake is {stake:.2f}.", field="amount")
    if payout > max_payout:
        raise invalid(f"{limits} Current payout is {payout:.2f}.", field="amount")
    if payout <= stake:
        raise invalid("This contract offers no return.", field="amount")
    shown = None
    if terms.barrier is not None and terms.barrier.kind == "digit":
        shown = terms.barrier.raw
    elif barrier is not None and terms.barrier is not None:
        shown = spec.fmt(barrier)
    shown2 = spec.fmt(barrier2) if barrier2 is not None else None
    return Priced(stake, payout, p, shown, shown2)


def bid_probability(p_now: float, terms: Terms) -> float:
    if _bid_is_zero(terms):
        return 0.0
    return min(1.0, max(0.0, p_now - commission_rate(terms)))


# -- text -----------------------------------------------------------------------------------------
def duration_text(terms: Terms) -> str:
    if terms.date_expiry is not None:
        return f"{terms.duration} second{'s' if terms.duration != 1 else ''}"
    word = UNIT_WORDS[terms.duration_unit]
    return f"{terms.duration} {word}{'s' if terms.duration != 1 else ''}"


def _target(barrier: Barrier | None, spec: SymbolSpec) -> str:
    if barrier is None or (barrier.kind == "relative" and barrier.value == 0):
        return "entry spot"
    if barrier.kind == "relative":
        off = barrier.value
        return f"entry spot {'plus' if off >= 0 else 'minus'} {spec.fmt(abs(off))}"
    return spec.fmt(barrier.value)


def longcode(terms: Terms, spec: SymbolSpec) -> str:
    name, dur, ct = spec.display_name, duration_text(terms), terms.contract_type
    cat = terms.category
    raw = terms.barrier.raw if terms.barrier is not None else ""
    if cat == DIGITS:
        what = {
            "DIGITMATCH": f"is {raw}",
            "DIGITDIFF": f"is not {raw}",
            "DIGITOVER": f"is strictly higher than {raw}",
            "DIGITUNDER": f"is strictly lower than {raw}",
            "DIGITEVEN": "is even",
            "DIGITODD": "is odd",
        }[ct]
        return f"Win payout if the last digit of {name} {what} after {dur}."
    if cat == ASIAN:
        rel = "higher" if ct == "ASIANU" else "lower"
        return (
            f"Win payout if the last tick of {name} is strictly {rel} than the average of the "
            f"{terms.duration} ticks."
        )
    if cat == HIGHLOWTICKS:
        rel = "highest" if ct == "TICKHIGH" else "lowest"
        return f"Win payout if tick {terms.selected_tick} of {name} is the {rel} among all 5 ticks."
    if cat == RUNS:
        rel = "higher" if ct == "RUNHIGH" else "lower"
        return (
            f"Win payout if {name} ticks {terms.duration} times in a row, each strictly {rel} "
            "than the previous one, after the entry spot."
        )
    target = _target(terms.barrier, spec)
    if cat in (CALLPUT, CALLPUTEQUAL):
        rel = "higher" if ct in ("CALL", "CALLE") else "lower"
        strict = "" if cat == CALLPUTEQUAL else "strictly "
        equal = " or equal to" if cat == CALLPUTEQUAL else ""
        return f"Win payout if {name} after {dur} is {strict}{rel} than{equal} {target}."
    if cat == TOUCH:
        verb = "touches" if ct == "ONETOUCH" else "does not touch"
        return f"Win payout if {name} {verb} {target} through {dur} after contract start time."
    low = _target(terms.barrier2, spec)
    if ct == "EXPIRYRANGE":
        return f"Win payout if {name} ends strictly between {low} to {target} at {dur}."
    if ct == "EXPIRYMISS":
        return f"Win payout if {name} ends outside {low} to {target} at {dur}."
    if ct == "RANGE":
        return f"Win payout if {name} stays between {low} to {target} through {dur}."
    return f"Win payout if {name} goes outside {low} to {target} through {dur}."


def _barrier_code(barrier: Barrier | None, spec: SymbolSpec) -> str:
    if barrier is None:
        return "S0P"
    if barrier.kind == "relative":
        return f"S{round(barrier.value * 10**spec.pip_size)}P"
    return barrier.raw


def shortcode(terms: Terms, spec: SymbolSpec, payout: float, start: int) -> str:
    parts = [terms.contract_type, spec.symbol.upper(), f"{payout:g}", str(start)]
    if terms.ticks is not None:
        parts.append(f"{terms.duration}T")
    else:
        parts.append(str(terms.expiry(start)))
    parts.append(_barrier_code(terms.barrier, spec))
    parts.append(_barrier_code(terms.barrier2, spec) if terms.barrier2 is not None else "0")
    if terms.selected_tick is not None:
        parts.append(str(terms.selected_tick))
    return "_".join(parts)


def not_offered(spec: SymbolSpec) -> ApiError:
    return offerings(NOT_OFFERED_ASSET, "symbol")
