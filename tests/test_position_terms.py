"""An open product's terms in a few words (derivkit.products.position_terms), from
``proposal_open_contract`` payloads as Deriv writes them."""

from __future__ import annotations

from derivkit.core import open_contract_from
from derivkit.products import position_terms

BASE = {"currency": "USD", "buy_price": 10.0, "is_sold": 0, "underlying": "R_100"}


def terms(**payload) -> list[str]:
    return position_terms(open_contract_from(BASE | payload))


def test_a_binary_option_has_no_terms():
    assert terms(contract_type="CALL", barrier="1234.56") == []


def test_a_multiplier_shows_its_orders_and_deal_cancellation_only_while_it_lasts():
    orders = {
        "take_profit": {"order_amount": "5.00", "value": "1240.10"},
        "stop_loss": {"order_amount": "-3.00", "value": "1230.30"},
        "stop_out": {"order_amount": "-10.00", "value": "1220.50"},
    }
    shown = terms(contract_type="MULTUP", multiplier=100, limit_order=orders)
    assert shown == ["x100", "TP 5.00", "SL 3.00", "stop out 1220.50"]  # as Deriv wrote it
    dc = {"ask_price": "0.45", "date_expiry": 1_800_003_600}
    stop_out = {"stop_out": {"order_amount": -10.0, "value": 1220.5}}
    shown = terms(
        contract_type="MULTDOWN",
        multiplier=50,
        limit_order=stop_out,
        cancellation=dc,
        is_valid_to_cancel=1,
    )
    assert shown == ["x50", "stop out 1220.5", "DC until 09:00:00 UTC", "DC fee 0.45"]
    closed = terms(contract_type="MULTDOWN", multiplier=50, cancellation=dc, is_valid_to_cancel=0)
    assert closed == ["x50"]  # the window has closed: nothing to cancel


def test_an_accumulator_before_and_after_its_first_tick():
    assert terms(contract_type="ACCU", growth_rate="0.03", tick_count=90) == [
        "3 %/tick",
        "tick 0/90",
    ]
    shown = terms(
        contract_type="ACCU",
        growth_rate=0.01,
        tick_count=230,
        tick_passed=7,
        high_barrier="1234.420",
        low_barrier="1233.910",
        limit_order={"take_profit": {"order_amount": 2}},
    )
    assert shown == ["1 %/tick", "tick 7/230", "band 1233.910-1234.420", "TP 2.00"]


def test_turbos_and_vanillas_show_their_barrier_and_payout_per_point():
    shown = terms(
        contract_type="TURBOSSHORT",
        barrier="1250.00",
        display_number_of_contracts="0.523000",
        limit_order={"take_profit": {"order_amount": "4"}},
    )
    assert shown == ["barrier 1250.00", "0.523/pt", "TP 4.00"]
    shown = terms(
        contract_type="VANILLALONGCALL", barrier="1234.00", display_number_of_contracts="1.2345"
    )
    assert shown == ["strike 1234.00", "1.2345/pt"]
