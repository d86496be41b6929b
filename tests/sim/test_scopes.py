"""Token scopes are enforced per call, as Deriv's send schemas declare (``auth_scopes``): a token
lacking every scope a call lists gets ``PermissionDenied`` and the call has no effect."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect

from derivkit.sim import RateLimits, Simulator
from derivkit.sim.handlers import HANDLERS
from derivkit.sim.scopes import CALL_AUTH, SCOPES
from derivkit.sim.validation import SPECS

from .conftest import Client

Msg = dict[str, Any]

RISE = {
    "contract_type": "CALL",
    "symbol": "R_100",
    "duration": 5,
    "duration_unit": "m",
    "amount": 10,
    "basis": "stake",
    "currency": "USD",
}
MULT = {
    "contract_type": "MULTUP",
    "symbol": "R_100",
    "amount": 10,
    "basis": "stake",
    "multiplier": 100,
    "currency": "USD",
    "cancellation": "60m",
}
TOKENS = {
    "trader-token": SCOPES,
    "looker-token": ("read",),
    "doer-token": ("trade",),
    "history-token": ("trading_information",),
    "everyday-token": ("read", "trade"),
    "real-everyday-token": ("read", "trade"),
    "real-admin-token": ("read", "admin"),
}


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    async with Simulator(
        seed=11,
        speed=50,
        tokens=["trader-token"],
        rate_limits=RateLimits.unlimited(),
        idle_timeout=100_000,
    ) as s:
        for token, scopes in TOKENS.items():
            if token != "trader-token":
                s.add_account(token, real=token.startswith("real-"), scopes=scopes)
        yield s


@asynccontextmanager
async def connected(sim: Simulator, token: str, **authorize: Any) -> AsyncIterator[Client]:
    """A connection logged in with ``token`` (and any other ``authorize`` fields)."""
    async with connect(sim.url + "?app_id=1089") as ws:
        client = Client(ws)
        auth = await client.ok({"authorize": token, **authorize})
        assert auth["authorize"]["scopes"] == list(TOKENS[token])
        yield client


@pytest.fixture
async def looker(sim: Simulator) -> AsyncIterator[Client]:
    async with connected(sim, "looker-token") as client:
        yield client


@pytest.fixture
async def doer(sim: Simulator) -> AsyncIterator[Client]:
    async with connected(sim, "doer-token") as client:
        yield client


def assert_denied(reply: Msg, request: Msg, msg_type: str, needed: str) -> None:
    """Deriv's error shape: the request echoed, the call's msg_type, its req_id."""
    assert reply["error"] == {
        "code": "PermissionDenied",
        "message": f"Permission denied, requires {needed} scope.",
    }
    assert reply["msg_type"] == msg_type
    assert reply["req_id"] == request["req_id"]
    assert reply["echo_req"] == request
    assert msg_type not in reply and "subscription" not in reply


def ledger(sim: Simulator, token: str) -> tuple[float, int, int]:
    """What a refused call must not change: balance, contracts, transactions."""
    acc = sim.accounts[token]
    return acc.balance, len(acc.contracts), len(acc.transactions)


async def test_a_read_only_token_reads_and_streams_the_account(sim: Simulator, looker: Client):
    for request in (
        {"balance": 1},
        {"balance": 1, "account": "all"},
        {"portfolio": 1},
        {"statement": 1, "description": 1},
        {"profit_table": 1},
        {"proposal_open_contract": 1},
        {"get_limits": 1},
        {"get_account_status": 1},
        {"get_self_exclusion": 1},
        {"account_list": 1},
        {"proposal": 1, **RISE},
    ):
        await looker.ok(request)
    history = await looker.call({"contract_update_history": 1, "contract_id": 1})
    assert history["error"]["code"] != "PermissionDenied"  # allowed, only the contract is unknown
    for request in (
        {"balance": 1, "subscribe": 1},
        {"transaction": 1, "subscribe": 1},
        {"proposal_open_contract": 1, "subscribe": 1},
    ):
        assert (await looker.ok(request))["subscription"]["id"]


async def test_a_read_only_token_cannot_trade_and_nothing_is_bought(sim: Simulator, looker: Client):
    before = ledger(sim, "looker-token")
    price = await looker.ok({"proposal": 1, **RISE})
    refused = [
        {"buy": price["proposal"]["id"], "price": 100, "req_id": 101},
        {"buy": "1", "price": 100, "parameters": RISE, "req_id": 102, "passthrough": {"n": 1}},
        {"buy": "1", "price": 100, "parameters": MULT, "subscribe": 1, "req_id": 103},
        {"sell": 1, "price": 0, "req_id": 104},
        {"cancel": 1, "req_id": 105},
        {"contract_update": 1, "contract_id": 1, "limit_order": {"take_profit": 5}, "req_id": 106},
        {"topup_virtual": 1, "req_id": 107},
    ]
    for request in refused:
        reply = await looker.call(request)
        assert_denied(reply, request, next(iter(request)), "trade")
        if "passthrough" in request:
            assert reply["passthrough"] == request["passthrough"]
    assert ledger(sim, "looker-token") == before
    assert (await looker.ok({"portfolio": 1}))["portfolio"]["contracts"] == []
    assert (await looker.ok({"statement": 1}))["statement"]["count"] == 0


async def test_a_connection_whose_token_cannot_trade_leaves_the_other_accounts_contract(
    sim: Simulator,
):
    """``tokens`` adds the trader's account, but the connection logged in read-only: selling,
    cancelling or updating the trader's open contract by ``loginid`` is refused."""
    trader = sim.accounts["trader-token"].loginid
    async with connected(sim, "trader-token") as owner:
        bought = await owner.ok({"buy": "1", "price": 100, "parameters": MULT})
        cid = bought["buy"]["contract_id"]
    before = ledger(sim, "trader-token")
    async with connected(sim, "looker-token", tokens=["trader-token"]) as mixed:
        for request in (
            {"sell": cid, "price": 0, "loginid": trader},
            {"cancel": cid, "loginid": trader},
            {
                "contract_update": 1,
                "contract_id": cid,
                "limit_order": {"stop_loss": 5},
                "loginid": trader,
            },
            {"buy": "1", "price": 100, "parameters": RISE, "loginid": trader},
        ):
            request = {**request, "req_id": 7}
            assert_denied(await mixed.call(request), request, next(iter(request)), "trade")
        # reading that account is fine: the connection's token has read
        contracts = (await mixed.ok({"portfolio": 1, "loginid": trader}))["portfolio"]["contracts"]
        assert [c["contract_id"] for c in contracts] == [cid]
    assert ledger(sim, "trader-token") == before
    assert sim.accounts["trader-token"].contracts[cid].is_sold is False


async def test_a_loginid_whose_token_cannot_trade_is_refused_too(sim: Simulator):
    looker = sim.accounts["looker-token"].loginid
    before = ledger(sim, "looker-token")
    async with connected(sim, "everyday-token", tokens=["looker-token"]) as client:
        request = {"buy": "1", "price": 100, "parameters": RISE, "loginid": looker, "req_id": 3}
        assert_denied(await client.call(request), request, "buy", "trade")
        await client.ok({"buy": "1", "price": 100, "parameters": RISE})  # its own account
    assert ledger(sim, "looker-token") == before
    assert len(sim.accounts["everyday-token"].contracts) == 1


async def test_a_trade_only_token_trades_but_cannot_read(sim: Simulator, doer: Client):
    for request, call in (
        ({"balance": 1}, "balance"),
        ({"balance": 1, "subscribe": 1}, "balance"),
        ({"portfolio": 1}, "portfolio"),
        ({"statement": 1}, "statement"),
        ({"profit_table": 1}, "profit_table"),
        ({"transaction": 1, "subscribe": 1}, "transaction"),
        ({"proposal_open_contract": 1, "subscribe": 1}, "proposal_open_contract"),
    ):
        request = {**request, "req_id": 9}
        assert_denied(await doer.call(request), request, call, "read or trading_information")
    for request in ({"get_limits": 1}, {"get_account_status": 1}, {"account_list": 1}):
        request = {**request, "req_id": 10}
        assert_denied(await doer.call(request), request, next(iter(request)), "read")
    # buying needs trade only, and its own contract stream comes with the buy
    bought = await doer.ok({"buy": "1", "price": 100, "parameters": RISE, "subscribe": 1})
    assert bought["buy"]["contract_id"] in sim.accounts["doer-token"].contracts
    poc = await doer.next(lambda m: m.get("msg_type") == "proposal_open_contract")
    assert poc["proposal_open_contract"]["contract_id"] == bought["buy"]["contract_id"]


async def test_trading_information_alone_is_enough_for_the_calls_that_list_it(sim: Simulator):
    async with connected(sim, "history-token") as client:
        for request in ({"balance": 1}, {"statement": 1}, {"profit_table": 1}, {"portfolio": 1}):
            await client.ok(request)
        request = {"get_limits": 1, "req_id": 4}
        assert_denied(await client.call(request), request, "get_limits", "read")


async def test_set_self_exclusion_needs_admin(sim: Simulator):
    limit = {"set_self_exclusion": 1, "max_open_bets": 3, "req_id": 5}
    async with connected(sim, "real-everyday-token") as client:
        assert_denied(await client.call(limit), limit, "set_self_exclusion", "admin")
        assert (await client.ok({"get_self_exclusion": 1}))["get_self_exclusion"] == {}
    async with connected(sim, "real-admin-token") as admin:
        await admin.ok(limit)
        current = (await admin.ok({"get_self_exclusion": 1}))["get_self_exclusion"]
        assert current["max_open_bets"] == 3


async def test_without_a_login_it_is_still_authorization_required(sim: Simulator):
    async with connect(sim.url) as ws:
        client = Client(ws)
        for request in ({"buy": "1", "price": 1, "parameters": RISE}, {"balance": 1}):
            reply = await client.call(request)
            assert reply["error"]["code"] == "AuthorizationRequired"
        await client.ok({"ticks_history": "R_100", "end": "latest", "count": 2})


def test_every_call_the_dispatcher_knows_has_a_scope_entry():
    """A new call cannot be added without saying what it needs (the schema's auth fields)."""
    assert set(HANDLERS) == set(CALL_AUTH)
    assert set(SPECS) >= set(HANDLERS)
    for call, (_, needs_auth) in HANDLERS.items():
        rule = CALL_AUTH[call]
        assert needs_auth is rule.required, call
        assert set(rule.scopes) <= set(SCOPES), call
        assert rule.required or not rule.scopes, call  # scopes only on calls needing a login


async def test_the_new_api_sockets_hold_the_account_to_its_token_scopes():
    """The same table applies on the new API's trading socket (the OTP's account and its token)."""
    async with Simulator(seed=3, new_api=True, scopes=["read"]) as sim:
        account = sim.accounts[sim.token]
        path = f"/trading/v1/options/accounts/{account.loginid}/otp"
        auth = {"Authorization": f"Bearer {sim.token}", "Deriv-App-ID": "1089"}
        async with httpx.AsyncClient() as http:
            url = (await http.post(sim.rest_url + path, headers=auth)).json()["data"]["url"]
        async with connect(url) as ws:
            client = Client(ws)
            await client.ok({"balance": 1})
            params = {k: v for k, v in RISE.items() if k != "symbol"}
            request = {
                "buy": "1",
                "price": 100,
                "parameters": {**params, "underlying_symbol": "R_100"},
                "req_id": 8,
            }
            assert_denied(await client.call(request), request, "buy", "trade")
        assert len(account.contracts) == 0
