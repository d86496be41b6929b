"""Every product priced and driven directly on chosen ticks: each way a contract can end, its
proposal_open_contract fields, updates, cancellation and their errors (products doc §2-§6)."""

from __future__ import annotations

import math

import pytest

from derivkit.sim.errors import ApiError
from derivkit.sim.products import accumulator, multiplier, turbos, vanilla
from derivkit.sim.products.turbos import TurbosTerms
from derivkit.sim.symbols import SYMBOLS

from .products import NOW, feed, open_contract, parse

T0 = int(NOW)


def code_of(call, *args, **kwargs) -> tuple[str, str]:
    with pytest.raises(ApiError) as info:
        call(*args, **kwargs)
    return info.value.code, info.value.message


# -- Multipliers ---------------------------------------------------------------------------------
def mult(spot: float = 100.0, **params):
    base = {"amount": 100, "basis": "stake", "multiplier": 10}
    return open_contract("MULTUP", "R_100", spot, **{**base, **params})


def test_multiplier_worked_example() -> None:
    """R_100 at 100, stake 100 x10: commission 0.50, stop out at 90.05, take profit 10 at
    101.05, bid 99.50 at the entry; deal cancellation 1h ~4.22 (doc: 4.22 from the formula)."""
    c, q = mult(limit_order={"take_profit": 10})
    assert q.fields["commission"] == 0.5 and q.payout == 0 and q.ask_price == 100
    orders = q.fields["limit_order"]
    assert orders["stop_out"]["order_amount"] == -100 and orders["stop_out"]["value"] == "90.05"
    assert orders["take_profit"]["value"] == "101.05"
    assert c.poc("USD", NOW)["validation_error"] == "Waiting for entry tick."
    assert not feed(c, [100.0])
    poc = c.poc("USD", NOW + 2)
    assert poc["bid_price"] == 99.5 and poc["profit"] == -0.5 and poc["commission"] == 0.5
    assert poc["is_valid_to_update"] == {"take_profit": 1, "stop_loss": 1, "stop_out": 0}
    assert poc["limit_order"]["take_profit"]["value"] == "101.05"
    with_cancel, q2 = mult(cancellation="1h")
    assert q2.fields["cancellation"]["ask_price"] == pytest.approx(4.22, abs=0.01)
    assert q2.ask_price == pytest.approx(104.22, abs=0.01)
    assert with_cancel.buy_price == q2.ask_price


def test_multiplier_take_profit_closes_at_the_order() -> None:
    c, _ = mult(limit_order={"take_profit": 10})
    assert not feed(c, [100.0, 100.5])
    assert feed(c, [101.05], first_epoch=T0 + 6)
    assert c.sell_price == 110.0 and c.status is None  # server-closed multipliers: status null
    assert c.exit == (T0 + 6, 101.05)
    c2, _ = mult(limit_order={"take_profit": 10})
    assert feed(c2, [100.0, 101.2])  # past the barrier: the PnL at that tick (slippage)
    assert c2.sell_price == round(100 + 1000 * 0.012 - 0.5, 2)


def test_multiplier_stop_loss_and_stop_out() -> None:
    c, q = mult(limit_order={"stop_loss": 5})
    assert q.fields["limit_order"]["stop_loss"] == {
        "display_name": "Stop loss",
        "order_amount": -5.0,
        "order_date": T0,
        "value": "99.55",
    }
    assert feed(c, [100.0, 99.8, 99.55])
    assert c.sell_price == 95.0 and c.status is None
    out, _ = mult()
    assert feed(out, [100.0, 95.0, 89.0])
    assert out.sell_price == 0.0 and out.status is None  # the loss is capped at the stake
    down, _ = open_contract("MULTDOWN", "R_100", 100.0, amount=100, multiplier=10)
    assert feed(down, [100.0, 110.0])
    assert down.sell_price == 0.0
    assert down.poc("USD", NOW + 9)["limit_order"]["stop_out"]["value"] == "109.95"


def test_multiplier_stop_out_level_on_crash() -> None:
    """Crash/Boom stop out before the whole stake is lost (10 % at x100)."""
    c, q = open_contract("MULTUP", "CRASH500", 1000.0, amount=100, multiplier=100)
    assert q.fields["limit_order"]["stop_out"]["order_amount"] == -90.0
    code, message = code_of(
        parse, "MULTUP", "CRASH500", amount=10, multiplier=100, cancellation="5m"
    )
    assert (code, message) == (
        "ContractBuyValidationError",
        "Deal cancellation is not available for this asset.",
    )


def test_multiplier_sell_and_its_refusals() -> None:
    c, _ = mult()
    assert c.sell_error(NOW) == "Waiting for entry tick."
    feed(c, [100.0])
    assert c.sell_error(T0 + 0.5) == "Contract cannot be sold at this time. Please try again."
    assert c.sell_error(T0 + 2) is None
    feed(c, [100.3], first_epoch=T0 + 4)
    assert c.bid_price(T0 + 4) == round(100 + 1000 * 0.003 - 0.5, 2)


def test_deal_cancellation() -> None:
    c, q = mult(cancellation="60m")
    fee = q.fields["cancellation"]["ask_price"]
    feed(c, [100.0, 99.0])
    now = T0 + 10
    assert c.sell_error(now) == multiplier.DEAL_CANCELLATION_ACTIVE  # losing, cancellation on
    poc = c.poc("USD", now)
    assert poc["is_valid_to_cancel"] == 1 and poc["is_valid_to_sell"] == 0
    assert poc["is_valid_to_update"]["take_profit"] == 0
    assert poc["cancellation"] == {"ask_price": fee, "date_expiry": T0 + 3600}
    code, _ = code_of(c.update, {"take_profit": 5}, now)
    assert code == "UpdateTakeProfitNotAllowed"
    code, _ = code_of(c.update, {"stop_loss": 5}, now)
    assert code == "UpdateStopLossNotAllowed"
    assert c.cancel(now) == 100.0
    assert c.status == "cancelled" and c.sell_price == 100.0
    assert c.poc("USD", now)["profit"] == 0.0  # the fee is not part of the profit base
    assert code_of(c.cancel, now) == ("CancelFailed", "This contract has been sold.")


def test_deal_cancellation_refusals_and_stop_out_while_active() -> None:
    plain, _ = mult()
    feed(plain, [100.0])
    assert code_of(plain.cancel, T0 + 5)[1].startswith("This contract does not include deal")
    c, _ = mult(cancellation="5m")
    feed(c, [100.0])
    assert code_of(c.cancel, T0 + 0.5)[0] == "CancelFailed"  # the purchase second
    assert code_of(c.cancel, T0 + 301)[1].startswith("Deal cancellation period has expired.")
    hit, _ = mult(cancellation="5m")
    assert feed(hit, [100.0, 85.0])
    assert hit.status == "cancelled" and hit.sell_price == 100.0  # the stake back
    after, _ = mult(cancellation="5m")
    feed(after, [100.0])
    assert feed(after, [85.0], first_epoch=T0 + 400)
    assert after.status is None and after.sell_price == 0.0  # window over: a plain stop out


def test_multiplier_parameter_errors() -> None:
    cases = [
        ({"basis": "payout"}, "ContractCreationFailure", "Basis must be stake for this contract."),
        (
            {"duration": 5, "duration_unit": "m"},
            "ContractCreationFailure",
            "Invalid input (duration or date_expiry) for this contract type (MULTUP).",
        ),
        (
            {"barrier": "+1"},
            "ContractCreationFailure",
            "Barrier is not allowed for this contract type.",
        ),
        (
            {"multiplier": None},
            "ContractCreationFailure",
            "Missing required contract parameters (multiplier).",
        ),
        (
            {"multiplier": 15},
            "ContractBuyValidationError",
            "Multiplier is not in acceptable range. Accepts 10,20,30,50,100.",
        ),
        (
            {"amount": 0.5},
            "ContractCreationFailure",
            "Please enter a stake amount that's at least 1.00.",
        ),
        ({"amount": 2500}, "ContractBuyValidationError", "Maximum stake allowed is 2000.00."),
        (
            {"limit_order": {"take_profit": 0.05}},
            "ContractBuyValidationError",
            "Please enter a take profit amount that's higher than 0.10.",
        ),
        (
            {"limit_order": {"take_profit": 901}},
            "ContractBuyValidationError",
            "Please enter a take profit amount that's lower than 900.00.",
        ),
        (
            {"limit_order": {"stop_loss": 0.4}},
            "ContractBuyValidationError",
            "Invalid stop loss. Stop loss must be higher than commission (0.50).",
        ),
        (
            {"limit_order": {"stop_loss": 101}},
            "ContractBuyValidationError",
            "Invalid stop loss. Stop loss cannot be more than 100.00.",
        ),
        (
            {"limit_order": {"take_profit": 1.234}},
            "ContractBuyValidationError",
            "Only 2 decimal places allowed.",
        ),
        (
            {"cancellation": "1h", "limit_order": {"take_profit": 5}},
            "ContractBuyValidationError",
            "You may use either take profit or deal cancellation, but not both. Please select "
            "either one.",
        ),
        (
            {"cancellation": "20m"},
            "ContractBuyValidationError",
            "Deal cancellation is not offered at this duration.",
        ),
    ]
    for change, code, message in cases:
        params = {"amount": 100, "multiplier": 10, **change}
        params = {k: v for k, v in params.items() if v is not None}
        assert code_of(parse, "MULTUP", "R_100", **params) == (code, message), change


def test_multiplier_updates_and_history() -> None:
    c, _ = mult(limit_order={"take_profit": 10})
    feed(c, [100.0, 100.2])
    reply = c.update({"take_profit": 20, "stop_loss": 10}, T0 + 10)
    assert reply["take_profit"]["order_amount"] == 20 and reply["take_profit"]["value"] == "102.05"
    assert reply["stop_loss"] == {
        "display_name": "Stop loss",
        "order_amount": -10.0,
        "order_date": T0 + 10,
        "value": "99.05",
    }
    code, _ = code_of(c.update, {"take_profit": 30}, T0 + 10.5)
    assert code == "TooFrequentUpdate"
    code, message = code_of(c.update, {"take_profit": 1}, T0 + 11)  # below the current PnL
    assert code == "InvalidContractUpdate" and message.startswith(
        "Please enter a take profit amount that's higher than 1.50"
    )
    assert c.update({"stop_loss": None}, T0 + 12) == {
        "take_profit": c.book.orders["take_profit"].payload(c.spec),
        "stop_loss": {},
    }
    history = c.update_history()
    assert [h["order_type"] for h in history] == [
        "stop_loss",
        "stop_loss",
        "take_profit",
        "take_profit",
    ]
    assert history[0]["order_amount"] == 0  # a removal
    assert history[-1] == {
        "display_name": "Take profit",
        "order_amount": 10,
        "order_date": T0,
        "order_type": "take_profit",
        "value": "101.05",
    }
    # The new take profit closes the contract at its barrier; an update counts from its time.
    assert feed(c, [102.05], first_epoch=T0 + 14)
    assert c.sell_price == 120.0


def test_multiplier_commission_is_two_tick_deviations() -> None:
    cfg = multiplier.config(SYMBOLS["R_100"])
    assert cfg.commission == pytest.approx(5.037e-4, rel=1e-3)
    assert multiplier.config(SYMBOLS["1HZ100V"]).commission == pytest.approx(3.561e-4, rel=1e-3)
    assert multiplier.config(SYMBOLS["stpRNG"]).multipliers == (500, 1000, 2000, 3000, 4000)


# -- Accumulators --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("symbol", "rate", "percent"),
    [
        ("R_100", 0.01, 0.06126),
        ("R_10", 0.05, 0.00486),
        ("1HZ100V", 0.01, 0.04331),
        ("1HZ50V", 0.03, 0.01898),
    ],
)
def test_accumulator_band_matches_deriv_table(symbol: str, rate: float, percent: float) -> None:
    assert 100 * accumulator.band(SYMBOLS[symbol], rate) == pytest.approx(percent, abs=5e-6)


def accu(spot: float = 1000.0, **params):
    return open_contract("ACCU", "R_100", spot, **{"amount": 10, "growth_rate": 0.01, **params})


def test_accumulator_grows_inside_the_band_and_is_knocked_out() -> None:
    c, q = accu()
    details = q.fields["contract_details"]
    assert details["maximum_ticks"] == 300 and details["maximum_payout"] == 10_000
    assert details["high_barrier"] == "1000.613" and details["low_barrier"] == "999.387"
    assert q.payout == 0 and q.ask_price == 10
    feed(c, [1000.0])
    assert c.sell_error(T0 + 3) == accumulator.AT_ENTRY
    feed(c, [1000.5, 1000.2], first_epoch=T0 + 4)
    poc = c.poc("USD", T0 + 6)
    assert poc["tick_passed"] == 2 and poc["bid_price"] == round(10 * 1.01**2, 2)
    assert poc["high_barrier"] == "1001.113" and poc["low_barrier"] == "999.887"  # previous spot
    assert poc["current_spot_high_barrier"] == "1000.813"  # for the next tick
    assert poc["barrier_spot_distance"] == "0.613" and poc["barrier_count"] == 2
    assert poc["tick_count"] == 300 and poc["is_valid_to_sell"] == 1
    assert len(poc["tick_stream"]) == 3
    assert feed(c, [1000.82], first_epoch=T0 + 8)  # beyond the band around 1000.2
    assert c.status == "lost" and c.sell_price == 0.0


def test_accumulator_ends_at_take_profit_and_at_max_ticks() -> None:
    c, q = accu(limit_order={"take_profit": 1})
    ticks = math.ceil(math.log(1.1) / math.log(1.01))
    assert q.fields["contract_details"]["maximum_ticks"] == ticks == 10
    assert q.fields["limit_order"]["take_profit"] == {
        "display_name": "Take profit",
        "order_amount": 1.0,
        "order_date": T0,
    }
    assert feed(c, [1000.0] * (ticks + 1))
    assert c.status == "won" and c.sell_price == round(10 * 1.01**ticks, 2)
    big, _ = accu(growth_rate=0.05)
    assert feed(big, [1000.0] * 61)
    assert big.status == "won" and big.sell_price == round(10 * 1.05**60, 2)


def test_accumulator_sell_update_and_errors() -> None:
    c, _ = accu()
    feed(c, [1000.0, 1000.1])
    code, _ = code_of(c.update, {"take_profit": 5}, T0 + 5)
    assert code == "UpdateNotAllowed"
    assert c.update_history() == []
    cases = [
        (
            {"limit_order": {"stop_loss": 5}},
            "ContractCreationFailure",
            "stop_loss is not a valid input for contract type ACCU.",
        ),
        (
            {"growth_rate": 0.06},
            "ContractCreationFailure",
            "Growth rate is not in acceptable range. Accepts 0.01, 0.02, 0.03, 0.04, 0.05.",
        ),
        (
            {"growth_rate": None},
            "ContractCreationFailure",
            "Missing required contract parameters (growth_rate).",
        ),
        (
            {"limit_order": {"take_profit": -1}},
            "ContractCreationFailure",
            "Negative take profit value is not accepted",
        ),
        (
            {"limit_order": {"take_profit": 0}},
            "ContractBuyValidationError",
            "Please enter a take profit amount that's higher than 0.00.",
        ),
        (
            {"limit_order": {"take_profit": 9991}},
            "ContractBuyValidationError",
            "Please enter a take profit amount that's lower than 9990.00.",
        ),
        ({"amount": 2001}, "ContractCreationFailure", "Maximum stake allowed is 2000.00."),
        (
            {"duration": 5, "duration_unit": "t"},
            "ContractCreationFailure",
            "Invalid input (duration or date_expiry) for this contract type (ACCU).",
        ),
    ]
    for change, code, message in cases:
        params = {
            k: v for k, v in {"amount": 10, "growth_rate": 0.01, **change}.items() if v is not None
        }
        assert code_of(parse, "ACCU", "R_100", **params) == (code, message), change
    assert code_of(parse, "ACCU", "CRASH500", amount=10, growth_rate=0.01)[0] == (
        "OfferingsValidationError"
    )


# -- Turbos --------------------------------------------------------------------------------------
def test_turbos_worked_example() -> None:
    """R_100, entry 1763, barrier -73.00: n = 1.362405; bid 122.07 at 1780; 365.12 at expiry
    (1958, no spread); a tick at 1390 knocks it out (products doc §4)."""
    terms = TurbosTerms("TURBOSLONG", "R_100", 100.0, "USD", 5, "m", None, -73.0, None, None)
    c, q = open_contract("TURBOSLONG", "R_100", 1763.0, terms=terms)
    assert c.barrier == 1690.0 and c.n == pytest.approx(1.362405, abs=1e-6)
    assert q.fields["display_number_of_contracts"] == "1.362405"
    assert q.fields["contract_details"]["barrier"] == "1690.00"
    feed(c, [1780.0])
    assert c.bid_price(T0 + 2) == pytest.approx(122.07, abs=0.01)
    expiry = c.date_expiry
    assert feed(c, [1958.0], first_epoch=expiry)
    assert c.sell_price == pytest.approx(365.12, abs=0.01) and c.status == "won"
    ko, _ = open_contract("TURBOSLONG", "R_100", 1763.0, terms=terms)
    assert feed(ko, [1700.0, 1390.0])
    assert ko.status == "lost" and ko.sell_price == 0.0


def test_turbos_choices_tick_expiry_take_profit_and_updates() -> None:
    spec = SYMBOLS["R_100"]
    choices = turbos.barrier_choices(spec, 1000.0, "TURBOSLONG")
    assert len(choices) == 20 and choices[0] == "-3.08" and choices[-1] == "-500.00"
    assert turbos.payout_choices(spec, 1000.0, 10) == [3.0, 2.5, 2.0, 1.5, 1.0, 0.5]
    code, message = code_of(
        parse, "TURBOSLONG", "R_100", amount=10, barrier="-4.00", duration=5, duration_unit="t"
    )
    assert code == "ContractBuyValidationError" and message.startswith(
        "Barriers available are -3.08"
    )
    c, _ = open_contract(
        "TURBOSLONG", "R_100", 1000.0, amount=10, barrier=choices[11], duration=5, duration_unit="t"
    )
    assert c.sell_error(T0 + 5) == "Resale of this contract is not offered."
    assert feed(c, [1001.0, 1002.0, 1003.0, 1004.0, 1005.0])
    assert c.sell_price == round(c.n * (1005.0 - c.barrier), 2) and c.status == "won"
    assert c.poc("USD", T0 + 20)["tick_stream"][0] == {
        "epoch": T0,
        "tick": 1000.0,
        "tick_display_value": "1000.00",
    }
    tp, _ = open_contract(
        "TURBOSSHORT",
        "R_100",
        1000.0,
        amount=10,
        barrier="+" + choices[11][1:],
        duration=5,
        duration_unit="m",
        limit_order={"take_profit": 5},
    )
    target = tp.take_profit.barrier
    assert tp.bid_price(NOW) < 10
    assert feed(tp, [999.0, target])
    assert tp.status == "won" and tp.sell_price >= 15.0
    upd, _ = open_contract(
        "TURBOSLONG", "R_100", 1000.0, amount=10, barrier=choices[11], duration=5, duration_unit="m"
    )
    feed(upd, [1000.0])
    assert upd.update({"take_profit": 3}, T0 + 5)["take_profit"]["order_amount"] == 3
    assert code_of(upd.update, {"stop_loss": 3}, T0 + 6)[0] == "UpdateNotAllowed"
    assert code_of(upd.update, {"take_profit": 4}, T0 + 5)[0] == "TooFrequentUpdate"
    feed(upd, [1010.0], first_epoch=T0 + 6)
    assert code_of(upd.update, {"take_profit": 1}, T0 + 7)[0] == "TakeProfitTooLow"
    assert upd.update({"take_profit": None}, T0 + 8) == {"take_profit": {}}
    assert [h["order_amount"] for h in upd.update_history()] == [0, 3]


# -- Vanillas ------------------------------------------------------------------------------------
def test_vanilla_worked_example_and_expiry() -> None:
    """R_100, S = 68258.19, K = 69420, 10 h: ask 480.86832, bid 439.92626 per contract."""
    years = 10 * 3600 / (365 * 86400)
    ask = vanilla.black_scholes(True, 68258.19, 69420, years, 1.0 * 1.025)
    bid = vanilla.black_scholes(True, 68258.19, 69420, years, 1.0 * 0.975)
    assert ask == pytest.approx(480.86832, abs=1e-4) and bid == pytest.approx(439.92626, abs=1e-4)
    assert round(10 / ask, 5) == 0.0208
    spec = SYMBOLS["R_100"]
    choices = vanilla.strike_choices(spec, 1000.0, 300 / (365 * 86400), daily=False)
    assert choices == sorted(choices, key=float, reverse=True) and "+0.00" in choices
    c, q = open_contract(
        "VANILLALONGPUT",
        "R_100",
        1000.0,
        amount=10,
        barrier=choices[-1],
        duration=5,
        duration_unit="m",
    )
    assert float(q.fields["display_number_of_contracts"]) == c.n > 0
    assert c.sell_error(T0 + 10) is None
    assert c.sell_error(c.date_expiry - 30) == "Resale of this contract is not offered."
    assert feed(c, [990.0], first_epoch=c.date_expiry)
    assert c.sell_price == round(c.n * (c.strike - 990.0), 2) and c.status is None
    assert (
        code_of(
            parse,
            "VANILLALONGCALL",
            "R_100",
            amount=10,
            barrier="+0.00",
            duration=5,
            duration_unit="t",
        )[0]
        == "OfferingsValidationError"
    )
    assert code_of(c.update, {"take_profit": 1}, T0)[0] == "UpdateNotAllowed"


# -- Binaries: tick counting and the other families ----------------------------------------------
def test_one_tick_digit_settles_on_its_entry_tick() -> None:
    c, q = open_contract(
        "DIGITEVEN", "R_100", 1000.0, amount=10, basis="stake", duration=1, duration_unit="t"
    )
    assert q.payout == round(10 / 0.51, 2)  # fair 0.5 + the 1 % digit commission
    assert feed(c, [1000.12])
    assert c.exit == c.entry and c.status == "won" and c.sell_price == q.payout


def test_rise_fall_exits_n_ticks_after_entry_and_a_tie_loses() -> None:
    c, _ = open_contract(
        "CALL", "R_100", 1000.0, amount=10, basis="stake", duration=3, duration_unit="t"
    )
    assert not feed(c, [1000.0, 1001.0, 1002.0])
    assert feed(c, [1000.0], first_epoch=T0 + 8)
    assert c.exit == (T0 + 8, 1000.0) and c.status == "lost"  # exit == entry: no win
    eq, _ = open_contract(
        "CALLE", "R_100", 1000.0, amount=10, basis="stake", duration=3, duration_unit="t"
    )
    assert feed(eq, [1000.0, 999.0, 998.0, 1000.0]) and eq.status == "won"


def test_asians_high_low_ticks_runs_and_ranges() -> None:
    a, _ = open_contract(
        "ASIANU", "R_100", 1000.0, amount=10, basis="stake", duration=5, duration_unit="t"
    )
    assert feed(a, [1000.0, 1001.0, 1002.0, 1003.0, 1004.0])  # the 5th tick counting the entry
    assert a.status == "won" and a.poc("USD", NOW)["barrier"] == "1002.000"
    high, q = open_contract(
        "TICKHIGH",
        "R_100",
        1000.0,
        amount=10,
        basis="stake",
        duration=5,
        duration_unit="t",
        selected_tick=2,
    )
    assert q.payout == round(10 / (5 / 32 + 0.015), 2)
    assert feed(high, [1000.0, 1001.0, 1002.0])  # tick 3 beats tick 2: lost at once
    assert high.status == "lost" and len(high.ticks) == 3
    run, _ = open_contract(
        "RUNHIGH", "R_100", 1000.0, amount=10, basis="stake", duration=3, duration_unit="t"
    )
    assert feed(run, [1000.0, 1001.0, 1001.0]) and run.status == "lost"  # a tie ends the run
    run2, _ = open_contract(
        "RUNHIGH", "R_100", 1000.0, amount=10, basis="stake", duration=3, duration_unit="t"
    )
    assert feed(run2, [1000.0, 1001.0, 1002.0, 1003.0]) and run2.status == "won"
    stay, _ = open_contract(
        "RANGE",
        "R_100",
        1000.0,
        amount=10,
        basis="stake",
        duration=2,
        duration_unit="m",
        barrier="+2.00",
        barrier2="-2.00",
    )
    assert feed(stay, [1000.0, 1001.0, 1002.0])  # touching the barrier ends it
    assert stay.status == "lost" and stay.poc("USD", NOW)["high_barrier"] == "1002.00"
    out, _ = open_contract(
        "EXPIRYMISS",
        "R_100",
        1000.0,
        amount=10,
        basis="stake",
        duration=2,
        duration_unit="m",
        barrier="+2.00",
        barrier2="-2.00",
    )
    assert not feed(out, [1000.0, 1005.0])  # ends outside only at expiry
    assert feed(out, [1003.0], first_epoch=out.date_expiry) and out.status == "won"


def test_day_durations_expire_at_the_end_of_the_trading_day() -> None:
    terms = parse("CALL", "R_100", amount=10, basis="stake", duration=1, duration_unit="d")
    day_end = (T0 // 86400 + 1) * 86400 + 86399
    assert terms.expiry(NOW) == day_end
    c, q = open_contract(
        "CALL", "R_100", 1000.0, amount=10, basis="stake", duration=1, duration_unit="d"
    )
    assert q.date_expiry == day_end and c.date_expiry == day_end
    code, message = code_of(parse, "DIGITEVEN", "R_100", amount=10, duration=1, duration_unit="d")
    assert (code, message) == (
        "OfferingsValidationError",
        "Trading is not offered for this duration.",
    )


def test_minimum_durations() -> None:
    """Higher/Lower ticks from 5, Touch intraday from 2 minutes, Rise/Fall from 1 tick."""
    base = {"amount": 10, "basis": "stake"}
    assert parse("CALL", "R_100", duration=1, duration_unit="t", **base)
    for ct, extra in [
        ("CALL", {"barrier": "+0.5", "duration": 4, "duration_unit": "t"}),
        ("ONETOUCH", {"barrier": "+0.5", "duration": 90, "duration_unit": "s"}),
    ]:
        assert code_of(parse, ct, "R_100", **base, **extra)[0] == "OfferingsValidationError"
    assert parse("ONETOUCH", "R_100", barrier="+0.5", duration=2, duration_unit="m", **base)
