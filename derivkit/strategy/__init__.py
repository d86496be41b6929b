"""derivkit.strategy: automated strategies with money management and stop conditions, run live
(on a Deriv connection or the simulator) or backtested, with the same code.

A strategy subclasses :class:`Strategy` and returns :class:`Trade` decisions from its hooks; the
:class:`Engine` applies the money management (:mod:`derivkit.strategy.money`) and the
:class:`StopConditions`; drivers move the money. See ``derivkit run --help``.
"""

from derivkit.strategy.base import Position, Settlement, Strategy, Tick, Trade, View
from derivkit.strategy.engine import Engine, Order
from derivkit.strategy.loading import BUILTIN, RunPlan, load_plan, parse_params
from derivkit.strategy.money import RULES, StakeRule, make_rule
from derivkit.strategy.results import Results
from derivkit.strategy.stops import StopConditions

__all__ = [
    "BUILTIN",
    "RULES",
    "Engine",
    "Order",
    "Position",
    "Results",
    "RunPlan",
    "Settlement",
    "StakeRule",
    "StopConditions",
    "Strategy",
    "Tick",
    "Trade",
    "View",
    "load_plan",
    "make_rule",
    "parse_params",
]
