"""Every error code: shape, msg_type and envelope."""

from __future__ import annotations

import asyncio
import json

from websockets.asyncio.client import connect

from derivkit.sim import RateLimits, Simulator

from .conftest import Client

CALL_R100 = {
    "contract_type": "CALL",
    "symbol": "R_100",
    "duration": 5,
    "duration_unit": "t",
    "amount": 10,
    "basis": "stake",
    "currency": "USD",
}


def _err(m: dict, code: str, msg_type: str) -> dict:
    assert set(m["error"]) <= {"code", "message", "details"}, m
    assert m["error"]["code"] == code, m
    assert isinstance(m["error"]["message"], str) and m["error"]["message"]
    assert m["msg_type"] == msg_type, m
    return m["error"]


async def test_bad_request_non_json(client: Client) -> None:
    await client.ws.send("{not json")
    m = await client.next(lambda m: "error" in m)
    _err(m, "BadRequest", "error")
    await client.ws.send("[1, 2]")
    _err(await client.next(lambda m: "error" in m), "BadRequest", "error")
    await client.ws.send(b'{"ping": 1}')  # binary frame with JSON is accepted
    assert (await client.next(lambda m: m.get("msg_type") == "ping"))["ping"] == "pong"


async def test_unrecognised_request(client: Client) -> None:
    m = await client.call({"no_such_call": 1, "req_id": 5, "passthrough": {"p": 1}})
    _err(m, "UnrecognisedRequest", "error")
    assert m["req_id"] == 5 and m["passthrough"] == {"p": 1}
    assert m["echo_req"] == {"no_such_call": 1, "req_id": 5, "passthrough": {"p": 1}}


async def test_input_validation_failed_details(client: Client) -> None:
    m = await client.call({"ticks_history": "R_100", "count": "x", "style": "bars"})
    err = _err(m, "InputValidationFailed", "history")
    assert set(err["details"]) == {"end", "count", "style"}
    m = await client.call({"ping": 2})
    assert _err(m, "InputValidationFailed", "ping")["details"] == {"ping": "Must be 1."}
    m = await client.call({"proposal": 1, "symbol": "R_100", "currency": "USD", "amount": "ten"})
    details = _err(m, "InputValidationFailed", "proposal")["details"]
    assert set(details) == {"contract_type", "amount"}
    await client.send({"ping": 1, "req_id": "abc"})
    m = await client.next(lambda m: m["echo_req"].get("req_id") == "abc")
    assert _err(m, "InputValidationFailed", "ping")["details"] == {"req_id": "Must be an integer."}
    assert "req_id" not in m
    m = await client.call({"sell": True, "price": 0})
    _err(m, "InputValidationFailed", "sell")


async def test_sanity_check_failed(client: Client) -> None:
    m = await client.call({"ping": 1, "bad key!": 1})
    _err(m, "SanityCheckFailed", "error")
    m = await client.call({"ticks": "R" * 400})
    _err(m, "SanityCheckFailed", "error")


async def test_invalid_symbol(client: Client) -> None:
    m = await client.call({"ticks": "XYZ", "req_id": 7})
    _err(m, "InvalidSymbol", "tick")
    assert m["echo_req"] == {"ticks": "XYZ", "req_id": 7}
    for req in (
        {"ticks_history": "nope", "end": "latest"},
        {"contracts_for": "nope"},
    ):
        assert (await client.call(req))["error"]["code"] == "InvalidSymbol"
    # A proposal on an unknown symbol cannot build a contract (products doc §8).
    m = await client.call({"proposal": 1, **CALL_R100, "symbol": "nope"})
    assert _err(m, "ContractCreationFailure", "proposal")["message"] == (
        "Trading is not offered for this asset."
    )


async def test_authorization_required_and_invalid_token(client: Client) -> None:
    for call in (
        {"balance": 1},
        {"portfolio": 1},
        {"statement": 1},
        {"profit_table": 1},
        {"transaction": 1, "subscribe": 1},
        {"proposal_open_contract": 1},
        {"buy": "1", "price": 10, "parameters": CALL_R100},
        {"sell": 1, "price": 0},
        {"topup_virtual": 1},
    ):
        m = await client.call(call)
        name = next(iter(call))
        _err(m, "AuthorizationRequired", name)
    m = await client.call({"authorize": "wrong-token"})
    _err(m, "InvalidToken", "authorize")
    assert m["echo_req"]["authorize"] == "<not shown>"


async def test_already_subscribed(client: Client) -> None:
    await client.ok({"ticks": "R_100", "subscribe": 1})
    m = await client.call({"ticks": "R_100", "subscribe": 1})
    _err(m, "AlreadySubscribed", "tick")
    m = await client.call({"ticks_history": "R_100", "end": "latest", "subscribe": 1})
    _err(m, "AlreadySubscribed", "history")
    await client.ok({"ticks_history": "R_100", "end": "latest", "style": "candles", "subscribe": 1})
    m = await client.call(
        {"ticks_history": "R_100", "end": "latest", "style": "candles", "subscribe": 1}
    )
    _err(m, "AlreadySubscribed", "candles")
    prop = {"proposal": 1, **CALL_R100, "subscribe": 1}
    await client.ok(prop)
    _err(await client.call(dict(reversed(list(prop.items())))), "AlreadySubscribed", "proposal")


async def test_invalid_contract_proposal(authed: Client) -> None:
    m = await authed.call({"buy": "0000-unknown-0000-0000-0000000000000", "price": 10})
    _err(m, "InvalidContractProposal", "buy")
    p = await authed.ok({"proposal": 1, **CALL_R100})
    await authed.ok({"buy": p["proposal"]["id"], "price": 10})
    m = await authed.call({"buy": p["proposal"]["id"], "price": 10})
    _err(m, "InvalidContractProposal", "buy")


async def test_insufficient_balance_and_price_moved(authed: Client) -> None:
    big = {**CALL_R100, "amount": 20000}
    m = await authed.call({"buy": "1", "price": 20000, "parameters": big})
    _err(m, "InsufficientBalance", "buy")
    p = await authed.ok({"proposal": 1, **CALL_R100, "basis": "payout", "amount": 20})
    m = await authed.call({"buy": p["proposal"]["id"], "price": 1})
    _err(m, "PriceMoved", "buy")
    # The failed buy did not consume the proposal.
    await authed.ok({"buy": p["proposal"]["id"], "price": 20})


async def test_contract_validation_errors(authed: Client) -> None:
    """Each stage has its code (products doc §1.6): offerings, creation, buy validation."""
    bad = [
        ({**CALL_R100, "duration": 11}, "OfferingsValidationError"),
        ({**CALL_R100, "barrier": "+0.1", "duration": 2}, "OfferingsValidationError"),
        (
            {**CALL_R100, "symbol": "CRASH500", "contract_type": "DIGITEVEN"},
            "OfferingsValidationError",
        ),
        ({**CALL_R100, "contract_type": "LBFLOATCALL"}, "OfferingsValidationError"),
        (
            {**CALL_R100, "contract_type": "DIGITMATCH", "barrier": "12"},
            "ContractBuyValidationError",
        ),
        ({**CALL_R100, "contract_type": "DIGITOVER", "barrier": "9"}, "ContractBuyValidationError"),
        ({**CALL_R100, "amount": 0.1}, "ContractBuyValidationError"),
        ({**CALL_R100, "contract_type": "DIGITMATCH"}, "ContractCreationFailure"),
        ({**CALL_R100, "contract_type": "ONETOUCH"}, "ContractCreationFailure"),
        ({k: v for k, v in CALL_R100.items() if k != "duration"}, "ContractCreationFailure"),
        ({**CALL_R100, "barrier": "abc"}, "InputValidationFailed"),
        ({**CALL_R100, "barrier": 5}, "InputValidationFailed"),
    ]
    for params, code in bad:
        m = await authed.call({"proposal": 1, **params})
        assert m["error"]["code"] == code, (params, m)
        assert m["msg_type"] == "proposal"
        # buy by parameters reports the same refusals under the buy codes
        b = await authed.call({"buy": "1", "price": 100, "parameters": params})
        buy_code = {
            "OfferingsValidationError": "InvalidOfferings",
            "ContractBuyValidationError": "InvalidtoBuy",
        }.get(code, code)
        assert b["error"]["code"] == buy_code, (params, b)
        assert b["error"]["message"] == m["error"]["message"]


async def test_sell_errors(authed: Client) -> None:
    m = await authed.call({"sell": 123, "price": 0})
    _err(m, "InvalidSellContractProposal", "sell")


async def test_rate_limit_and_ping_exempt() -> None:
    limits = RateLimits(general_per_minute=5, outcome_per_minute=2, max_proposal_subscriptions=1)
    async with Simulator(speed=50, rate_limits=limits) as sim, connect(sim.url) as ws:
        c = Client(ws)
        for _ in range(5):
            await c.ok({"website_status": 1})
        _err(await c.call({"website_status": 1}), "RateLimit", "website_status")
        # ping/time/forget are outside the budgets: 1,000 concurrent pings all answered
        await asyncio.gather(*(c.send({"ping": 1, "req_id": 10_000 + i}) for i in range(1000)))
        seen = 0
        async with asyncio.timeout(10):
            while seen < 1000:
                m = json.loads(await ws.recv())
                assert m.get("ping") == "pong", m
                seen += 1
        assert (await c.ok({"time": 1}))["msg_type"] == "time"
        # Another connection has its own budget.
        async with connect(sim.url) as ws2:
            c2 = Client(ws2)
            p = {"proposal": 1, **CALL_R100, "subscribe": 1}
            await c2.ok(p)
            _err(await c2.call({**p, "duration": 6}), "RateLimit", "proposal")
            await c2.ok({"forget_all": "proposal"})
            once = {k: v for k, v in p.items() if k != "subscribe"}
            _err(await c2.call({**once, "duration": 7}), "RateLimit", "proposal")
