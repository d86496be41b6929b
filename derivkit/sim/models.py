"""Synthetic-index price processes (protocol doc §5.2).

Every model is a pure function of ``(price, rng)``: ``step`` moves one tick forward and also says
whether a rare event (crash/boom spike, jump) happened; ``step_back`` draws the previous tick from
the same per-tick distribution (used to build history before the simulator's start).
``tick_log_sd`` and ``tick_log_mean`` describe one tick's log-return for the pricer. Models hold no
mutable state.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from statistics import NormalDist

SECONDS_PER_YEAR = 365 * 24 * 3600
_N = NormalDist()


def year_fraction(seconds: float) -> float:
    """``seconds`` as a fraction of a 365-day year (the models' ``dt``)."""
    return seconds / SECONDS_PER_YEAR


class PriceModel:
    """Base class; subclasses override the four methods."""

    interval: int = 1

    def step(self, price: float, rng: random.Random) -> tuple[float, bool]:
        raise NotImplementedError

    def step_back(self, price: float, rng: random.Random) -> float:
        raise NotImplementedError

    def tick_log_sd(self, price: float) -> float:
        raise NotImplementedError

    def tick_log_mean(self, price: float) -> float:
        return -0.5 * self.tick_log_sd(price) ** 2


class MultiplicativeModel(PriceModel):
    """A model whose tick multiplies the price by a random factor (``_factor``)."""

    def _factor(self, rng: random.Random) -> tuple[float, bool]:
        raise NotImplementedError

    def step(self, price: float, rng: random.Random) -> tuple[float, bool]:
        factor, event = self._factor(rng)
        return price * factor, event

    def step_back(self, price: float, rng: random.Random) -> float:
        return price / self._factor(rng)[0]


@dataclass(frozen=True)
class GBM(MultiplicativeModel):
    """``S_t = S_{t-1} exp((mu - sigma^2/2) dt + sigma sqrt(dt) Z)``; ``mu = 0`` for volatility."""

    sigma: float
    interval: int = 2
    drift: float = 0.0
    _m: float = field(init=False, repr=False)
    _s: float = field(init=False, repr=False)

    def __post_init__(self) -> None:
        dt = year_fraction(self.interval)
        object.__setattr__(self, "_m", (self.drift - self.sigma**2 / 2) * dt)
        object.__setattr__(self, "_s", self.sigma * math.sqrt(dt))

    def _factor(self, rng: random.Random) -> tuple[float, bool]:
        return math.exp(self._m + self._s * rng.gauss(0.0, 1.0)), False

    def tick_log_sd(self, price: float) -> float:
        return self._s

    def tick_log_mean(self, price: float) -> float:
        return self._m


@dataclass(frozen=True)
class Jump(MultiplicativeModel):
    """GBM plus Poisson jumps: ``lam`` a day, ``J`` times the normal move, mean-preserving."""

    sigma: float
    interval: int = 1
    lam_per_day: float = 72.0
    jump_factor: float = 30.0

    @property
    def jump_probability(self) -> float:
        x = self.lam_per_day / 86400 * self.interval
        return x * math.exp(-x)

    def _parts(self) -> tuple[float, float, float]:
        dt = year_fraction(self.interval)
        s = self.sigma * math.sqrt(dt)
        mu = -(self.jump_factor**2) * self.sigma**2 / 2
        return s, -(self.sigma**2) / 2 * dt, (mu - self.sigma**2 / 2) * dt

    def _factor(self, rng: random.Random) -> tuple[float, bool]:
        s, m_plain, m_jump = self._parts()
        if rng.random() < self.jump_probability:
            z1, z2 = rng.gauss(0.0, 1.0), rng.gauss(0.0, 1.0)
            return math.exp(m_jump + s * z1 + self.jump_factor * s * z2), True
        return math.exp(m_plain + s * rng.gauss(0.0, 1.0)), False

    def tick_log_sd(self, price: float) -> float:
        s = self._parts()[0]
        return s * math.sqrt(1 + self.jump_probability * self.jump_factor**2)


@dataclass(frozen=True)
class Step(PriceModel):
    """``S_t = S_{t-1} +/- size`` with probability 1/2 each (up iff ``U > 0.5``)."""

    size: float = 0.1
    decimals: int = 1
    interval: int = 1

    def step(self, price: float, rng: random.Random) -> tuple[float, bool]:
        move = self.size if rng.random() > 0.5 else -self.size
        return round(price + move, self.decimals), False

    def step_back(self, price: float, rng: random.Random) -> float:
        return self.step(price, rng)[0]

    def tick_log_sd(self, price: float) -> float:
        return self.size / max(price, self.size)

    def tick_log_mean(self, price: float) -> float:
        return 0.0


def _folded_mgf(c: float) -> float:
    """``E[exp(c |Y|)]`` for ``Y ~ N(1, 1)``."""
    return math.exp(c + c * c / 2) * _N.cdf(1 + c) + math.exp(-c + c * c / 2) * _N.cdf(c - 1)


#: Mean of the folded normal ``|N(1, 1)|``.
FOLDED_MEAN = math.sqrt(2 / math.pi) * math.exp(-0.5) + (1 - 2 * _N.cdf(-1))


@dataclass(frozen=True)
class CrashBoom(MultiplicativeModel):
    """Crash/Boom N: with probability ``1/N`` a spike (down for crash, up for boom), else a small
    move that goes either way.

    Spikes are ``exp(M |N(1,1)| / mu_f sqrt(dt))`` with ``M = ln(0.999)/sqrt(dt)`` (crash) or its
    negative (boom). Between spikes the log-price moves by ``N(m, s^2)``: ``s`` gives the small
    moves as much variance over N ticks as the spikes have (a modelling assumption: Deriv
    publishes no small-move size), and ``m`` is solved so that ``E[S_t / S_{t-1}] = 1`` (no
    long-run drift), which tilts the small moves against the spikes.
    """

    n: int
    boom: bool = False
    interval: int = 1
    _spike: float = field(init=False, repr=False)
    _small_mean: float = field(init=False, repr=False)
    _small_sd: float = field(init=False, repr=False)

    def __post_init__(self) -> None:
        sq = math.sqrt(year_fraction(self.interval))
        spike = math.log(0.999) / sq * (-1 if self.boom else 1)
        p = 1 / self.n
        k = spike * sq / FOLDED_MEAN  # log move of a spike per unit of |N(1, 1)|
        small_sd = math.sqrt(p * 2.0 * k * k)  # E[Y^2] = 2 for Y ~ N(1, 1)
        small_mean = math.log((1 - p * _folded_mgf(k)) / (1 - p)) - small_sd**2 / 2
        object.__setattr__(self, "_spike", k)
        object.__setattr__(self, "_small_mean", small_mean)
        object.__setattr__(self, "_small_sd", small_sd)

    @property
    def spike_probability(self) -> float:
        return 1 / self.n

    def expected_factor(self) -> float:
        """``E[S_t / S_{t-1}]`` (1 by construction)."""
        p = 1 / self.n
        small = math.exp(self._small_mean + self._small_sd**2 / 2)
        return (1 - p) * small + p * _folded_mgf(self._spike)

    def _factor(self, rng: random.Random) -> tuple[float, bool]:
        if rng.random() < 1 / self.n:
            return math.exp(self._spike * abs(rng.gauss(1.0, 1.0))), True
        return math.exp(rng.gauss(self._small_mean, self._small_sd)), False

    def tick_log_sd(self, price: float) -> float:
        p = 1 / self.n
        m, s, k = self._small_mean, self._small_sd, self._spike
        mean = (1 - p) * m + p * k * FOLDED_MEAN
        second = (1 - p) * (s * s + m * m) + p * 2.0 * k * k
        return math.sqrt(max(0.0, second - mean * mean))
