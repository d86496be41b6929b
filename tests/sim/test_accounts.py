"""Accounts made with their own scopes, and one slow account among many (``token_delay``)."""

from __future__ import annotations

import asyncio

import pytest

from derivkit.core import DerivClient, RequestTimeout
from derivkit.sim import RateLimits, Simulator


async def test_added_accounts_report_their_own_scopes():
    async with Simulator(seed=1, tokens=["first-token"], scopes=["read", "trade"]) as sim:
        sim.add_account("looker-token", scopes=["read"])
        real = sim.add_account("money-token", real=True)
        assert real.loginid.startswith("CR") and not real.is_virtual
        with pytest.raises(ValueError):
            sim.add_account("looker-token")
        with pytest.raises(ValueError):
            sim.add_account("bad token!")
        for token, scopes in (("first-token", ["read", "trade"]), ("looker-token", ["read"])):
            async with DerivClient(sim.url, token=token) as client:
                assert client.account.scopes == scopes
                assert client.account.loginid == sim.accounts[token].loginid


async def test_a_token_delay_slows_that_account_only_and_not_its_login():
    async with Simulator(
        seed=1, tokens=["slow-token", "quick-token"], rate_limits=RateLimits.unlimited()
    ) as sim:
        sim.faults.token_delay["slow-token"] = 30.0
        async with (
            DerivClient(sim.url, token="slow-token", request_timeout=0.5) as slow,  # logs in
            DerivClient(sim.url, token="quick-token", request_timeout=2) as quick,
        ):
            balance = asyncio.create_task(slow.balance())
            assert (await quick.balance()).balance == 10_000  # answered while the other waits
            with pytest.raises(RequestTimeout):
                await balance
