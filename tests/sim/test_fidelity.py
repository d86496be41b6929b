"""The simulator against the official v3 schemas and Deriv's behaviour: strict requests, reply
shapes the receive schemas allow, several accounts on one connection, the newer calls, and
proposal streaming."""

from __future__ import annotations

from typing import Any

import pytest
from websockets.asyncio.client import connect

from derivkit.sim import RateLimits, Simulator

from .conftest import Client

#: Keys the receive schemas allow (additionalProperties: false), by object.
AUTHORIZE_KEYS = {
    "account_list",
    "balance",
    "country",
    "currency",
    "email",
    "fullname",
    "is_virtual",
    "landing_company_fullname",
    "landing_company_name",
    "linked_to",
    "local_currencies",
    "loginid",
    "preferred_language",
    "scopes",
    "upgradeable_landing_companies",
    "user_id",
}
ACCOUNT_LIST_KEYS = {
    "account_category",
    "account_type",
    "broker",
    "created_at",
    "currency",
    "currency_type",
    "excluded_until",
    "is_disabled",
    "is_virtual",
    "landing_company_name",
    "linked_to",
    "loginid",
}
CURRENCY_CONFIG_KEYS = {
    "fractional_digits",
    "is_deposit_suspended",
    "is_suspended",
    "is_withdrawal_suspended",
    "name",
    "stake_default",
    "transfer_between_accounts",
    "type",
}
CURRENCY_CONFIG_REQUIRED = CURRENCY_CONFIG_KEYS - {"name"}
WEBSITE_STATUS_KEYS = {
    "api_call_limits",
    "broker_codes",
    "clients_country",
    "currencies_config",
    "dxtrade_status",
    "message",
    "mt5_status",
    "p2p_config",
    "payment_agents",
    "site_status",
    "supported_languages",
    "terms_conditions_version",
}
PROFIT_ROW_KEYS = {
    "app_id",
    "buy_price",
    "contract_id",
    "contract_type",
    "deal_cancellation_duration",
    "duration_type",
    "growth_rate",
    "longcode",
    "multiplier",
    "payout",
    "purchase_time",
    "sell_price",
    "sell_time",
    "shortcode",
    "transaction_id",
    "underlying_symbol",
}
CALL = {
    "contract_type": "CALL",
    "symbol": "R_100",
    "amount": 10,
    "basis": "stake",
    "duration": 5,
    "duration_unit": "m",
    "currency": "USD",
}


async def test_replies_have_only_schema_fields(authed: Client, sim: Simulator) -> None:
    ws = (await authed.ok({"website_status": 1}))["website_status"]
    assert set(ws) <= WEBSITE_STATUS_KEYS
    usd = ws["currencies_config"]["USD"]
    assert CURRENCY_CONFIG_REQUIRED <= set(usd) <= CURRENCY_CONFIG_KEYS
    assert set(usd["transfer_between_accounts"]) == {"fees", "limits"}
    sub = await authed.ok({"website_status": 1, "subscribe": 1})
    assert set(sub["website_status"]) <= WEBSITE_STATUS_KEYS  # no "id" in the payload
    auth = (await authed.ok({"authorize": sim.token}))["authorize"]
    assert set(auth) <= AUTHORIZE_KEYS
    assert all(set(a) <= ACCOUNT_LIST_KEYS for a in auth["account_list"])
    mult = {
        "contract_type": "MULTUP",
        "symbol": "1HZ100V",
        "amount": 10,
        "basis": "stake",
        "multiplier": 100,
        "currency": "USD",
        "limit_order": {"stop_loss": 0.4},
    }
    m = await authed.ok({"buy": "1", "price": 10, "parameters": mult, "subscribe": 1})
    while not (await authed.next(lambda x: x.get("req_id") == m["req_id"]))[
        "proposal_open_contract"
    ]["is_sold"]:
        pass
    for description in (0, 1):
        rows = (await authed.ok({"profit_table": 1, "description": description}))["profit_table"][
            "transactions"
        ]
        assert rows and all(set(r) <= PROFIT_ROW_KEYS for r in rows)
        assert all("profit" not in r for r in rows)
        assert all(("longcode" in r) == bool(description) for r in rows)


UNKNOWN_FIELD_CALLS: list[dict[str, Any]] = [
    {"ping": 1},
    {"time": 1},
    {"website_status": 1},
    {"active_symbols": "brief"},
    {"contracts_for": "R_100"},
    {"ticks": "R_100"},
    {"ticks_history": "R_100", "end": "latest"},
    {"proposal": 1, **CALL},
    {"buy": "1", "price": 10, "parameters": CALL},
    {"sell": 1, "price": 0},
    {"cancel": 1},
    {"balance": 1},
    {"portfolio": 1},
    {"statement": 1},
    {"profit_table": 1},
    {"proposal_open_contract": 1},
    {"transaction": 1, "subscribe": 1},
    {"forget_all": "ticks"},
    {"topup_virtual": 1},
    {"logout": 1},
    {"trading_times": "today"},
    {"payout_currencies": 1},
    {"get_limits": 1},
    {"contract_update": 1, "contract_id": 1, "limit_order": {}},
]


@pytest.mark.parametrize("request_", UNKNOWN_FIELD_CALLS, ids=lambda r: next(iter(r)))
async def test_unknown_fields_are_refused_by_name(authed: Client, request_: dict[str, Any]) -> None:
    m = await authed.call({**request_, "colour": "blue"})
    assert m["error"]["code"] == "InputValidationFailed", m
    assert m["error"]["message"] == "Input validation failed: colour"
    assert set(m["error"]["details"]) == {"colour"}


async def test_mistyped_and_missing_fields(authed: Client) -> None:
    cases = [
        ({"proposal": 1, **{k: v for k, v in CALL.items() if k != "currency"}}, {"currency"}),
        ({"proposal": 1, **CALL, "selected_tick": "1"}, {"selected_tick"}),
        ({"proposal": 1, **CALL, "growth_rate": "0.01"}, {"growth_rate"}),
        ({"proposal": 1, **CALL, "limit_order": {"take_profit": "5"}}, {"limit_order"}),
        ({"proposal": 1, **CALL, "limit_order": {"trailing": 5}}, {"limit_order"}),
        ({"proposal": 1, **CALL, "cancellation": ""}, {"cancellation"}),
        ({"buy": "1", "price": 10, "parameters": {**CALL, "colour": 1}}, {"colour"}),
        ({"ticks_history": "R_100", "end": 1700000000}, {"end"}),
        ({"ticks_history": "R_100", "end": "latest", "count": "10"}, {"count"}),
        ({"profit_table": 1, "date_from": 1700000000}, {"date_from"}),
        ({"statement": 1, "date_from": "2024-01-01"}, {"date_from"}),
        ({"balance": 1, "account": "everyone"}, {"account"}),
        ({"sell": "1", "price": 0}, {"sell"}),
        ({"authorize": "x", "tokens": "y"}, {"tokens"}),
    ]
    for request_, fields in cases:
        m = await authed.call(request_)
        assert m["error"]["code"] == "InputValidationFailed", (request_, m)
        assert set(m["error"]["details"]) == fields, (request_, m)
    ok = await authed.ok({"profit_table": 1, "date_from": "1700000000", "date_to": "2030-01-01"})
    assert ok["profit_table"]["count"] == 0


async def test_loginid_and_several_accounts() -> None:
    async with (
        Simulator(
            tokens=["demoA"], real_tokens=["realB"], speed=50, rate_limits=RateLimits.unlimited()
        ) as sim,
        connect(sim.url) as ws,
    ):
        c = Client(ws)
        alone = (await c.ok({"authorize": "demoA"}))["authorize"]
        assert {a["loginid"] for a in alone["account_list"]} == {"VRTC9000001", "CR9000001"}
        refused = await c.call({"balance": 1, "loginid": "CR9000001"})  # not authorized here
        assert refused["error"]["code"] == "PermissionDenied"
        both = (await c.ok({"authorize": "demoA", "tokens": ["realB"]}))["authorize"]
        assert both["loginid"] == "VRTC9000001"
        real = (await c.ok({"balance": 1, "loginid": "CR9000001"}))["balance"]
        assert real["loginid"] == "CR9000001"
        b = await c.ok({"buy": "1", "price": 10, "parameters": CALL, "loginid": "CR9000001"})
        assert b["buy"]["balance_after"] == 9990
        demo = (await c.ok({"balance": 1}))["balance"]
        assert demo == {"balance": 10000.0, "currency": "USD", "loginid": "VRTC9000001"}
        every = (await c.ok({"balance": 1, "account": "all"}))["balance"]
        assert set(every["accounts"]) == {"VRTC9000001", "CR9000001"}
        assert every["accounts"]["CR9000001"]["balance"] == 9990
        assert every["total"]["deriv"] == {"amount": 9990.0, "currency": "USD"}
        assert every["total"]["deriv_demo"]["amount"] == 10000.0
        sub = await c.ok({"balance": 1, "account": "all", "subscribe": 1})
        await c.ok({"buy": "1", "price": 10, "parameters": CALL, "loginid": "CR9000001"})
        update = (await c.stream(sub["subscription"]["id"]))["balance"]
        assert update["loginid"] == "CR9000001" and update["balance"] == 9980
        assert update["total"]["deriv"]["amount"] == 9980
        bad = await c.call({"authorize": "demoA", "tokens": ["nope"]})
        assert bad["error"]["code"] == "InvalidToken"


async def test_new_calls(authed: Client) -> None:
    tt = (await authed.ok({"trading_times": "today"}))["trading_times"]
    symbols = {s["symbol"] for m in tt["markets"] for sm in m["submarkets"] for s in sm["symbols"]}
    assert {"R_100", "1HZ100V", "stpRNG"} <= symbols
    durations = (await authed.ok({"trading_durations": 1}))["trading_durations"]
    vol = next(d for d in durations if d["submarket"]["name"] == "random_index")
    kinds = {t["trade_type"]["name"]: t["durations"] for t in vol["data"][0]["trade_durations"]}
    assert {"rise_fall", "high_low", "multiplier", "accumulator", "turbos", "vanilla"} <= set(kinds)
    assert {"name": "ticks", "display_name": "Ticks", "min": 5, "max": 10} in kinds["high_low"]
    assert (await authed.ok({"payout_currencies": 1}))["payout_currencies"] == ["USD"]
    limits = (await authed.ok({"get_limits": 1}))["get_limits"]
    assert limits["payout"] > 0 and "synthetic_index" in limits["market_specific"]
    status = (await authed.ok({"get_account_status": 1}))["get_account_status"]
    assert {
        "currency_config",
        "p2p_status",
        "prompt_client_to_authenticate",
        "risk_classification",
        "status",
    } <= set(status)
    accounts = (await authed.ok({"account_list": 1}))["account_list"]
    assert accounts[0]["loginid"] == "VRTC9000001"
    batch = await authed.ok({"ticks_batch": 1, "market": "synthetic_index", "subscribe": 1})
    items = batch["ticks_batch"]
    assert len(items) > 10 and all(isinstance(i["quote"], str) for i in items)
    assert set(items[0]) == {"ask", "bid", "change", "epoch", "quote", "symbol"}
    later = await authed.stream(batch["subscription"]["id"])
    assert later["msg_type"] == "ticks_batch" and later["ticks_batch"]
    assert max(i["epoch"] for i in later["ticks_batch"]) > max(i["epoch"] for i in items) - 1
    assert (await authed.ok({"forget_all": "ticks"}))["forget_all"] == [batch["subscription"]["id"]]


async def test_fixed_prices_are_not_streamed(client: Client) -> None:
    """A digit contract's price cannot change: its proposal sends no update (Deriv does not
    stream it); a Higher contract's does, as the spot moves."""
    ticks = await client.ok({"ticks": "R_100", "subscribe": 1})
    digit = {**CALL, "contract_type": "DIGITEVEN", "duration": 5, "duration_unit": "t"}
    fixed = await client.ok({"proposal": 1, **digit, "subscribe": 1})
    moving = await client.ok({"proposal": 1, **CALL, "barrier": "+0.50", "subscribe": 1})
    for _ in range(3):  # the proposal listeners run after the tick listener on each tick
        await client.stream(ticks["subscription"]["id"])
    await client.stream(moving["subscription"]["id"])
    fixed_id = fixed["subscription"]["id"]
    assert not [m for m in client.backlog if m.get("subscription", {}).get("id") == fixed_id]


async def test_contracts_for_offers_what_deriv_does(client: Client) -> None:
    step = (await client.ok({"contracts_for": "stpRNG"}))["contracts_for"]["available"]
    assert not [a for a in step if a["contract_category"] == "digits"]  # parity alternates
    assert {"MULTUP", "MULTDOWN"} <= {a["contract_type"] for a in step}
    refused = await client.call(
        {
            "proposal": 1,
            **CALL,
            "symbol": "stpRNG",
            "contract_type": "DIGITEVEN",
            "duration": 1,
            "duration_unit": "t",
        }
    )
    assert refused["error"]["code"] == "OfferingsValidationError"
    vol = (await client.ok({"contracts_for": "R_100"}))["contracts_for"]["available"]
    by_type = {a["contract_type"]: a for a in vol if a["contract_category"] == "digits"}
    assert by_type["DIGITMATCH"]["barriers"] == 1 and by_type["DIGITEVEN"]["barriers"] == 0
    touch = [a for a in vol if a["contract_type"] == "ONETOUCH"]
    assert {(a["expiry_type"], a["min_contract_duration"]) for a in touch} == {
        ("tick", "5t"),
        ("intraday", "2m"),
        ("daily", "1d"),
    }
    crash = (await client.ok({"contracts_for": "CRASH500"}))["contracts_for"]["available"]
    (up,) = [a for a in crash if a["contract_type"] == "MULTUP"]
    assert up["multiplier_range"] == [100, 200, 300, 400] and up["cancellation_range"] == []


async def test_one_tick_digit_settles_on_its_entry_over_the_api(authed: Client) -> None:
    digit = {**CALL, "contract_type": "DIGITODD", "duration": 1, "duration_unit": "t"}
    b = await authed.ok({"buy": "1", "price": 10, "parameters": digit, "subscribe": 1})
    while True:
        poc = (await authed.next(lambda m: m.get("req_id") == b["req_id"]))[
            "proposal_open_contract"
        ]
        if poc["is_sold"]:
            break
    assert poc["exit_tick_time"] == poc["entry_tick_time"] and len(poc["tick_stream"]) == 1
