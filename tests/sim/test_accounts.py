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


async def test_added_accounts_and_separate_users_each_list_only_their_own_account():
    async with Simulator(seed=1, tokens=["a-token", "b-token"]) as shared:
        shared.add_account("own-token")
        async with DerivClient(shared.url, token="a-token") as client:
            assert len(client.account.account_list) == 2  # the simulator's one user
        async with DerivClient(shared.url, token="own-token") as client:
            assert [a["loginid"] for a in client.account.account_list] == [
                shared.accounts["own-token"].loginid
            ]
    apart = Simulator(seed=1, tokens=["a-token", "b-token"], separate_users=True)
    async with apart, DerivClient(apart.url, token="b-token") as client:
        assert len(client.account.account_list) == 1
        assert client.account.raw["user_id"] != apart.accounts["a-token"].user_id
