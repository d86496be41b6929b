"""The typed convenience methods, end to end against the simulator."""

from __future__ import annotations

import asyncio

import pytest

from derivkit.core import (
    AccountInfo,
    AuthorizationRequired,
    ContractSpec,
    DerivClient,
    InsufficientBalance,
    InvalidContractProposal,
    InvalidSymbol,
)
from derivkit.sim import RateLimits, Simulator


@pytest.fixture
async def sim():
    async with Simulator(seed=3, speed=25, rate_limits=RateLimits.unlimited()) as simulator:
        yield simulator


@pytest.fixture
async def api(sim):
    async with DerivClient(sim.url, token=sim.token, request_timeout=10) as client:
        yield client


async def take(subscription, count: int, timeout: float = 10.0) -> list:
    items = []
    async with asyncio.timeout(timeout):
        async for item in subscription:
            items.append(item)
            if len(items) == count:
                break
    return items


async def test_authorize_on_connect_and_account_calls(api):
    assert isinstance(api.account, AccountInfo) and api.account.is_virtual == 1
    balance = await api.balance()
    assert balance.balance == 10000 and balance.currency == "USD"
    assert balance.loginid == api.account.loginid


async def test_account_call_without_token_needs_authorization(sim):
    async with DerivClient(sim.url) as anonymous:
        with pytest.raises(AuthorizationRequired):
            await anonymous.balance()
        info = await anonymous.authorize(sim.token)
        assert info.loginid.startswith("VRTC")
        assert (await anonymous.balance()).balance == 10000


async def test_public_calls(api):
    assert await api.ping() >= 0
    assert abs(await api.server_time() - (await api.server_time())) <= 60
    status = await api.website_status()
    assert status.site_status == "up" and status.currency_decimals("USD") == 2
    symbols = {s.symbol: s for s in await api.active_symbols()}
    assert symbols["R_50"].pip_size == 4 and symbols["R_100"].display_name == "Volatility 100 Index"
    offers = await api.contracts_for("R_100")
    assert {"CALL", "PUT"} <= {offer.contract_type for offer in offers}
    with pytest.raises(InvalidSymbol):
        await api.contracts_for("NOPE")


async def test_tick_stream_and_history(api):
    ticks = await take(await api.ticks("1HZ100V"), 3)
    assert [t.symbol for t in ticks] == ["1HZ100V"] * 3
    assert ticks[0].epoch < ticks[1].epoch < ticks[2].epoch
    history = await api.ticks_history("R_100", count=50)
    assert len(history.prices) == len(history.times) == 50 and history.pip_size == 2
    candles = await api.ticks_history("R_100", count=10, style="candles", granularity=60)
    assert len(candles) == 10 and all(c.low <= c.close <= c.high for c in candles)
    assert {c.pip_size for c in candles} == {2}


async def test_candle_stream_starts_with_history_then_updates(api):
    async with await api.candles("1HZ100V", granularity=60, count=5) as stream:
        items = await take(stream, 7)
    assert all(item.high >= item.low for item in items)
    assert items[5].epoch >= items[4].epoch  # live updates continue after the last candle


async def test_proposal_buy_and_follow_the_contract_until_sold(api):
    spec = ContractSpec("CALL", "1HZ100V", amount=10, duration=3, duration_unit="t")
    proposal = await api.proposal(spec)
    assert proposal.payout > proposal.ask_price == 10
    receipt = await api.buy(proposal)
    assert receipt.buy_price == 10 and receipt.balance_after == 9990
    with pytest.raises(InvalidContractProposal):
        await api.buy(proposal)  # proposal ids are single-use
    (held,) = await api.portfolio()
    assert held.contract_id == receipt.contract_id
    updates = await take(await api.open_contract(receipt.contract_id), 100)
    assert updates[-1].is_sold == 1 and all(not u.is_sold for u in updates[:-1])
    final = updates[-1]
    (row,) = await api.profit_table()
    assert row.contract_id == receipt.contract_id and row.profit == pytest.approx(final.profit)
    statement = await api.statement()
    assert [entry.action_type for entry in statement] == ["sell", "buy"]
    assert (await api.balance()).balance == pytest.approx(10000 + final.profit)
    assert await api.portfolio() == []


async def test_buy_from_a_spec_and_sell_it(api):
    spec = ContractSpec("PUT", "R_100", amount=5, duration=10, duration_unit="m")
    receipt = await api.buy(spec, price=5)
    async with await api.open_contract(receipt.contract_id) as updates:
        async with asyncio.timeout(10):
            async for state in updates:
                if state.entry_tick is not None:
                    break
    sold = await api.sell(receipt.contract_id)
    assert sold.contract_id == receipt.contract_id and sold.sold_for >= 0


async def test_transactions_and_balance_streams_see_a_buy(api):
    async with await api.transactions() as transactions, await api.watch_balance() as balances:
        first_balance = await take(balances, 1)
        assert first_balance[0].balance == 10000
        await api.buy(ContractSpec("CALL", "R_100", 7, 5, "m"), price=7)
        (transaction,) = await take(transactions, 1)
        assert transaction.action == "buy" and transaction.amount == -7
        (after,) = await take(balances, 1)
        assert after.balance == 9993


async def test_stake_above_balance(api):
    with pytest.raises(InsufficientBalance):
        await api.buy(ContractSpec("CALL", "R_100", 15000, 5, "t"), price=15000)


async def test_a_thousand_concurrent_pings_against_the_simulator(api):
    replies = await asyncio.gather(
        *(api.request({"ping": 1, "passthrough": {"n": n}}) for n in range(1000))
    )
    assert [reply["passthrough"]["n"] for reply in replies] == list(range(1000))
    assert api.pending_calls == 0


async def test_account_streams_survive_a_drop_and_reauthorize(sim):
    states: list[str] = []
    restored = asyncio.Event()

    def on_state(state: str) -> None:
        states.append(state)
        if state == "connected" and "reconnecting" in states:
            restored.set()

    client = DerivClient(sim.url, token=sim.token, on_state_change=on_state)
    async with (
        client as api,
        await api.watch_balance() as balances,
        await api.ticks("1HZ10V") as ticks,
    ):
        await take(balances, 1)
        await take(ticks, 1)
        accepted = sim.connections_accepted
        assert sim.faults.drop_connections() == 1
        await asyncio.wait_for(restored.wait(), 10)
        assert states[-2:] == ["reconnecting", "connected"]
        assert sim.connections_accepted == accepted + 1
        await api.buy(ContractSpec("CALL", "R_100", 3, 5, "m"), price=3)
        balances_after = await take(balances, 2)  # the re-issued stream's snapshot, then the buy
        assert balances_after[-1].balance == 9997
        assert (await take(ticks, 1))[0].symbol == "1HZ10V"
        assert balances.gaps == 1 and ticks.gaps == 1


async def test_a_cancelled_close_still_completes_its_forget(sim):
    """Closing a stream from a task that is then cancelled (a UI worker on exit): the forget
    still gets its reply, so no stray message turns up and the server stops the stream."""
    stray: list[dict] = []
    async with DerivClient(sim.url, on_unsolicited=stray.append) as client:
        ticks = await client.ticks("R_25")
        assert sim.market.feed("R_25").listener_count == 1
        sim.faults.delay = 0.3  # every reply, the forget's too, arrives late
        closing = asyncio.create_task(ticks.aclose())
        await asyncio.sleep(0)  # the forget is on its way
        closing.cancel()
        with pytest.raises(asyncio.CancelledError):
            await closing
        sim.faults.delay = 0.0
        assert await client.ping() >= 0  # answered after the delayed forget reply
        assert sim.market.feed("R_25").listener_count == 0
        assert stray == []


async def test_profit_table_can_be_bounded_by_date(api):
    receipt = await api.buy(ContractSpec("CALL", "R_100", amount=2, duration=1), price=2)
    async with await api.open_contract(receipt.contract_id) as updates:
        async for state in updates:
            if state.is_sold:
                break
    now = await api.server_time()
    assert [e.contract_id for e in await api.profit_table(date_from=now - 3600)] == [
        receipt.contract_id
    ]
    assert await api.profit_table(date_from=now + 3600) == []
    assert await api.profit_table(date_to=now - 3600) == []
