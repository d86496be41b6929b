"""The new Deriv API against the simulator: OTP sockets, the public socket, the renamed fields."""

from __future__ import annotations

import asyncio
import logging

import pytest

from derivkit.core import (
    AuthorizationRequired,
    ConnectionLost,
    ContractSpec,
    DerivClient,
    HandshakeRejected,
    InvalidToken,
    MultiplierSpec,
    OTPEndpoint,
    PublicEndpoint,
    RetryPolicy,
    UsageError,
)
from derivkit.sim import RateLimits, Simulator

FAST = RetryPolicy(reconnect_initial=0.01, reconnect_cap=0.05, pong_timeout=2)


@pytest.fixture
async def sim():
    async with Simulator(
        seed=5, speed=25, rate_limits=RateLimits.unlimited(), new_api=True
    ) as simulator:
        yield simulator


def otp_endpoint(sim: Simulator, token: str | None = None) -> OTPEndpoint:
    return OTPEndpoint(token or sim.token, app_id=1089, rest_url=sim.rest_url)


async def wait_until(predicate, timeout: float = 5.0) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():  # noqa: ASYNC110 (state of a server in the same loop)
            await asyncio.sleep(0.01)


async def test_the_otp_socket_logs_in_by_its_url_and_sends_no_authorize(sim, transport, caplog):
    caplog.set_level(logging.DEBUG, logger="derivkit")
    endpoint = otp_endpoint(sim)
    async with DerivClient(endpoint, transport=transport, retry=FAST) as api:
        assert api.dialect == "new" and api.account is not None
        assert api.account.loginid.startswith("VRTC") and api.account.is_virtual == 1
        assert (await api.balance()).balance == 10000
        assert "app_id" not in await endpoint.url()  # the new API wants neither app_id nor l
    assert endpoint.otps_fetched == 2 and sim.otps.issued == 2
    assert sim.token not in caplog.text and "otp=" not in caplog.text.replace("otp=<not", "")
    assert sim.token not in repr(api) and sim.token not in repr(endpoint)


async def test_a_fresh_otp_is_fetched_for_every_reconnect(sim, transport):
    endpoint = otp_endpoint(sim)
    async with DerivClient(endpoint, transport=transport, retry=FAST) as api:
        ticks = await api.ticks("1HZ100V")
        await anext(ticks)
        for round_ in (1, 2):
            sim.faults.drop_connections()
            await wait_until(lambda r=round_: api.reconnects == r and api.state == "connected")
            # the stream is live again (a drop while it is re-opening is the same gap)
            assert (await asyncio.wait_for(anext(ticks), 5)).symbol == "1HZ100V"
        assert endpoint.otps_fetched == 3 and sim.otps.refused == 0
        assert sim.connections_accepted == 3
        assert ticks.gaps == 2


async def test_a_spent_otp_url_is_refused_and_never_retried(sim, transport):
    fetcher = otp_endpoint(sim)
    url = await fetcher.url()  # one URL, as a client that kept it would reconnect to
    await fetcher.aclose()
    closed = asyncio.Event()
    api = DerivClient(url, transport=transport, retry=FAST)
    api.add_state_listener(lambda state: closed.set() if state == "closed" else None)
    async with api:
        assert api.url.endswith("otp=<not shown>")
        sim.faults.drop_connections()
        await asyncio.wait_for(closed.wait(), 5)
        assert sim.handshakes_refused == {401: 1}  # one attempt, then it stopped
        with pytest.raises(ConnectionLost, match="HTTP 401"):
            await api.ping()
    second = DerivClient(url, transport=transport)
    with pytest.raises(HandshakeRejected) as caught:
        await second.connect()
    assert caught.value.status == 401 and sim.handshakes_refused == {401: 2}


async def test_refused_credentials_fail_connect(sim):
    with pytest.raises(InvalidToken, match="Invalid or missing authentication"):
        await DerivClient(otp_endpoint(sim, "not-a-token-00")).connect()
    with pytest.raises(UsageError, match="logs in by itself"):
        DerivClient(otp_endpoint(sim), token=sim.token)


async def test_an_unreachable_rest_api_is_a_connection_error():
    endpoint = OTPEndpoint("a-token", app_id=1, rest_url="http://127.0.0.1:9")
    with pytest.raises(ConnectionLost, match="cannot reach"):
        await DerivClient(endpoint).connect()


async def test_the_public_socket_serves_market_data_with_the_new_names(sim, transport):
    async with DerivClient(PublicEndpoint(sim.public_url), transport=transport) as api:
        symbols = {s.symbol: s for s in await api.active_symbols()}
        assert symbols["R_10"].pip_size == 3 and symbols["R_100"].pip_size == 2
        assert symbols["R_10"].display_name == "Volatility 10 Index"
        assert (
            symbols["R_10"].raw["underlying_symbol"] == "R_10" and "pip" not in symbols["R_10"].raw
        )
        quote = await api.proposal(ContractSpec("CALL", "R_100", amount=10, duration=5))
        assert quote.ask_price > 0
        assert sim.connections_accepted == 1
        with pytest.raises(AuthorizationRequired):
            await api.balance()
        with pytest.raises(Exception, match="symbol"):  # the legacy name is refused there
            await api.request(
                {
                    "proposal": 1,
                    "symbol": "R_100",
                    "amount": 10,
                    "basis": "stake",
                    "contract_type": "CALL",
                    "currency": "USD",
                    "duration": 5,
                    "duration_unit": "t",
                }
            )


async def test_trading_on_the_new_api_with_the_renamed_fields(sim):
    async with DerivClient(otp_endpoint(sim), retry=FAST) as api:
        receipt = await api.buy(
            MultiplierSpec("MULTUP", "R_100", stake=10, multiplier=100), price=10
        )
        assert receipt.buy_price == 10
        [position] = await api.portfolio()
        assert position.symbol == "R_100" and position.raw["underlying_symbol"] == "R_100"
        async with asyncio.timeout(10):
            async for state in api.contract_states(receipt.contract_id):
                assert state.underlying == "R_100" and "underlying" not in state.raw
                if state.entry_tick is not None:  # sellable from its entry tick on
                    break
        sold = await api.sell(receipt.contract_id)
        assert sold.contract_id == receipt.contract_id
