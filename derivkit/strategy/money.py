"""Money management: how the stake of the next contract follows the results of the last ones.

Each rule is a small synchronous state machine: :attr:`StakeRule.stake` is the stake of the next
contract, :meth:`StakeRule.settle` moves it after a settlement. The rules and their parameters
follow the quick strategies traders know from Deriv's bot builder:

==================  =================================================================
rule                after a win / after a loss
==================  =================================================================
martingale          back to the initial stake / stake x ``multiplier``
reverse-martingale  stake x ``multiplier`` / back to the initial stake
dalembert           ``unit`` initial stakes less (never below the initial) / ``unit`` more
reverse-dalembert   ``unit`` more / ``unit`` less (never below the initial)
oscars-grind        sessions aiming at one initial stake of profit: +1 unit after a win that
                    follows a loss, never more than the session still needs / unchanged
1-3-2-6             the next step of 1, 3, 2, 6 initial stakes, then a new cycle / step 1
==================  =================================================================

``max_stake`` (optional, every rule): when the next stake would exceed it, the rule starts over at
the initial stake, as Deriv's bot builder does. Stakes are rounded to cents.

Not thread-safe; one engine drives one rule.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from typing import Any, ClassVar

from derivkit.core.exceptions import UsageError

__all__ = [
    "RULES",
    "DAlembert",
    "Flat",
    "Martingale",
    "OneThreeTwoSix",
    "OscarsGrind",
    "ReverseDAlembert",
    "ReverseMartingale",
    "StakeRule",
    "make_rule",
]


def _cents(value: float) -> float:
    return round(value + 1e-9, 2)


def _positive(name: str, value: float) -> float:
    if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
        raise UsageError(f"{name} must be a positive number, got {value!r}")
    return float(value)


class StakeRule(ABC):
    """The stake of the next contract, moved by each settlement.

    Args:
        initial_stake: the first stake, and where the rule starts over.
        max_stake: start over when the next stake would be above this (None: no cap).
    """

    name: ClassVar[str]
    #: The rule's own parameters (beyond initial_stake and max_stake) and their defaults.
    PARAMS: ClassVar[dict[str, float]] = {}

    def __init__(self, initial_stake: float, *, max_stake: float | None = None) -> None:
        self.initial_stake = _positive("initial stake", initial_stake)
        self.max_stake = None if max_stake is None else _positive("max stake", max_stake)
        if self.max_stake is not None and self.max_stake < self.initial_stake:
            raise UsageError(
                f"max stake {self.max_stake:g} is below the initial stake {self.initial_stake:g}"
            )
        self.stake = self.initial_stake
        self.restarts = 0

    def __repr__(self) -> str:
        return f"<{type(self).__name__} stake={self.stake:g} initial={self.initial_stake:g}>"

    def settle(self, won: bool, stake: float, profit: float) -> None:
        """Record one settled contract (its stake and profit) and move the next stake."""
        self._advance(won, stake, profit)
        self.stake = _cents(self.stake)
        if self.max_stake is not None and self.stake > self.max_stake + 1e-9:
            self.restart()
            self.restarts += 1

    def restart(self) -> None:
        """Back to the initial stake and the start of any cycle."""
        self.stake = self.initial_stake

    @abstractmethod
    def _advance(self, won: bool, stake: float, profit: float) -> None: ...


class Flat(StakeRule):
    """The same stake every time."""

    name = "flat"

    def _advance(self, won: bool, stake: float, profit: float) -> None:
        return None


class Martingale(StakeRule):
    """Multiply the stake after a loss; back to the initial stake after a win."""

    name = "martingale"
    PARAMS: ClassVar[dict[str, float]] = {"multiplier": 2.0}

    def __init__(
        self, initial_stake: float, *, multiplier: float = 2.0, max_stake: float | None = None
    ) -> None:
        super().__init__(initial_stake, max_stake=max_stake)
        if not _positive("multiplier", multiplier) > 1:
            raise UsageError(f"the martingale multiplier must be above 1, got {multiplier:g}")
        self.multiplier = float(multiplier)

    def _advance(self, won: bool, stake: float, profit: float) -> None:
        self.stake = self.initial_stake if won else self.stake * self.multiplier


class ReverseMartingale(Martingale):
    """Multiply the stake after a win; back to the initial stake after a loss."""

    name = "reverse-martingale"

    def _advance(self, won: bool, stake: float, profit: float) -> None:
        self.stake = self.stake * self.multiplier if won else self.initial_stake


class DAlembert(StakeRule):
    """``unit`` initial stakes more after a loss, ``unit`` less after a win (floor: initial)."""

    name = "dalembert"
    PARAMS: ClassVar[dict[str, float]] = {"unit": 1.0}

    def __init__(
        self, initial_stake: float, *, unit: float = 1.0, max_stake: float | None = None
    ) -> None:
        super().__init__(initial_stake, max_stake=max_stake)
        self.unit = _positive("unit", unit)

    @property
    def step(self) -> float:
        return self.unit * self.initial_stake

    def _advance(self, won: bool, stake: float, profit: float) -> None:
        if won:
            self.stake = max(self.initial_stake, self.stake - self.step)
        else:
            self.stake += self.step


class ReverseDAlembert(DAlembert):
    """``unit`` initial stakes more after a win, ``unit`` less after a loss (floor: initial)."""

    name = "reverse-dalembert"

    def _advance(self, won: bool, stake: float, profit: float) -> None:
        if won:
            self.stake += self.step
        else:
            self.stake = max(self.initial_stake, self.stake - self.step)


class OscarsGrind(StakeRule):
    """Sessions that each aim at one unit (the initial stake) of profit.

    Within a session the stake grows by one unit only after a win that follows a loss, and never
    beyond what a win would need to reach the session's target (at the payout ratio of the last
    win; even money before any win), nor below one unit. A session that reaches its target ends;
    the next one starts at one unit.
    """

    name = "oscars-grind"

    def __init__(self, initial_stake: float, *, max_stake: float | None = None) -> None:
        super().__init__(initial_stake, max_stake=max_stake)
        self.session_profit = 0.0
        self.sessions = 0
        self._last_won: bool | None = None
        self._win_ratio = 1.0

    def restart(self) -> None:
        super().restart()
        self.session_profit = 0.0
        self._last_won = None

    def _advance(self, won: bool, stake: float, profit: float) -> None:
        unit = self.initial_stake
        self.session_profit += profit
        if won and stake > 0 and profit > 0:
            self._win_ratio = profit / stake
        if self.session_profit >= unit - 1e-9:
            self.sessions += 1
            self.restart()
            return
        if won and self._last_won is False:
            self.stake += unit
        self._last_won = won
        needed = (unit - self.session_profit) / self._win_ratio
        self.stake = max(unit, min(self.stake, math.ceil(needed * 100 - 1e-6) / 100))


class OneThreeTwoSix(StakeRule):
    """1, 3, 2 and 6 initial stakes after successive wins; a loss or a full cycle starts over."""

    name = "1-3-2-6"
    STEPS: ClassVar[tuple[int, ...]] = (1, 3, 2, 6)

    def __init__(self, initial_stake: float, *, max_stake: float | None = None) -> None:
        super().__init__(initial_stake, max_stake=max_stake)
        self.step_index = 0

    def restart(self) -> None:
        super().restart()
        self.step_index = 0

    def _advance(self, won: bool, stake: float, profit: float) -> None:
        self.step_index = (self.step_index + 1) % len(self.STEPS) if won else 0
        self.stake = self.STEPS[self.step_index] * self.initial_stake


RULES: dict[str, type[StakeRule]] = {
    rule.name: rule
    for rule in (
        Flat,
        Martingale,
        ReverseMartingale,
        DAlembert,
        ReverseDAlembert,
        OscarsGrind,
        OneThreeTwoSix,
    )
}


def make_rule(
    name: str, initial_stake: float, *, max_stake: float | None = None, **params: Any
) -> StakeRule:
    """A rule by its name (see :data:`RULES`), with its own parameters checked."""
    try:
        rule = RULES[name]
    except KeyError:
        raise UsageError(f"unknown money management {name!r}; known: {', '.join(RULES)}") from None
    unknown = set(params) - set(rule.PARAMS)
    if unknown:
        allowed = ", ".join(rule.PARAMS) or "none"
        raise UsageError(
            f"{name} takes no parameter {', '.join(sorted(unknown))} (its own: {allowed})"
        )
    return rule(initial_stake, max_stake=max_stake, **params)
