"""Buying, selling, settlement, streams of account state, and ledger consistency."""

from __future__ import annotations

from typing import Any

from websockets.asyncio.client import connect

from derivkit.sim import Simulator
from derivkit.sim.symbols import SYMBOLS

from .conftest import Client, approx_money


def params(**kw: Any) -> dict[str, Any]:
    base = {
        "contract_type": "CALL",
        "symbol": "1HZ100V",
        "duration": 3,
        "duration_unit": "t",
        "amount": 10,
        "basis": "stake",
        "currency": "USD",
    }
    base.update(kw)
    return base


async def buy_and_settle(c: Client, p: dict[str, Any], price: float = 1000) -> dict[str, Any]:
    """Buy with subscribe:1 and return the final (is_sold) proposal_open_contract payload."""
    b = await c.ok({"buy": "1", "price": price, "parameters": p, "subscribe": 1})
    rid = b["req_id"]
    sub = b["subscription"]["id"]  # the receipt names the contract's stream, as on Deriv
    while True:
        m = await c.next(
            lambda m: m.get("req_id") == rid and m["msg_type"] == "proposal_open_contract"
        )
        assert m["echo_req"]["buy"] == "1"
        assert m["subscription"]["id"] == sub == m["proposal_open_contract"]["id"]
        poc = m["proposal_open_contract"]
        if poc["is_sold"]:
            assert (await c.ok({"forget": sub}))["forget"] == 0  # the stream has ended
            return poc


async def test_rise_fall_settles_on_real_ticks(authed: Client) -> None:
    poc = await buy_and_settle(authed, params(duration=4))
    ticks = poc["tick_stream"]
    assert len(ticks) == 5
    assert poc["entry_tick_time"] == ticks[0]["epoch"] > poc["purchase_time"] - 1
    assert poc["exit_tick_time"] == ticks[-1]["epoch"] == poc["entry_tick_time"] + 4
    won = poc["exit_tick"] > poc["entry_tick"]
    assert poc["status"] == ("won" if won else "lost")
    assert poc["sell_price"] == (poc["payout"] if won else 0)
    assert approx_money(poc["profit"], poc["sell_price"] - poc["buy_price"])
    # The ticks are the symbol's real ticks.
    hist = await authed.ok(
        {
            "ticks_history": "1HZ100V",
            "start": ticks[0]["epoch"],
            "end": str(ticks[-1]["epoch"]),
            "count": 10,
        }
    )
    assert hist["history"]["prices"] == [t["tick"] for t in ticks]


async def test_digit_and_touch_outcomes(authed: Client) -> None:
    for ct, barrier in [
        ("DIGITEVEN", None),
        ("DIGITODD", None),
        ("DIGITMATCH", "3"),
        ("DIGITDIFF", "3"),
        ("DIGITOVER", "4"),
        ("DIGITUNDER", "6"),
    ]:
        p = params(contract_type=ct, duration=1, symbol="R_50")
        if barrier:
            p["barrier"] = barrier
        poc = await buy_and_settle(authed, p)
        digit = int(poc["exit_tick_display_value"][-1])
        assert len(poc["exit_tick_display_value"].split(".")[1]) == SYMBOLS["R_50"].pip_size
        expected = {
            "DIGITEVEN": digit % 2 == 0,
            "DIGITODD": digit % 2 == 1,
            "DIGITMATCH": digit == 3,
            "DIGITDIFF": digit != 3,
            "DIGITOVER": digit > 4,
            "DIGITUNDER": digit < 6,
        }[ct]
        assert poc["status"] == ("won" if expected else "lost"), poc
    for ct in ("ONETOUCH", "NOTOUCH"):
        poc = await buy_and_settle(
            authed, params(contract_type=ct, duration=5, barrier="+0.3", symbol="1HZ100V")
        )
        barrier = float(poc["barrier"])
        touched = any(t["tick"] >= barrier for t in poc["tick_stream"][1:])
        assert poc["status"] == ("won" if touched == (ct == "ONETOUCH") else "lost"), poc
        if touched:
            assert poc["exit_tick"] >= barrier  # ends at the touch


async def test_higher_lower_with_barriers(authed: Client) -> None:
    poc = await buy_and_settle(authed, params(contract_type="PUT", barrier="-0.5", duration=5))
    assert float(poc["barrier"]) == round(poc["entry_tick"] - 0.5, 2)
    assert poc["status"] == ("won" if poc["exit_tick"] < float(poc["barrier"]) else "lost")
    spot = (await authed.ok({"ticks_history": "1HZ100V", "end": "latest", "count": 1}))["history"][
        "prices"
    ][-1]
    poc = await buy_and_settle(authed, params(barrier=f"{spot + 1:.2f}", duration=5))
    assert poc["barrier"] == f"{spot + 1:.2f}"
    assert poc["status"] == ("won" if poc["exit_tick"] > spot + 1 else "lost")
    poc = await buy_and_settle(authed, params(duration=15, duration_unit="s"))
    assert poc["exit_tick_time"] <= poc["date_expiry"] == poc["purchase_time"] + 15
    poc = await buy_and_settle(authed, params(symbol="R_100", duration=15, duration_unit="s"))
    expiry = poc["date_expiry"]
    assert expiry - 2 < poc["exit_tick_time"] <= expiry and poc["exit_tick_time"] % 2 == 0
    assert poc["entry_tick_time"] > poc["purchase_time"] - 1


async def test_sell_before_expiry(authed: Client) -> None:
    b = await authed.ok(
        {
            "buy": "1",
            "price": 10,
            "parameters": params(duration=5, duration_unit="m"),
            "subscribe": 1,
        }
    )
    cid = b["buy"]["contract_id"]
    rid = b["req_id"]
    while True:
        poc = (await authed.next(lambda m: m.get("req_id") == rid))["proposal_open_contract"]
        if poc.get("entry_tick") is not None:
            break
    m = await authed.call({"sell": cid, "price": 1000})
    assert m["error"]["code"] == "PriceMoved"
    s = await authed.ok({"sell": cid, "price": 0})
    assert s["sell"]["contract_id"] == cid and 0 <= s["sell"]["sold_for"] < 20
    final = await authed.next(
        lambda m: m.get("req_id") == rid and m["proposal_open_contract"]["is_sold"] == 1
    )
    assert final["proposal_open_contract"]["status"] == "sold"
    assert final["proposal_open_contract"]["sell_price"] == s["sell"]["sold_for"]
    again = await authed.call({"sell": cid, "price": 0})
    assert again["error"]["code"] == "InvalidSellContractProposal"


async def test_single_use_proposal_forgets_stream(authed: Client) -> None:
    # A Higher contract: its price moves with the spot, so the proposal streams.
    moving = params(duration=5, barrier="+0.05")
    p = await authed.ok({"proposal": 1, **moving, "subscribe": 1})
    pid = p["proposal"]["id"]
    await authed.stream(pid)
    b = await authed.ok({"buy": pid, "price": 10})
    assert b["buy"]["buy_price"] == 10
    assert (await authed.ok({"forget": pid}))["forget"] == 0
    # A new identical proposal stream may now be opened (the old one is gone).
    await authed.ok({"proposal": 1, **moving, "subscribe": 1})


async def test_streams_of_account_state_and_consistency(sim: Simulator, authed: Client) -> None:
    bal = await authed.ok({"balance": 1, "subscribe": 1})
    txs = await authed.ok({"transaction": 1, "subscribe": 1})
    poc_all = await authed.ok({"proposal_open_contract": 1, "subscribe": 1})
    assert poc_all["proposal_open_contract"] == {}
    for i in range(4):
        await buy_and_settle(
            authed, params(duration=1 + i, contract_type="CALL" if i % 2 else "PUT")
        )
    open_buy = await authed.ok(
        {"buy": "1", "price": 10, "parameters": params(duration=10, duration_unit="m")}
    )
    sold = await authed.ok(
        {"buy": "1", "price": 10, "parameters": params(duration=10, duration_unit="m", amount=5)}
    )
    cid = sold["buy"]["contract_id"]
    while True:
        m = await authed.ok({"proposal_open_contract": 1, "contract_id": cid})
        if m["proposal_open_contract"]["is_valid_to_sell"]:
            break
    await authed.ok({"sell": cid, "price": 0})
    await authed.call({"topup_virtual": 1})  # may refuse when the balance is above 10,000

    balance = (await authed.ok({"balance": 1}))["balance"]["balance"]
    stmt = (await authed.ok({"statement": 1, "limit": 999, "description": 1}))["statement"]
    table = (await authed.ok({"profit_table": 1, "limit": 500}))["profit_table"]
    folio = (await authed.ok({"portfolio": 1}))["portfolio"]["contracts"]

    assert approx_money(balance, 10000 + sum(t["amount"] for t in stmt["transactions"]))
    assert approx_money(stmt["transactions"][0]["balance_after"], balance)
    assert [c["contract_id"] for c in folio] == [open_buy["buy"]["contract_id"]]
    assert table["count"] == 5
    deposits = sum(t["amount"] for t in stmt["transactions"] if t["action_type"] == "deposit")
    profit = sum(r["sell_price"] - r["buy_price"] for r in table["transactions"])
    open_cost = sum(c["buy_price"] for c in folio)
    assert approx_money(balance, 10000 + deposits + profit - open_cost)
    buys = [t for t in stmt["transactions"] if t["action_type"] == "buy"]
    sells = [t for t in stmt["transactions"] if t["action_type"] == "sell"]
    assert len(buys) == 6 and len(sells) == 5
    assert all("longcode" in t for t in buys)

    # The transaction stream saw every transaction, the balance stream every change.
    tx_msgs = [
        m
        for m in authed.backlog
        if m.get("subscription", {}).get("id") == txs["subscription"]["id"]
    ]
    assert sorted(m["transaction"]["transaction_id"] for m in tx_msgs) == sorted(
        t["transaction_id"] for t in stmt["transactions"]
    )
    bal_msgs = [
        m
        for m in authed.backlog
        if m.get("subscription", {}).get("id") == bal["subscription"]["id"]
    ]
    assert approx_money(bal_msgs[-1]["balance"]["balance"], balance)
    all_msgs = [
        m
        for m in authed.backlog
        if m.get("subscription", {}).get("id") == poc_all["subscription"]["id"]
    ]
    assert {m["proposal_open_contract"]["contract_id"] for m in all_msgs} >= {cid}

    # A reconnecting client sees the same account.
    async with connect(sim.url) as ws:
        c2 = Client(ws)
        await c2.authorize(sim.token)
        assert (await c2.ok({"balance": 1}))["balance"]["balance"] == balance
        assert (await c2.ok({"portfolio": 1}))["portfolio"]["contracts"] == folio


async def test_proposal_open_contract_by_id_and_list(authed: Client) -> None:
    b1 = await authed.ok(
        {"buy": "1", "price": 10, "parameters": params(duration=10, duration_unit="m")}
    )
    b2 = await authed.ok({"buy": "1", "price": 10, "parameters": params(duration=8)})
    assert "subscription" not in b1 and "subscription" not in b2  # no stream asked for
    listed = await authed.call({"proposal_open_contract": 1, "req_id": 500})
    ids = {listed["proposal_open_contract"]["contract_id"]}
    if b2["buy"]["contract_id"] not in ids:  # the tick contract may already have settled
        try:
            more = await authed.next(lambda m: m.get("req_id") == 500, timeout=0.5)
            ids.add(more["proposal_open_contract"]["contract_id"])
        except TimeoutError:
            pass
    assert b1["buy"]["contract_id"] in ids
    cid = b2["buy"]["contract_id"]
    sub = await authed.ok({"proposal_open_contract": 1, "contract_id": cid, "subscribe": 1})
    poc = sub["proposal_open_contract"]
    assert poc["contract_id"] == cid and poc["underlying"] == "1HZ100V"
    if "subscription" in sub:  # still open: stream until sold, then the stream ends
        sid = sub["subscription"]["id"]
        assert poc["id"] == sid
        while not poc["is_sold"]:
            poc = (await authed.stream(sid))["proposal_open_contract"]
        assert (await authed.ok({"forget": sid}))["forget"] == 0
    assert poc["is_sold"] == 1 and poc["status"] in ("won", "lost")
    m = await authed.call({"proposal_open_contract": 1, "contract_id": 1})
    assert m["error"]["code"] == "InvalidContractId"
