"""Each money-management rule against a sequence of wins and losses computed by hand."""

from __future__ import annotations

import pytest

from derivkit.core import UsageError
from derivkit.strategy.money import RULES, StakeRule, make_rule

PAYOUT_RATIO = 0.95  # a win returns the stake plus 95 %


def play(rule: StakeRule, outcomes: str) -> list[float]:
    """Stakes paid for each outcome ('W'/'L'), then the stake that would come next."""
    stakes = []
    for outcome in outcomes:
        stake = rule.stake
        stakes.append(stake)
        won = outcome == "W"
        profit = round(stake * PAYOUT_RATIO, 2) if won else -stake
        rule.settle(won, stake, profit)
    return [*stakes, rule.stake]


def test_martingale_doubles_after_each_loss_and_resets_after_a_win():
    assert play(make_rule("martingale", 1), "LLLWL") == [1, 2, 4, 8, 1, 2]
    assert play(make_rule("martingale", 0.5, multiplier=3), "LLW") == [0.5, 1.5, 4.5, 0.5]


def test_max_stake_starts_the_rule_over_instead_of_exceeding_it():
    rule = make_rule("martingale", 1, max_stake=5)
    assert play(rule, "LLLL") == [1, 2, 4, 1, 2]  # 8 would exceed 5: back to 1
    assert rule.restarts == 1


def test_reverse_martingale_multiplies_after_wins():
    assert play(make_rule("reverse-martingale", 1), "WWLW") == [1, 2, 4, 1, 2]


def test_dalembert_moves_by_units_of_the_initial_stake_never_below_it():
    # Deriv's example: initial 1 USD, 2 units: a first win stays at 1, a loss adds 2, a win takes 2
    assert play(make_rule("dalembert", 1, unit=2), "WLWLLW") == [1, 1, 3, 1, 3, 5, 3]


def test_reverse_dalembert_moves_the_other_way():
    assert play(make_rule("reverse-dalembert", 1), "WWLLL") == [1, 2, 3, 2, 1, 1]


def test_one_three_two_six_cycles_on_wins_and_restarts_on_a_loss():
    assert play(make_rule("1-3-2-6", 2), "WWWWLWL") == [2, 6, 4, 12, 2, 2, 6, 2]


def test_oscars_grind_raises_after_a_win_following_a_loss_and_caps_at_the_target():
    rule = make_rule("oscars-grind", 1)
    # L: session -1. W (0.95): session -0.05, +1 unit but capped at (1 + 0.05) / 0.95 -> 1.11.
    # W at 1.11 (+1.05): session +1.00 reaches one unit: a new session at 1.
    assert play(rule, "LWW") == [1, 1, 1.11, 1]
    assert rule.sessions == 1 and rule.session_profit == 0


def test_oscars_grind_keeps_the_stake_after_a_loss():
    assert play(make_rule("oscars-grind", 1), "LLL") == [1, 1, 1, 1]


def test_flat_never_moves():
    assert play(make_rule("flat", 3), "LWLW") == [3, 3, 3, 3, 3]


@pytest.mark.parametrize(
    ("name", "params", "message"),
    [
        ("martingale", {"multiplier": 1.0}, "above 1"),
        ("martingale", {"unit": 2}, "no parameter unit"),
        ("dalembert", {"unit": -1}, "positive"),
        ("nope", {}, "known: flat, martingale"),
    ],
)
def test_bad_parameters_are_named(name, params, message):
    with pytest.raises(UsageError, match=message):
        make_rule(name, 1, **params)


def test_a_cap_below_the_initial_stake_is_refused():
    with pytest.raises(UsageError, match="below the initial stake"):
        make_rule("martingale", 5, max_stake=2)


def test_every_rule_is_listed():
    assert set(RULES) == {
        "flat",
        "martingale",
        "reverse-martingale",
        "dalembert",
        "reverse-dalembert",
        "oscars-grind",
        "1-3-2-6",
    }
