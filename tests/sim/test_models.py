"""Statistical checks of the price models and pricer, run directly (no sockets)."""

from __future__ import annotations

import math
import random
import statistics

import pytest

from derivkit.sim.clock import SimClock
from derivkit.sim.feed import Market
from derivkit.sim.models import SECONDS_PER_YEAR, CrashBoom, Jump
from derivkit.sim.pricing import (
    BASE_COMMISSION,
    digit_distribution,
    parse_terms,
    price,
    win_probability,
)
from derivkit.sim.symbols import SYMBOLS

pytestmark = pytest.mark.slow


def _path(symbol: str, n: int, seed: int) -> list[float]:
    spec = SYMBOLS[symbol]
    rng = random.Random(seed)
    s = spec.start_level
    out = [s]
    step = spec.model.step
    for _ in range(n):
        s = step(s, rng)[0]
        out.append(s)
    return out


@pytest.mark.parametrize("symbol", ["R_100", "1HZ100V", "R_10", "1HZ25V"])
def test_realised_volatility_within_3_percent(symbol: str) -> None:
    spec = SYMBOLS[symbol]
    path = _path(symbol, 200_000, seed=11)
    rets = [math.log(b / a) for a, b in zip(path, path[1:], strict=False)]
    vol = statistics.pstdev(rets) * math.sqrt(SECONDS_PER_YEAR / spec.interval)
    nominal = spec.model.sigma  # type: ignore[attr-defined]
    assert abs(vol / nominal - 1) < 0.03, vol


@pytest.mark.parametrize("symbol", ["R_100", "1HZ100V", "R_50", "JD25"])
def test_last_digit_uniform_chi_square(symbol: str) -> None:
    spec = SYMBOLS[symbol]
    path = _path(symbol, 200_000, seed=5)
    counts = [0] * 10
    for p in path:
        counts[int(spec.fmt(p)[-1])] += 1
    expected = len(path) / 10
    chi2 = sum((c - expected) ** 2 / expected for c in counts)
    assert chi2 < 27.88, (chi2, counts)  # chi-square(9) at p = 0.001


@pytest.mark.parametrize(
    ("symbol", "n"), [("CRASH500", 600_000), ("BOOM500", 600_000), ("CRASH1000", 1_100_000)]
)
def test_spike_frequency_within_10_percent(symbol: str, n: int) -> None:
    model = SYMBOLS[symbol].model
    assert isinstance(model, CrashBoom)
    rng = random.Random(3)
    s, spikes, direction_ok = 1000.0, 0, True
    with_spike = against_spike = 0
    small_moves: list[float] = []
    for _ in range(n):
        new, event = model.step(s, rng)
        if event:
            spikes += 1
            direction_ok &= (new > s) == model.boom
        else:
            up = new > s
            with_spike += up == model.boom
            against_spike += up != model.boom
            small_moves.append(abs(math.log(new / s)))
        s = new
    expected = n / model.n
    assert abs(spikes / expected - 1) < 0.10, (spikes, expected)
    assert direction_ok
    # Between spikes the index moves both ways, slightly more often against the spikes.
    share = against_spike / (with_spike + against_spike)
    assert 0.5 < share < 0.6, share
    assert statistics.fmean(small_moves) < 0.2 * abs(model._spike)  # small next to a spike


def test_crash_boom_is_mean_preserving() -> None:
    for symbol in ("CRASH500", "CRASH1000", "BOOM500", "BOOM1000"):
        m = SYMBOLS[symbol].model
        assert isinstance(m, CrashBoom)
        assert m.expected_factor() == pytest.approx(1.0, abs=1e-12)
    # And empirically: the mean factor over many ticks is 1 within its standard error.
    m = SYMBOLS["CRASH500"].model
    rng = random.Random(8)
    factors = [m.step(1.0, rng)[0] for _ in range(400_000)]
    se = statistics.pstdev(factors) / math.sqrt(len(factors))
    assert abs(statistics.fmean(factors) - 1) < 4 * se


def test_jump_frequency_and_size() -> None:
    model = SYMBOLS["JD50"].model
    assert isinstance(model, Jump)
    rng = random.Random(9)
    n = 1_300_000
    jumps, s = 0, 1000.0
    big: list[float] = []
    for _ in range(n):
        new, event = model.step(s, rng)
        if event:
            jumps += 1
            big.append(abs(math.log(new / s)))
        s = new
    per_day = jumps / (n / 86400)
    assert abs(per_day / 72 - 1) < 0.10, per_day
    normal_sd = model.sigma * math.sqrt(1 / SECONDS_PER_YEAR)
    rms = math.sqrt(sum(x * x for x in big) / len(big))
    assert 25 < rms / normal_sd < 35  # ~30x the normal move


def test_step_index_moves_exactly_a_tenth() -> None:
    path = _path("stpRNG", 50_000, seed=1)
    ups = 0
    for a, b in zip(path, path[1:], strict=False):
        d = round(b - a, 6)
        assert d in (0.1, -0.1)
        assert round(b, 1) == b  # stays on the 0.1 grid (no float drift)
        ups += d > 0
    assert abs(ups / 50_000 - 0.5) < 0.01


def test_feed_ticks_on_right_epochs_and_deterministic() -> None:
    clock = SimClock(speed=1.0, start_epoch=1_700_000_001)
    m1 = Market("s", clock, 1_700_000_001)
    m2 = Market("s", SimClock(speed=1.0, start_epoch=1_700_000_001), 1_700_000_001)
    for sym in ("R_100", "1HZ100V", "stpRNG"):
        f1, f2 = m1.feed(sym), m2.feed(sym)
        f1.advance(1_700_000_401)
        f2.advance(1_700_000_201)
        f2.advance(1_700_000_401)
        assert list(f1.epochs) == list(f2.epochs)
        assert list(f1.quotes) == list(f2.quotes)
        iv = SYMBOLS[sym].interval
        assert all(e % iv == 0 for e in f1.epochs)
        assert all(b - a == iv for a, b in zip(f1.epochs, f1.epochs[1:], strict=False))
        assert len(f1.epochs) >= 5000
    step = m1.feed("stpRNG")
    assert all(
        round(abs(b - a), 6) == 0.1 for a, b in zip(step.quotes, step.quotes[1:], strict=False)
    )
    other = Market("other", clock, 1_700_000_001).feed("R_100")
    other.advance(1_700_000_401)
    assert list(other.quotes) != list(m1.feed("R_100").quotes)


def test_candles_consistent_and_synthetic_history() -> None:
    clock = SimClock(speed=1.0, start_epoch=1_700_000_000)
    feed = Market("c", clock, 1_700_000_000).feed("1HZ100V")
    feed.advance(1_700_003_000)
    for g in (60, 3600, 86400):
        candles = feed.candles(g, 0, 1_700_003_000, 5000)
        assert len(candles) == 5000
        epochs = [c["epoch"] for c in candles]
        assert epochs == sorted(epochs) and all(e % g == 0 for e in epochs)
        for c in candles:
            assert c["low"] <= min(c["open"], c["close"]) <= max(c["open"], c["close"]) <= c["high"]
        again = feed.candles(g, 0, 1_700_003_000, 5000)
        assert again[:-1] == candles[:-1]
    # Candles covered by ticks are built from the ticks.
    c = feed.candles(60, 1_699_999_980, 1_700_000_159, 3)[-1]
    times, prices = feed.ticks(c["epoch"], c["epoch"] + 59, 100)
    assert c["open"] == prices[0] and c["close"] == prices[-1]
    assert c["high"] == max(prices) and c["low"] == min(prices)


def test_pricing_matches_model() -> None:
    spec = SYMBOLS["R_100"]
    params = {
        "contract_type": "CALL",
        "symbol": "R_100",
        "amount": 10,
        "basis": "stake",
        "duration": 5,
        "duration_unit": "t",
        "currency": "USD",
    }
    terms = parse_terms(params, spec, 0.0, "USD")
    q = price(terms, spec, 1000.0, 0.0)
    assert q.probability == pytest.approx(0.5, abs=0.01)
    assert q.payout == pytest.approx(10 / (q.probability + BASE_COMMISSION), abs=0.01)
    # Monte Carlo check of a Higher contract with a relative barrier.
    params2 = {**params, "barrier": "+0.5"}
    terms2 = parse_terms(params2, spec, 0.0, "USD")
    p = win_probability(terms2, spec, 1000.0, 1000.5, 5)
    rng = random.Random(1)
    wins = 0
    trials = 20_000
    for _ in range(trials):
        s = 1000.0
        for _ in range(5):
            s = spec.model.step(s, rng)[0]
        wins += round(s, spec.pip_size) > 1000.5  # settled on the quote, rounded to the pip
    assert wins / trials == pytest.approx(p, abs=0.015)


def test_digit_distributions_exact() -> None:
    step = SYMBOLS["stpRNG"]
    dist = digit_distribution(step.model, 8000.3, 1, 1)
    assert dist[2] == pytest.approx(0.5) and dist[4] == pytest.approx(0.5)
    dist = digit_distribution(step.model, 8000.3, 1, 2)
    assert dist[1] == pytest.approx(0.25) and dist[3] == pytest.approx(0.5)
    r100 = SYMBOLS["R_100"]
    assert digit_distribution(r100.model, 1417.0, 2, 5) == [0.1] * 10
    low = digit_distribution(SYMBOLS["1HZ10V"].model, 100.0, 2, 1)  # narrow: not uniform
    assert sum(low) == pytest.approx(1.0)
    assert max(low) > 0.1
