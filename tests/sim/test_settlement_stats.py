"""Statistics of settlement: buying at the simulator's prices and settling on its own model's
paths, a fair strategy loses exactly the stated commission on average, within a confidence bound.

The contracts are the simulator's own (opened, fed ticks and settled by their classes), on paths
drawn from the symbol's model: no sockets and no clock, so thousands of contracts take seconds.
Each test states the expected mean of (payoff - price) and accepts it within 4 standard errors.
"""

from __future__ import annotations

import math
import random
import statistics
from collections.abc import Callable

import pytest

from derivkit.sim.models import SECONDS_PER_YEAR
from derivkit.sim.pricing import win_probability
from derivkit.sim.products import multiplier, turbos, vanilla
from derivkit.sim.products.base import Contract
from derivkit.sim.symbols import SYMBOLS

from .products import NOW, open_contract, parse

pytestmark = pytest.mark.slow


def settle(
    make: Callable[[float], Contract], symbol: str, trials: int, seed: int, max_ticks: int = 400
) -> list[Contract]:
    """Buy ``trials`` contracts (each at a fresh start level) and run each on its own path until
    it closes (or ``max_ticks``)."""
    spec = SYMBOLS[symbol]
    rng = random.Random(seed)
    step = spec.model.step
    out = []
    for _ in range(trials):
        spot = round(spec.start_level * math.exp(0.02 * rng.gauss(0, 1)), spec.pip_size)
        contract = make(spot)
        epoch = int(NOW)
        s = spot
        for _ in range(max_ticks):
            epoch += spec.interval
            s = step(s, rng)[0]
            if contract.on_tick(epoch, round(s, spec.pip_size)):
                break
        out.append(contract)
    return out


def within(
    values: list[float], expected: float, control: list[float] | None = None, k: float = 4.0
) -> None:
    """The mean of ``values`` is ``expected`` within ``k`` standard errors. ``control`` is a
    variable of known mean 0 (the price move: the index is a martingale) used as a control
    variate to shrink the standard error without changing the mean."""
    if control is not None:
        beta = statistics.covariance(values, control) / statistics.variance(control)
        values = [v - beta * x for v, x in zip(values, control, strict=True)]
    mean = statistics.fmean(values)
    se = statistics.stdev(values) / math.sqrt(len(values))
    assert abs(mean - expected) < k * se, (mean, expected, se)


def test_digits_lose_the_one_percent_commission() -> None:
    def make(spot: float) -> Contract:
        return open_contract(
            "DIGITMATCH",
            "R_100",
            spot,
            amount=10,
            basis="payout",
            duration=1,
            duration_unit="t",
            barrier="7",
        )[0]

    contracts = settle(make, "R_100", 40_000, seed=1)
    assert all(c.exit == c.entry for c in contracts)  # 1-tick digits settle on the entry tick
    within([(c.sell_price - c.buy_price) / c.payout for c in contracts], -0.01)


def test_rise_fall_loses_the_base_commission_ties_included() -> None:
    """R_100 5-tick Rise: the loss is 1.2 % of payout (ties, exit == entry, lose and are priced
    in; ``test_ties_are_priced_exactly_on_the_step_index`` checks that part exactly)."""

    def make(spot: float) -> Contract:
        return open_contract(
            "CALL", "R_100", spot, amount=10, basis="payout", duration=5, duration_unit="t"
        )[0]

    contracts = settle(make, "R_100", 30_000, seed=2)
    ties = sum(c.exit[1] == c.entry[1] for c in contracts) / len(contracts)
    assert ties > 0.003  # ties are common enough to matter next to the commission
    moves = [(c.exit[1] - c.entry[1]) / c.entry[1] for c in contracts]
    within([(c.sell_price - c.buy_price) / c.payout for c in contracts], -0.012, moves)


def test_multiplier_held_then_sold_loses_its_commission() -> None:
    """x10 on R_100 held 60 ticks then sold: the expected PnL is minus the commission."""
    hold = 60

    def make(spot: float) -> Contract:
        return open_contract("MULTUP", "R_100", spot, amount=100, multiplier=10)[0]

    contracts = settle(make, "R_100", 3_000, seed=3, max_ticks=hold + 1)
    pnl = []
    for c in contracts:
        assert not c.is_sold  # no order was reached
        pnl.append(c.bid_price(NOW + 1000) - c.buy_price)
    c = multiplier.config(SYMBOLS["R_100"]).commission
    within(pnl, -round(c * 100 * 10, 2))


def test_accumulator_sold_after_ten_ticks_loses_the_house_edge() -> None:
    """Growth 1 %, knock-out probability 1.5 % a tick: sold after 10 ticks, the value is worth
    ((1 + g)(1 - p))^10 of the stake on average."""
    sell_after = 10

    def make(spot: float) -> Contract:
        return open_contract("ACCU", "1HZ100V", spot, amount=10, growth_rate=0.01)[0]

    contracts = settle(make, "1HZ100V", 12_000, seed=4, max_ticks=sell_after + 1)
    values = [c.sell_price if c.is_sold else c.bid_price(NOW) for c in contracts]
    assert any(c.status == "lost" for c in contracts)
    within([v / 10 for v in values], (1.01 * (1 - 0.015)) ** sell_after)


def test_turbos_lose_the_spread() -> None:
    """5-tick Turbos Long at the nearest barrier: the expected payoff is n (S0 - B), so the
    buyer loses n S0 c, the spread of the entry price."""
    spec = SYMBOLS["R_100"]
    c_spread = turbos.spread(spec)
    losses, expected = [], []

    def make(spot: float) -> Contract:
        choice = turbos.barrier_choices(spec, spot, "TURBOSLONG")[0]
        return open_contract(
            "TURBOSLONG", "R_100", spot, amount=10, barrier=choice, duration=5, duration_unit="t"
        )[0]

    for c in settle(make, "R_100", 6_000, seed=5):
        assert c.is_sold
        losses.append(c.sell_price - c.buy_price)
        expected.append(-c.n * c.entry[1] * c_spread)
    within(losses, statistics.fmean(expected))


def test_vanillas_lose_the_volatility_markup() -> None:
    """1-minute at-the-money call on R_100: the payoff is worth n BS(sigma) on average, so the
    buyer loses n (BS(1.025 sigma) - BS(sigma))."""
    spec = SYMBOLS["R_100"]
    years = 60 / SECONDS_PER_YEAR
    losses, expected, moves = [], [], []

    def make(spot: float) -> Contract:
        return open_contract(
            "VANILLALONGCALL",
            "R_100",
            spot,
            amount=10,
            barrier="+0.00",
            duration=1,
            duration_unit="m",
        )[0]

    for c in settle(make, "R_100", 20_000, seed=6):
        assert c.is_sold and c.entry is not None and c.exit is not None
        s0 = c.entry[1]
        fair = vanilla.black_scholes(True, s0, c.strike, years, spec.sigma)
        losses.append(c.sell_price - c.buy_price)
        expected.append(c.n * fair - c.buy_price)
        moves.append(c.n * (c.exit[1] - s0))
    mean_expected = statistics.fmean(expected)
    assert mean_expected < -0.2  # the markup is a real cost: about 2.5 % of the stake
    within(losses, mean_expected, moves)


def test_ties_are_priced_exactly_on_the_step_index() -> None:
    """On the step index a 2-tick Rise wins only up-up (1/4): up-down ends on the entry spot and
    loses. Rise Equal wins three times in four."""
    spec = SYMBOLS["stpRNG"]
    rise = parse("CALL", "stpRNG", amount=10, basis="stake", duration=2, duration_unit="t")
    equal = parse("CALLE", "stpRNG", amount=10, basis="stake", duration=2, duration_unit="t")
    assert win_probability(rise, spec, 8000.0, 8000.0, 2) == pytest.approx(0.25)
    assert win_probability(equal, spec, 8000.0, 8000.0, 2) == pytest.approx(0.75)
