"""Success paths and reply shapes of every call, over a real socket."""

from __future__ import annotations

import re

from derivkit.sim import Simulator
from derivkit.sim.symbols import SYMBOLS

from .conftest import Client

ID = re.compile(r"^[\w-]{32,128}$")


async def test_ping_time_and_envelope(client: Client, sim: Simulator) -> None:
    m = await client.call({"ping": 1, "req_id": 42, "passthrough": {"a": [1, {"b": 2}]}})
    assert m == {
        "echo_req": {"ping": 1, "req_id": 42, "passthrough": {"a": [1, {"b": 2}]}},
        "msg_type": "ping",
        "ping": "pong",
        "req_id": 42,
        "passthrough": {"a": [1, {"b": 2}]},
    }
    t = await client.ok({"time": 1})
    assert t["msg_type"] == "time" and isinstance(t["time"], int)
    assert abs(t["time"] - sim.clock.now()) < 5
    # req_id is echoed only when sent
    await client.send({"ping": 1})
    m = await client.next(lambda m: m.get("msg_type") == "ping" and "req_id" not in m)
    assert m["echo_req"] == {"ping": 1} and "passthrough" not in m


async def test_authorize_masks_token_and_describes_account(client: Client, sim: Simulator) -> None:
    m = await client.ok({"authorize": sim.token, "passthrough": {"x": 1}})
    assert m["echo_req"]["authorize"] == "<not shown>"
    assert sim.token not in str(m)
    a = m["authorize"]
    assert a["loginid"].startswith("VRTC") and a["is_virtual"] == 1
    assert a["currency"] == "USD" and a["balance"] == 10000
    assert a["account_list"][0]["loginid"] == a["loginid"]
    assert "trade" in a["scopes"]
    assert m["passthrough"] == {"x": 1}


async def test_real_tokens_give_real_accounts() -> None:
    async with Simulator(tokens=["demo1"], real_tokens=["real1"], speed=50) as sim:
        from websockets.asyncio.client import connect

        async with connect(sim.url) as ws:
            c = Client(ws)
            real = (await c.authorize("real1"))["authorize"]
            assert real["loginid"].startswith("CR") and real["is_virtual"] == 0
            assert real["landing_company_name"] == "svg"
            demo = (await c.authorize("demo1"))["authorize"]
            assert demo["loginid"].startswith("VRTC") and demo["is_virtual"] == 1
            assert sim.token == "demo1"


async def test_logout(authed: Client) -> None:
    assert (await authed.ok({"logout": 1}))["logout"] == 1
    m = await authed.call({"balance": 1})
    assert m["error"]["code"] == "AuthorizationRequired"


async def test_balance_and_subscription(authed: Client) -> None:
    m = await authed.ok({"balance": 1})
    assert m["balance"] == {"balance": 10000.0, "currency": "USD", "loginid": "VRTC9000001"}
    s = await authed.ok({"balance": 1, "subscribe": 1})
    sid = s["subscription"]["id"]
    assert ID.match(sid) and s["balance"]["id"] == sid


async def test_ticks_single_and_list(client: Client, sim: Simulator) -> None:
    m = await client.ok({"ticks": "R_50", "subscribe": 1})
    assert m["msg_type"] == "tick"
    tick = m["tick"]
    assert set(tick) >= {"symbol", "epoch", "quote", "ask", "bid", "pip_size", "id"}
    assert tick["pip_size"] == 4 and tick["epoch"] % 2 == 0
    sid = m["subscription"]["id"]
    assert tick["id"] == sid and ID.match(sid)
    nxt = await client.stream(sid)
    assert nxt["tick"]["epoch"] == tick["epoch"] + 2 and nxt["req_id"] == m["req_id"]
    assert nxt["echo_req"] == m["echo_req"]
    many = await client.call({"ticks": ["1HZ10V", "1HZ25V"], "subscribe": 1, "req_id": 77})
    other = await client.next(lambda x: x.get("req_id") == 77 and x is not many)
    symbols = {many["tick"]["symbol"], other["tick"]["symbol"]}
    assert symbols == {"1HZ10V", "1HZ25V"}
    assert many["subscription"]["id"] != other["subscription"]["id"]
    # v3 ticks always stream: the schema allows only subscribe 1.
    refused = await client.call({"ticks": "R_10", "subscribe": 0})
    assert refused["error"]["code"] == "InputValidationFailed"
    assert set(refused["error"]["details"]) == {"subscribe"}


async def test_ticks_history_ticks_and_subscribe(client: Client) -> None:
    m = await client.ok(
        {"ticks_history": "R_100", "end": "latest", "count": 5000, "style": "ticks"}
    )
    assert m["msg_type"] == "history" and m["pip_size"] == 2
    times, prices = m["history"]["times"], m["history"]["prices"]
    assert len(times) == len(prices) == 5000
    assert all(b - a == 2 for a, b in zip(times, times[1:], strict=False))
    s = await client.ok({"ticks_history": "1HZ100V", "end": "latest", "count": 3, "subscribe": 1})
    sid = s["subscription"]["id"]
    t = await client.stream(sid)
    assert t["msg_type"] == "tick" and t["tick"]["id"] == sid
    assert t["tick"]["epoch"] > s["history"]["times"][-1]
    ranged = await client.ok(
        {"ticks_history": "R_100", "start": times[10], "end": str(times[20]), "count": 100}
    )
    assert ranged["history"]["times"] == times[10:21]


async def test_ticks_history_candles_and_ohlc(client: Client) -> None:
    for g in (60, 120, 180, 300, 600, 900, 1800, 3600, 7200, 14400, 28800, 86400):
        m = await client.ok(
            {
                "ticks_history": "R_25",
                "end": "latest",
                "count": 5000,
                "style": "candles",
                "granularity": g,
            }
        )
        assert m["msg_type"] == "candles" and len(m["candles"]) == 5000
        c = m["candles"][-1]
        assert set(c) == {"epoch", "open", "high", "low", "close"} and c["epoch"] % g == 0
    s = await client.ok(
        {
            "ticks_history": "1HZ50V",
            "end": "latest",
            "count": 10,
            "style": "candles",
            "granularity": 60,
            "subscribe": 1,
        }
    )
    sid = s["subscription"]["id"]
    o1 = await client.stream(sid)
    o2 = await client.stream(sid)
    assert o1["msg_type"] == "ohlc"
    ohlc = o2["ohlc"]
    for k in ("open", "high", "low", "close"):
        assert isinstance(ohlc[k], str)
    assert ohlc["granularity"] == 60 and ohlc["open_time"] % 60 == 0 and ohlc["id"] == sid
    assert float(ohlc["low"]) <= float(ohlc["close"]) <= float(ohlc["high"])


async def test_active_symbols(client: Client) -> None:
    brief = (await client.ok({"active_symbols": "brief", "product_type": "basic"}))[
        "active_symbols"
    ]
    names = {s["symbol"] for s in brief}
    assert names == set(SYMBOLS)
    r100 = next(s for s in brief if s["symbol"] == "R_100")
    assert r100["display_name"] == "Volatility 100 Index" and r100["pip"] == 0.01
    assert r100["market"] == "synthetic_index" and r100["exchange_is_open"] == 1
    assert "spot" not in r100
    full = (await client.ok({"active_symbols": "full"}))["active_symbols"]
    assert all("spot" in s and "spot_time" in s for s in full)


async def test_contracts_for(client: Client) -> None:
    m = (await client.ok({"contracts_for": "R_100", "currency": "USD"}))["contracts_for"]
    types = {a["contract_type"] for a in m["available"]}
    assert types >= {"CALL", "PUT", "ONETOUCH", "NOTOUCH", "DIGITMATCH", "DIGITEVEN", "DIGITOVER"}
    assert m["hit_count"] == len(m["available"])
    assert all(a["underlying_symbol"] == "R_100" for a in m["available"])
    assert {"1t", "15s"} <= {a["min_contract_duration"] for a in m["available"]}
    crash = (await client.ok({"contracts_for": "CRASH500"}))["contracts_for"]
    assert not any(a["contract_category"] == "digits" for a in crash["available"])


async def test_website_status() -> None:
    from websockets.asyncio.client import connect

    async with Simulator(speed=50) as sim, connect(sim.url) as ws:
        client = Client(ws)
        m = (await client.ok({"website_status": 1}))["website_status"]
        sub = await client.ok({"website_status": 1, "subscribe": 1})
        assert "id" not in sub["website_status"]  # not in the schema: the id is the envelope's
        assert ID.match(sub["subscription"]["id"])
    limits = m["api_call_limits"]
    assert limits["max_proposal_subscription"]["max"] == 5
    assert limits["max_requestes_general"]["minutely"] == 180
    assert limits["max_requests_outcome"]["hourly"] == 1500
    assert limits["max_requests_pricing"]["minutely"] == 80
    assert m["currencies_config"]["USD"]["fractional_digits"] == 2
    assert m["site_status"] == "up"


async def test_proposal_shape_and_stream(client: Client) -> None:
    req = {
        "proposal": 1,
        "amount": 10,
        "basis": "stake",
        "contract_type": "CALL",
        "barrier": "+0.05",  # Higher: its price and barrier move with the spot, so it streams
        "currency": "USD",
        "duration": 5,
        "duration_unit": "t",
        "symbol": "1HZ100V",
        "subscribe": 1,
    }
    m = await client.ok(req)
    p = m["proposal"]
    assert p["ask_price"] == 10 and p["display_value"] == "10.00"
    assert 18 < p["payout"] < 24
    assert p["id"] == m["subscription"]["id"] and ID.match(p["id"])
    assert "Volatility 100 (1s) Index" in p["longcode"]
    again = await client.stream(p["id"])
    assert again["proposal"]["spot_time"] > p["spot_time"]
    once = {k: v for k, v in req.items() if k != "subscribe"}
    payout = await client.ok({**once, "basis": "payout", "amount": 20})
    assert payout["proposal"]["payout"] == 20 and 9.5 < payout["proposal"]["ask_price"] < 11


async def test_topup_virtual(authed: Client) -> None:
    m = await authed.call({"topup_virtual": 1})
    assert m["error"]["code"] == "TopupVirtualError"
    await authed.ok(
        {
            "buy": "1",
            "price": 100,
            "parameters": {
                "contract_type": "CALL",
                "symbol": "R_100",
                "duration": 5,
                "duration_unit": "m",
                "amount": 100,
                "basis": "stake",
                "currency": "USD",
            },
        }
    )
    t = await authed.ok({"topup_virtual": 1})
    assert t["topup_virtual"] == {"amount": 100.0, "currency": "USD"}
    assert (await authed.ok({"balance": 1}))["balance"]["balance"] == 10000.0
