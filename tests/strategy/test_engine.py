"""The decision engine: stop conditions before every buy, one order at a time, nothing decided on
an unknown outcome, and stopping that waits for open contracts."""

from __future__ import annotations

import pytest

from derivkit.core import UsageError
from derivkit.strategy import Engine, StopConditions, Strategy, Tick, Trade, View, load_plan
from derivkit.strategy.money import make_rule

DAY = 86_400
START = 20 * 365 * DAY  # a midnight, UTC


class Always(Strategy):
    name = "always"

    def __init__(self) -> None:
        self.events: list[str] = []

    def on_start(self, view: View) -> None:
        self.events.append("start")

    def before_purchase(self, view: View) -> Trade | None:
        return Trade("CALL")

    def on_stop(self, view: View, reason: str) -> None:
        self.events.append(f"stop: {reason}")


def engine(stops: StopConditions | None = None, rule: str = "flat", **kw) -> Engine:
    made = Engine(Always(), make_rule(rule, 1), stops or StopConditions(), symbol="R_100", **kw)
    made.start(START)
    return made


def tick(n: int) -> Tick:
    return Tick(START + 2 * n, 1000.0 + n, 2)


def run_one(e: Engine, n: int, won: bool) -> None:
    """A tick, the buy it asks for, and its settlement."""
    order = e.on_tick(tick(n))
    assert order is not None
    e.bought(order, contract_id=n, buy_price=order.stake)
    e.settled(n, sell_price=round(order.stake * 1.95, 2) if won else 0.0, epoch=START + 2 * n + 1)


def test_one_order_at_a_time_and_no_buy_while_a_contract_is_open():
    e = engine()
    order = e.on_tick(tick(0))
    assert order is not None and order.stake == 1
    assert e.on_tick(tick(1)) is None  # in flight
    e.bought(order, 7, 1.0)
    assert e.on_tick(tick(2)) is None  # open
    e.settled(7, 1.95, START + 5)
    assert e.on_tick(tick(3)) is not None


def test_nothing_is_decided_while_an_outcome_is_unknown():
    e = engine()
    order = e.on_tick(tick(0))
    e.outcome_unknown(order)
    assert all(e.on_tick(tick(n)) is None for n in range(1, 5))
    e.resolve(order, 11, 1.0)  # it had executed
    assert e.view.positions[11].stake == 1
    assert e.on_tick(tick(6)) is None  # now open
    e.settled(11, 0.0, START + 20)
    assert e.results.runs == 1 and e.results.lost == 1
    assert e.on_tick(tick(7)) is not None


def test_an_unknown_order_that_did_not_execute_leaves_no_result():
    e = engine()
    order = e.on_tick(tick(0))
    e.outcome_unknown(order)
    e.resolve(order, None, None)
    assert e.results.runs == 0 and not e.view.positions
    assert e.on_tick(tick(1)) is not None


@pytest.mark.parametrize(
    ("stops", "outcomes", "reason"),
    [
        (StopConditions(take_profit=1.5), "WW", "take profit"),
        (StopConditions(loss_threshold=2), "LL", "loss threshold"),
        (StopConditions(max_runs=3), "WLW", "3 runs"),
        (StopConditions(max_consecutive_losses=2), "WLL", "2 losses in a row"),
    ],
)
def test_each_stop_condition_stops_before_the_next_buy(stops, outcomes, reason):
    e = engine(stops)
    for n, outcome in enumerate(outcomes):
        run_one(e, n, outcome == "W")
    assert e.state == "running"
    assert e.on_tick(tick(len(outcomes))) is None
    assert e.state == "stopped" and reason in (e.stop_reason or "")
    assert e.strategy.events == ["start", f"stop: {e.stop_reason}"]


def test_the_daily_loss_counts_the_next_stake_and_resets_the_next_day():
    e = engine(StopConditions(daily_loss=3), rule="martingale")
    run_one(e, 0, won=False)  # -1
    order = e.on_tick(tick(1))  # stake 2: worst case -3, allowed
    assert order is not None and order.stake == 2
    e.bought(order, 1, 2.0)
    e.settled(1, 0.0, START + 10)  # -3 today
    assert e.on_tick(tick(2)) is None  # stake 4 could reach -7
    assert "daily limit" in (e.stop_reason or "")

    tomorrow = engine(StopConditions(daily_loss=3))
    run_one(tomorrow, 0, won=False)
    run_one(tomorrow, 1, won=False)  # -2 today; next stake 1 -> worst -3, still allowed
    order = tomorrow.on_tick(Tick(START + DAY, 1000.0, 2))
    assert order is not None  # a new day


def test_stopping_waits_for_open_contracts():
    e = engine()
    order = e.on_tick(tick(0))
    e.bought(order, 5, 1.0)
    e.stop("interrupted")
    assert e.state == "stopping" and e.on_tick(tick(1)) is None
    e.settled(5, 1.95, START + 4)
    assert e.state == "stopped" and e.results.runs == 1


def test_a_fatal_refusal_stops_and_a_transient_one_does_not():
    e = engine()
    e.refused_order(e.on_tick(tick(0)), "RateLimit", fatal=False)
    assert e.state == "running"
    e.refused_order(e.on_tick(tick(1)), "InsufficientBalance", fatal=True)
    assert e.state == "stopped" and "InsufficientBalance" in (e.stop_reason or "")


def test_results_measure_drawdown_streaks_and_the_balance_needed():
    e = engine(rule="martingale")
    for n, outcome in enumerate("WLLLW"):
        run_one(e, n, outcome == "W")
    results = e.results
    # stakes 1, 1, 2, 4, 8; profits +0.95, -1, -2, -4, +7.6 -> +1.55
    assert (results.runs, results.won, results.lost) == (5, 2, 3)
    assert results.profit == 1.55
    assert results.longest_losing_streak == 3
    assert results.max_stake == 8
    assert results.max_drawdown == 7.0  # from +0.95 down to -6.05
    assert results.required_balance == 14.05  # the 8 stake when 6.05 down


def test_orders_are_checked_against_the_order_in_flight():
    e = engine()
    order = e.on_tick(tick(0))
    other = engine().on_tick(tick(0))
    with pytest.raises(UsageError):
        e.bought(other, 1, 1.0)
    e.bought(order, 1, 1.0)


def test_a_built_in_plan_takes_its_parameters_by_name():
    plan = load_plan(
        "martingale",
        {"stake": "2", "multiplier": "3", "max_runs": "10", "contract_type": "put"},
    )
    assert plan.rule.stake == 2 and plan.rule.multiplier == 3  # type: ignore[attr-defined]
    assert plan.stops.max_runs == 10
    assert plan.strategy.before_purchase(View("R_100", "USD", plan.params, e_results())) == Trade(
        "PUT"
    )
    with pytest.raises(UsageError, match="unknown parameter"):
        load_plan("martingale", {"unit": "1"})


def e_results():
    from derivkit.strategy import Results

    return Results()
