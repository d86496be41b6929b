"""Against the live Deriv API: opt in with ``pytest -m online`` (needs internet access).

Read-only public calls only; set DERIV_API_TOKEN (a read-scope demo token) to include an account
call. Deselected by default, since CI and the development machines have no internet.
"""

from __future__ import annotations

import asyncio
import os

import pytest

from derivkit.core import DerivClient

pytestmark = pytest.mark.online


async def test_public_calls_on_the_live_api():
    async with DerivClient(request_timeout=15) as api:
        assert await api.ping() < 15
        symbols = {s.symbol for s in await api.active_symbols()}
        assert "R_100" in symbols
        history = await api.ticks_history("R_100", count=10)
        assert len(history.prices) == 10 and history.pip_size == 2
        async with await api.ticks("R_100") as ticks:
            async with asyncio.timeout(10):
                tick = await anext(ticks)
        assert tick.symbol == "R_100" and tick.epoch % 2 == 0


@pytest.mark.skipif(not os.environ.get("DERIV_API_TOKEN"), reason="DERIV_API_TOKEN not set")
async def test_account_call_on_the_live_api():
    async with DerivClient(token=os.environ["DERIV_API_TOKEN"], request_timeout=15) as api:
        balance = await api.balance()
        assert balance.currency and balance.loginid == api.account.loginid
