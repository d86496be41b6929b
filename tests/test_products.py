"""The front-end-neutral product pieces (derivkit.products): how a closed product ended, what it
made in money, and the options each product takes, with the messages the front-ends show."""

from __future__ import annotations

import re

import pytest

from derivkit.core import ContractOffer, Order
from derivkit.core.contracts import open_contract_from
from derivkit.formatting import duration_text
from derivkit.products import (
    Offers,
    ProductInputError,
    ProductOptions,
    amount_or_none,
    ending,
    expiry_type,
    net_result,
    order_text,
    product_spec,
    server_level,
)


def test_how_a_product_ended_is_read_from_its_final_state():
    def final(contract_type, status, profit, **fields):
        base = {"contract_id": 1, "contract_type": contract_type, "buy_price": 10.0}
        sold = {"is_sold": 1, "status": status, "profit": profit, "sell_price": 10 + profit}
        return open_contract_from({**base, **sold, **fields})

    stop = {"stop_loss": {"order_amount": -3, "value": "99.0"}}
    take = {"take_profit": {"order_amount": 5, "value": "101.0"}}
    assert ending(final("MULTUP", None, -10, limit_order={})) == "stop out"
    assert ending(final("MULTUP", None, -3, limit_order=stop)) == "stop loss"
    assert ending(final("MULTDOWN", None, 5.1, limit_order={**take, **stop})) == "take profit"
    assert ending(final("MULTUP", "sold", 1.2)) == "sold"
    assert ending(final("MULTUP", "cancelled", 0, cancellation={"ask_price": 0.5})) == (
        "deal cancellation"
    )
    assert ending(final("ACCU", "lost", -10)) == "knocked out"
    accu = {"tick_count": 60, "limit_order": {"take_profit": {"order_amount": 2}}}
    assert ending(final("ACCU", "won", 2.08, tick_passed=19, **accu)) == "take profit"
    assert ending(final("ACCU", "won", 0.5, tick_passed=5, **accu)) == "sold"
    assert ending(final("ACCU", "won", 8.2, tick_passed=60, tick_count=60)) == "maximum ticks"
    assert ending(final("TURBOSLONG", "lost", -10, sell_price=0)) == "knocked out"
    assert ending(final("TURBOSSHORT", "lost", -4.5, date_expiry=200, sell_time=200)) == "expiry"
    assert ending(final("VANILLALONGPUT", None, 3.0)) == "expiry"
    assert ending(final("CALL", "won", 9.5)) is None
    open_state = open_contract_from({"contract_id": 1, "contract_type": "MULTUP", "is_sold": 0})
    assert ending(open_state) is None
    with_fee = final("MULTUP", "cancelled", 0, buy_price=10.5)
    assert with_fee.profit == 0 and net_result(with_fee) == -0.5  # the fee counts


def bot_spelling(name: str) -> str:
    return f"the {name}" if name in ("duration", "barrier") else f"{name}="


@pytest.mark.parametrize(
    ("contract_type", "duration", "barrier", "options", "message"),
    [
        ("MULTUP", None, None, {}, "MULTUP needs multiplier= (where)"),
        ("ACCU", "5t", None, {"growth_rate": 0.01}, "leave out the duration and the barrier"),
        ("CALL", "5t", None, {"growth_rate": 0.01}, "growth_rate= is for ACCU contracts, not CALL"),
        ("TURBOSLONG", None, "-3", {}, "TURBOSLONG needs the duration, e.g. 5t"),
        ("TURBOSLONG", "5t", None, {}, "needs the barrier (e.g. -3.08 for a long) or payout"),
        ("VANILLALONGCALL", "5t", "+0", {}, "not ticks"),
        ("MULTUP", None, None, {"multiplier": -1}, "multiplier must be a positive number"),
    ],
)
def test_product_options_are_checked_before_anything_is_sent(
    contract_type, duration, barrier, options, message
):
    with pytest.raises(ProductInputError, match=re.escape(message)):
        product_spec(
            "R_100",
            contract_type,
            10,
            duration=duration,
            barrier=barrier,
            currency="USD",
            options=ProductOptions(**options),
            spell=bot_spelling,
            see="where",
        )


def test_each_product_gets_its_own_spec():
    def spec(contract_type, duration=None, barrier=None, **options):
        return product_spec(
            "R_100",
            contract_type,
            10,
            duration=duration,
            barrier=barrier,
            currency="USD",
            options=ProductOptions(**options),
        )

    multiplier = spec("multdown", multiplier=50, take_profit=5)
    assert type(multiplier).__name__ == "MultiplierSpec" and multiplier.contract_type == "MULTDOWN"
    assert multiplier.parameters()["limit_order"] == {"take_profit": 5}
    assert spec("ACCU", growth_rate=0.02).parameters()["growth_rate"] == 0.02
    assert spec("TURBOSSHORT", "5t", payout_per_point=1.5).parameters()["payout_per_point"] == 1.5
    assert spec("VANILLALONGPUT", "5m", strike="+0.00").parameters()["barrier"] == "+0.00"
    assert spec("CALL", "5t") is None  # a binary: formatting.contract_spec's


def test_a_new_order_amount_or_none():
    assert amount_or_none("8") == 8.0 and amount_or_none("None") is None
    for bad in ("abc", "0", "-2", "nan", "inf"):
        with pytest.raises(ValueError):
            amount_or_none(bad)


def test_offers_by_contract_type_and_expiry_and_the_expiry_of_a_duration():
    tick = ContractOffer(contract_type="TURBOSLONG", expiry_type="tick", barrier="-1")
    intraday = ContractOffer(contract_type="TURBOSLONG", expiry_type="intraday", barrier="-2")
    offers = Offers([tick, intraday], loaded=True)
    assert offers.get("TURBOSLONG", "intraday") is intraday
    assert offers.get("TURBOSLONG", "tick") is tick and offers.get("TURBOSLONG") is tick
    assert offers.get("TURBOSLONG", "daily") is tick  # not listed for days: the first one
    assert offers.get("ACCU") is None
    assert offers.offers("TURBOSLONG") and not offers.offers("ACCU")
    unknown = Offers()  # contracts_for not read yet: everything counts as offered
    assert unknown.offers("ACCU") and unknown.get("ACCU") is None
    assert [expiry_type(d) for d in ("5t", "30s", "15m", "2h", "1d", "", "5x")] == [
        "tick",
        "intraday",
        "intraday",
        "intraday",
        "daily",
        "intraday",
        "intraday",
    ]


def test_a_level_reads_as_the_server_wrote_it_and_a_duration_in_words():
    raw = {
        "limit_order": {"stop_out": {"value": "1289.70"}, "take_profit": {"value": 1504.5}},
        "contract_details": {"barrier": ""},
        "spot": None,
    }
    assert server_level(raw, "limit_order", "stop_out", "value") == "1289.70"  # zeros kept
    assert server_level(raw, "limit_order", "take_profit", "value") == "1504.5"
    assert server_level(raw, "contract_details", "barrier") is None  # empty: none
    assert server_level(raw, "spot", "value") is None and server_level(raw, "nothing") is None
    assert server_level({"barrier": 0.000012345678912}, "barrier") == "1.234567891e-05"
    assert [duration_text(1, "t"), duration_text(5, "t"), duration_text(1, "m")] == [
        "1 tick",
        "5 ticks",
        "1 minute",
    ]
    assert (duration_text(2, "d"), duration_text(3, "x")) == ("2 days", "3 x")


def test_an_order_shows_its_level_at_the_symbols_pip_size():
    stop_out = Order.from_payload({"order_amount": "-10.00", "value": "1289.70"})
    assert stop_out is not None and stop_out.value == 1289.7 and stop_out.level == "1289.70"
    assert order_text(stop_out, "USD") == "10.00 USD (at 1289.70)"
    take_profit = Order.from_payload({"order_amount": 5, "value": 1504.5})
    assert order_text(take_profit, "USD") == "5.00 USD (at 1504.5)"
    no_level = Order.from_payload({"order_amount": 5, "value": None})
    assert no_level is not None and no_level.level == ""
    assert order_text(no_level, "USD") == "5.00 USD"
    with pytest.raises(ValueError):
        Order.from_payload({"order_amount": 5, "value": "abc"})
