"""From what a user types (``martingale``, ``./my_strategy.py``, ``--param k=v``) to a ready run:
a strategy, its money management and its stop conditions.

Parameters are shared out by name: the run's own (``stake``, ``max_stake``, the stop conditions),
the money management's (``multiplier``, ``unit``), then the strategy's ``PARAMS``. Each value is
converted to its default's type; an unknown name is an error that lists the known ones.
"""

from __future__ import annotations

import importlib.util
import inspect
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from derivkit.core.exceptions import UsageError
from derivkit.strategy.base import Strategy, Trade, View
from derivkit.strategy.money import RULES, StakeRule, make_rule
from derivkit.strategy.stops import StopConditions

__all__ = ["BUILTIN", "QuickStrategy", "RunPlan", "load_plan", "parse_params"]

#: The run's own parameters and their defaults (None: off).
RUN_PARAMS: dict[str, Any] = {
    "stake": 1.0,
    "max_stake": None,
    "take_profit": None,
    "loss_threshold": None,
    "max_runs": None,
    "max_consecutive_losses": None,
    "daily_loss": None,
}
_RUN_TYPES: dict[str, type] = {
    "stake": float,
    "max_stake": float,
    "take_profit": float,
    "loss_threshold": float,
    "max_runs": int,
    "max_consecutive_losses": int,
    "daily_loss": float,
}


class QuickStrategy(Strategy):
    """Buy the same contract again and again; the money management does the rest (the quick
    strategies of Deriv's bot builder)."""

    name = "quick"
    money: ClassVar[str] = "flat"
    PARAMS: ClassVar[dict[str, Any]] = {
        "contract_type": "CALL",
        "duration": 1,
        "duration_unit": "t",
        "barrier": "",
    }

    def before_purchase(self, view: View) -> Trade | None:
        params = view.params
        return Trade(
            contract_type=str(params["contract_type"]).upper(),
            duration=int(params["duration"]),
            duration_unit=str(params["duration_unit"]),
            barrier=str(params["barrier"]) or None,
        )


def _quick(rule: str) -> type[QuickStrategy]:
    return type(
        f"Quick_{rule.replace('-', '_')}",
        (QuickStrategy,),
        {"name": rule, "money": rule, "__doc__": f"{QuickStrategy.__doc__} Money: {rule}."},
    )


#: Built-in strategies by name: one quick strategy per money-management rule.
BUILTIN: dict[str, type[Strategy]] = {name: _quick(name) for name in RULES}


@dataclass
class RunPlan:
    """Everything a driver needs to run a strategy."""

    strategy: Strategy
    rule: StakeRule
    stops: StopConditions
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.strategy.name


def parse_params(pairs: list[str]) -> dict[str, str]:
    """``["k=v", ...]`` as a dict; a pair without ``=`` is a UsageError."""
    params: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"--param takes name=value, got {pair!r}")
        params[key.strip().replace("-", "_")] = value.strip()
    return params


def _convert(name: str, value: Any, kind: type) -> Any:
    if not isinstance(value, str):
        return value
    try:
        if kind is bool:
            return value.lower() in {"1", "true", "yes", "on"}
        return kind(value)
    except ValueError:
        raise UsageError(f"parameter {name} must be a {kind.__name__}, got {value!r}") from None


def _strategy_class(source: str) -> type[Strategy]:
    if source in BUILTIN:
        return BUILTIN[source]
    path = Path(source)
    if path.suffix != ".py":
        raise UsageError(
            f"unknown strategy {source!r}: use a built-in one ({', '.join(BUILTIN)}) "
            "or a path to a .py file"
        )
    if not path.is_file():
        raise UsageError(f"no strategy file at {path}")
    spec = importlib.util.spec_from_file_location(f"derivkit_user_strategy_{path.stem}", path)
    if spec is None or spec.loader is None:
        raise UsageError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    found = [
        value
        for value in vars(module).values()
        if inspect.isclass(value)
        and issubclass(value, Strategy)
        and value.__module__ == module.__name__
    ]
    if len(found) != 1:
        raise UsageError(f"{path} must define exactly one Strategy subclass (found {len(found)})")
    return found[0]


def load_plan(source: str, params: Mapping[str, Any] | None = None) -> RunPlan:
    """A strategy by built-in name or file, with its money management and stops from ``params``."""
    given = dict(params or {})
    cls = _strategy_class(source)
    money = str(given.pop("money", getattr(cls, "money", "flat")))
    rule_class = RULES.get(money)
    if rule_class is None:
        raise UsageError(f"unknown money management {money!r}; known: {', '.join(RULES)}")
    known = {**RUN_PARAMS, **rule_class.PARAMS, **cls.PARAMS}
    unknown = sorted(set(given) - set(known))
    if unknown:
        raise UsageError(
            f"unknown parameter(s) {', '.join(unknown)}; {cls.name} takes: "
            f"{', '.join(sorted(known))}"
        )
    run = {
        key: _convert(key, given.get(key, default), _RUN_TYPES[key]) if key in given else default
        for key, default in RUN_PARAMS.items()
    }
    rule_params = {
        key: _convert(key, given[key], type(default))
        for key, default in rule_class.PARAMS.items()
        if key in given
    }
    strategy_params = {
        key: _convert(key, given[key], type(default)) if key in given else default
        for key, default in cls.PARAMS.items()
    }
    rule = make_rule(money, run["stake"], max_stake=run["max_stake"], **rule_params)
    stops = StopConditions(
        take_profit=run["take_profit"],
        loss_threshold=run["loss_threshold"],
        max_runs=run["max_runs"],
        max_consecutive_losses=run["max_consecutive_losses"],
        daily_loss=run["daily_loss"],
    )
    return RunPlan(cls(), rule, stops, {**run, **rule_params, **strategy_params, "money": money})
