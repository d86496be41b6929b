"""Multipliers, Accumulators, Turbos and Vanillas over a real socket: contracts_for, proposal,
buy, the proposal_open_contract stream to settlement, sell, cancel, contract_update and
contract_update_history, and their errors."""

from __future__ import annotations

from typing import Any

from derivkit.sim import Simulator

from .conftest import Client, approx_money

Msg = dict[str, Any]


def mult(**kw: Any) -> dict[str, Any]:
    base = {
        "contract_type": "MULTUP",
        "symbol": "R_100",
        "amount": 10,
        "basis": "stake",
        "multiplier": 100,
        "currency": "USD",
    }
    return {**base, **kw}


async def offer(c: Client, symbol: str, contract_type: str) -> list[Msg]:
    m = await c.ok({"contracts_for": symbol, "currency": "USD"})
    return [a for a in m["contracts_for"]["available"] if a["contract_type"] == contract_type]


async def buy_stream(c: Client, params: dict[str, Any], price: float = 1000) -> tuple[Msg, int]:
    b = await c.ok({"buy": "1", "price": price, "parameters": params, "subscribe": 1})
    return b["buy"], b["req_id"]


async def next_poc(c: Client, rid: int, pred=lambda p: True) -> Msg:
    while True:
        m = await c.next(lambda m: m.get("req_id") == rid)
        poc = m["proposal_open_contract"]
        if pred(poc) or poc["is_sold"]:
            return poc


async def wait_sellable(c: Client, cid: int) -> None:
    sub = await c.ok({"proposal_open_contract": 1, "contract_id": cid, "subscribe": 1})
    sid = sub["subscription"]["id"]
    poc = sub["proposal_open_contract"]
    while not poc["is_valid_to_sell"]:
        poc = (await c.stream(sid))["proposal_open_contract"]
    await c.ok({"forget": sid})


async def until_sold(c: Client, rid: int) -> list[Msg]:
    seen = []
    while True:
        m = await c.next(lambda m: m.get("req_id") == rid)
        seen.append(m["proposal_open_contract"])
        if seen[-1]["is_sold"]:
            return seen


async def test_multiplier_quote_buy_update_sell(authed: Client) -> None:
    (up,) = await offer(authed, "R_100", "MULTUP")
    assert up["multiplier_range"] == [10, 20, 30, 50, 100]
    assert up["cancellation_range"] == ["5m", "10m", "15m", "30m", "60m"]
    assert up["expiry_type"] == "no_expiry" and up["min_contract_duration"] == "0"
    p = (await authed.ok({"proposal": 1, **mult(limit_order={"take_profit": 50})}))["proposal"]
    assert p["payout"] == 0 and p["ask_price"] == 10 and p["commission"] == 0.5
    assert set(p["limit_order"]) == {"stop_out", "take_profit"}
    b = await authed.ok({"buy": p["id"], "price": 10, "subscribe": 1})
    cid, rid = b["buy"]["contract_id"], b["req_id"]
    assert b["buy"]["payout"] == 0 and b["buy"]["shortcode"].startswith("MULTUP_R_100_10.00_100_")
    poc = await next_poc(authed, rid, lambda p: p.get("entry_tick") is not None)
    assert poc["multiplier"] == 100 and poc["status"] == "open"
    assert poc["limit_order"]["take_profit"]["order_amount"] == 50
    upd = await authed.ok(
        {"contract_update": 1, "contract_id": cid, "limit_order": {"take_profit": 60}}
    )
    assert upd["contract_update"]["take_profit"]["order_amount"] == 60
    assert upd["contract_update"]["stop_loss"] == {}
    hist = (await authed.ok({"contract_update_history": 1, "contract_id": cid}))[
        "contract_update_history"
    ]
    assert [h["order_amount"] for h in hist] == [60, 50]  # newest first, purchase included
    poc = await next_poc(authed, rid, lambda p: p["current_spot_time"] > p["date_start"])
    if not poc["is_sold"]:
        sold = await authed.ok({"sell": cid, "price": 0})
        final = (await until_sold(authed, rid))[-1]
        assert final["status"] == "sold" and final["sell_price"] == sold["sell"]["sold_for"]
    table = (await authed.ok({"profit_table": 1, "description": 1}))["profit_table"]
    (row,) = [r for r in table["transactions"] if r["contract_id"] == cid]
    assert row["multiplier"] == "100" and row["contract_type"] == "MULTUP" and row["payout"] == 0


async def test_multiplier_closed_by_an_order(authed: Client) -> None:
    """Take profit 0.10 and stop loss 0.60 sit a few ticks away: the first tick that reaches one
    closes the contract, at the order's amount or at that tick's PnL (slippage)."""
    txs = await authed.ok({"transaction": 1, "subscribe": 1})
    params = mult(limit_order={"take_profit": 0.1, "stop_loss": 0.6})
    buy, rid = await buy_stream(authed, params)
    final = (await until_sold(authed, rid))[-1]
    # The transaction stream shows the order levels (pip-sized strings) once they are set.
    sid = txs["subscription"]["id"]
    close = await authed.next(
        lambda m: (
            m.get("subscription", {}).get("id") == sid and m["transaction"]["action"] == "sell"
        )
    )
    assert close["transaction"]["stop_out"] == final["limit_order"]["stop_out"]["value"]
    assert final["status"] is None  # closed by the server, as Deriv reports it
    entry, exit_ = final["entry_tick"], final["exit_tick"]
    orders = final["limit_order"]
    pnl = round(10 + 1000 * (exit_ - entry) / entry - 0.5, 2)
    at_order = {10 + orders[k]["order_amount"] for k in ("take_profit", "stop_loss")}
    at_barrier = exit_ in (float(orders[k]["value"]) for k in ("take_profit", "stop_loss"))
    assert (at_barrier and final["sell_price"] in at_order) or approx_money(
        final["sell_price"], pnl
    ), final


async def test_deal_cancellation_over_the_api(authed: Client) -> None:
    buy, rid = await buy_stream(authed, mult(cancellation="5m"))
    cid = buy["contract_id"]
    fee = round(buy["buy_price"] - 10, 2)
    assert fee > 0
    refused = await authed.call(
        {"contract_update": 1, "contract_id": cid, "limit_order": {"take_profit": 5}}
    )
    assert refused["error"]["code"] == "UpdateTakeProfitNotAllowed"
    poc = await next_poc(authed, rid, lambda p: p["is_valid_to_cancel"] == 1)
    assert poc["cancellation"]["ask_price"] == fee
    done = (await authed.ok({"cancel": cid}))["cancel"]
    assert done["sold_for"] == 10 and done["contract_id"] == cid  # the stake back, not the fee
    final = (await until_sold(authed, rid))[-1]
    assert final["status"] == "cancelled" and final["profit"] == 0
    again = await authed.call({"cancel": cid})
    assert again["error"] == {"code": "CancelFailed", "message": "This contract has been sold."}
    unknown = await authed.call({"cancel": 123})
    assert unknown["error"]["code"] == "ContractNotFound"
    binary = await authed.ok(
        {
            "buy": "1",
            "price": 10,
            "parameters": {
                "contract_type": "CALL",
                "symbol": "R_100",
                "amount": 10,
                "basis": "stake",
                "duration": 5,
                "duration_unit": "m",
                "currency": "USD",
            },
        }
    )
    m = await authed.call({"cancel": binary["buy"]["contract_id"]})
    assert m["error"] == {
        "code": "CancelFailed",
        "message": "Deal cancellation is not available for this contract.",
    }


async def test_accumulator_to_settlement(authed: Client) -> None:
    (accu,) = await offer(authed, "1HZ100V", "ACCU")
    assert accu["growth_rate_range"] == [0.01, 0.02, 0.03, 0.04, 0.05] and accu["barriers"] == 2
    params = {
        "contract_type": "ACCU",
        "symbol": "1HZ100V",
        "amount": 10,
        "basis": "stake",
        "growth_rate": 0.05,
        "currency": "USD",
    }
    p = (await authed.ok({"proposal": 1, **params}))["proposal"]
    assert p["contract_details"]["maximum_ticks"] == 60 and p["payout"] == 0
    buy, rid = await buy_stream(authed, params)
    second = await authed.call({"buy": "1", "price": 10, "parameters": params})
    assert second["error"]["code"] == "OpenPositionLimitExceeded"  # one ACCU per symbol
    refused = await authed.call(
        {"contract_update": 1, "contract_id": buy["contract_id"], "limit_order": {"take_profit": 5}}
    )
    assert refused["error"]["code"] == "UpdateNotAllowed"
    states = await until_sold(authed, rid)
    passed = [s.get("tick_passed", 0) for s in states if s.get("entry_tick") is not None]
    assert passed == sorted(passed)
    final = states[-1]
    if final["status"] == "lost":  # knocked out: the exit tick left the band of the tick before
        assert final["sell_price"] == 0
        assert not float(final["low_barrier"]) < final["exit_tick"] < float(final["high_barrier"])
    else:
        assert final["status"] == "won" and final["tick_passed"] == 60
        assert final["sell_price"] == round(10 * 1.05**60, 2)


async def test_accumulator_sold_at_a_profit(authed: Client) -> None:
    params = {
        "contract_type": "ACCU",
        "symbol": "R_10",
        "amount": 10,
        "basis": "stake",
        "growth_rate": 0.01,
        "currency": "USD",
    }
    buy, rid = await buy_stream(authed, params)
    early = await authed.call({"sell": buy["contract_id"], "price": 0})
    assert early["error"]["code"] == "InvalidtoSell"
    poc = await next_poc(authed, rid, lambda p: p["is_valid_to_sell"] == 1)
    if not poc["is_sold"]:
        sold = (await authed.ok({"sell": buy["contract_id"], "price": 0}))["sell"]
        final = (await until_sold(authed, rid))[-1]
        assert final["status"] == "won" and sold["sold_for"] >= 10  # sold: status won


async def test_turbos_to_expiry(authed: Client) -> None:
    rows = await offer(authed, "R_100", "TURBOSLONG")
    assert {r["expiry_type"] for r in rows} == {"tick", "intraday", "daily"}
    choices = rows[0]["barrier_choices"]
    assert len(choices) == 20 and all(c.startswith("-") for c in choices)
    params = {
        "contract_type": "TURBOSLONG",
        "symbol": "R_100",
        "amount": 10,
        "basis": "stake",
        "barrier": choices[0],
        "duration": 5,
        "duration_unit": "t",
        "currency": "USD",
    }
    p = (await authed.ok({"proposal": 1, **params}))["proposal"]
    assert float(p["display_number_of_contracts"]) > 0 and p["barrier_choices"] == choices
    buy, rid = await buy_stream(authed, params)
    first = await next_poc(authed, rid)
    assert first["entry_tick_time"] <= first["date_start"]  # the entry is the purchase tick
    refused = await authed.call({"sell": buy["contract_id"], "price": 0})
    assert refused["error"]["code"] == "InvalidtoSell"  # tick turbos have no resale
    final = (await until_sold(authed, rid))[-1]
    n, barrier = float(final["display_number_of_contracts"]), float(final["barrier"])
    if final["sell_price"] == 0 and final["exit_tick"] <= barrier:
        assert final["status"] == "lost"  # knocked out
    else:
        assert approx_money(final["sell_price"], n * max(0.0, final["exit_tick"] - barrier))
        assert len(final["tick_stream"]) == 6  # entry + 5 ticks
    by_ppp = {k: v for k, v in params.items() if k != "barrier"}
    wrong = await authed.call({"proposal": 1, **by_ppp, "payout_per_point": 0.123})
    assert wrong["error"]["code"] == "ContractBuyValidationError"
    offered = wrong["error"]["details"]["payout_per_point_choices"]
    right = await authed.ok({"proposal": 1, **by_ppp, "payout_per_point": float(offered[0])})
    assert right["proposal"]["payout_choices"] == offered
    assert float(right["proposal"]["display_number_of_contracts"]) == float(offered[0])


async def test_vanilla_to_expiry(authed: Client) -> None:
    rows = await offer(authed, "R_100", "VANILLALONGCALL")
    intraday = next(r for r in rows if r["expiry_type"] == "intraday")
    params = {
        "contract_type": "VANILLALONGCALL",
        "symbol": "R_100",
        "amount": 10,
        "basis": "stake",
        "barrier": intraday["barrier"],
        "duration": 1,
        "duration_unit": "m",
        "currency": "USD",
    }
    p = await authed.call({"proposal": 1, **params})
    if "error" in p:  # choices for 1 minute differ from the 5-minute ones contracts_for shows
        params["barrier"] = p["error"]["details"]["barrier_choices"][2]
    buy, rid = await buy_stream(authed, params)
    final = (await until_sold(authed, rid))[-1]
    n, strike = float(final["display_number_of_contracts"]), float(final["barrier"])
    assert final["status"] is None  # non-binary: no won/lost at expiry
    assert approx_money(final["sell_price"], n * max(0.0, final["exit_tick"] - strike))
    assert final["exit_tick_time"] <= final["date_expiry"] == buy["purchase_time"] + 60


async def test_update_and_sell_errors(sim: Simulator, authed: Client) -> None:
    sim.faults.pause_symbol("R_50")
    b = await authed.ok({"buy": "1", "price": 10, "parameters": mult(symbol="R_50", multiplier=20)})
    cid = b["buy"]["contract_id"]
    early = await authed.call({"sell": cid, "price": 0})
    assert early["error"] == {"code": "InvalidtoSell", "message": "Waiting for entry tick."}
    assert (await authed.call({"sell": 999, "price": 0}))["error"]["code"] == (
        "InvalidSellContractProposal"
    )
    empty = await authed.call({"contract_update": 1, "contract_id": cid, "limit_order": {}})
    assert empty["error"]["code"] == "ContractUpdateFailure"
    bad_key = await authed.call(
        {"contract_update": 1, "contract_id": cid, "limit_order": {"stop_out": 1}}
    )
    assert bad_key["error"]["code"] == "InputValidationFailed"
    assert bad_key["error"]["message"] == "Input validation failed: limit_order"
    bad_value = await authed.call(
        {"contract_update": 1, "contract_id": cid, "limit_order": {"take_profit": "5"}}
    )
    assert bad_value["error"]["code"] == "InputValidationFailed"
    unknown = await authed.call(
        {"contract_update": 1, "contract_id": 5, "limit_order": {"take_profit": 5}}
    )
    assert unknown["error"]["code"] == "ContractNotFound"
    binary = await authed.ok(
        {
            "buy": "1",
            "price": 10,
            "parameters": {
                "contract_type": "PUT",
                "symbol": "R_100",
                "amount": 10,
                "basis": "stake",
                "duration": 5,
                "duration_unit": "m",
                "currency": "USD",
            },
        }
    )
    not_allowed = await authed.call(
        {
            "contract_update": 1,
            "contract_id": binary["buy"]["contract_id"],
            "limit_order": {"take_profit": 5},
        }
    )
    assert not_allowed["error"]["code"] == "UpdateNotAllowed"
    sim.faults.resume_symbol("R_50")
    # Once sold, updates say so.
    await wait_sellable(authed, cid)
    await authed.ok({"sell": cid, "price": 0})
    sold = await authed.call(
        {"contract_update": 1, "contract_id": cid, "limit_order": {"take_profit": 5}}
    )
    assert sold["error"] == {"code": "ContractIsSold", "message": "Contract has expired."}
