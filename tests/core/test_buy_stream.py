"""``buy`` with ``"subscribe": 1``: a stream of the bought contract, and a money-moving stream
whose first message never comes has an unknown outcome (it is never called a plain timeout)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from derivkit.core import DerivClient, OutcomeUnknown, RequestTimeout
from derivkit.sim import RateLimits, Simulator
from tests.core.fakeserver import GOOD_TOKEN, FakeDeriv

POC = "proposal_open_contract"


def rise_fall(ticks: int) -> dict[str, Any]:
    return {
        "contract_type": "CALL",
        "symbol": "1HZ100V",
        "duration": ticks,
        "duration_unit": "t",
        "amount": 10,
        "basis": "stake",
        "currency": "USD",
    }


async def test_a_buy_stream_whose_receipt_never_comes_has_an_unknown_outcome(transport):
    async with FakeDeriv() as server:
        server.held_calls = {"buy"}
        api = DerivClient(server.url, token=GOOD_TOKEN, transport=transport)
        async with api:
            request = {"buy": "1", "price": 10, "parameters": rise_fall(3), "subscribe": 1}
            with pytest.raises(OutcomeUnknown) as caught:
                await api.subscribe(request, timeout=0.3)
            assert not caught.value.retryable
            assert not isinstance(caught.value, RequestTimeout)
            assert [held["buy"] for _, held in server.hold["buy"]] == ["1"]  # sent once


async def test_a_read_only_stream_whose_first_message_never_comes_is_a_timeout(transport):
    async with FakeDeriv() as server:
        server.held_calls = {"ticks"}
        async with DerivClient(server.url, transport=transport) as api:
            with pytest.raises(RequestTimeout) as caught:
                await api.subscribe({"ticks": "R_100"}, timeout=0.3)
            assert caught.value.retryable


async def test_a_buy_with_subscribe_streams_the_contract_until_it_is_sold(transport):
    async with (
        Simulator(seed=7, speed=40, rate_limits=RateLimits.unlimited()) as sim,
        DerivClient(sim.url, token=sim.token, transport=transport) as api,
    ):
        request = {"buy": "1", "price": 100, "parameters": rise_fall(3), "subscribe": 1}
        async with asyncio.timeout(15), api.subscribe(request) as stream:
            messages = [message async for message in stream]
    receipt, *states = messages
    assert receipt["msg_type"] == "buy"
    contract_id = receipt["buy"]["contract_id"]
    assert states, "the stream ended with the receipt"
    assert all(state["msg_type"] == POC for state in states)
    assert {state[POC]["contract_id"] for state in states} == {contract_id}
    assert states[-1][POC]["is_sold"] == 1
    assert not any(state[POC]["is_sold"] for state in states[:-1])
    assert len(states[-1][POC]["tick_stream"]) == 4  # entry tick and three more
