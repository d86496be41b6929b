"""Self-exclusion: limits the server enforces at buy, over UTC days, net of what came back."""

from __future__ import annotations

import pytest

from derivkit.core import APIError, DerivClient
from derivkit.sim import RateLimits, Simulator
from derivkit.sim.errors import ApiError
from derivkit.sim.exclusion import SelfExclusion

DAY = 86_400
NOW = 20_000 * DAY + 3_600  # 01:00 UTC


def test_losses_are_net_of_what_contracts_returned_and_count_the_new_stake():
    limits = SelfExclusion({"max_losses": 10})
    movements = [(NOW - 60, "buy", -8.0), (NOW - 30, "sell", 6.0)]  # net loss 2 today
    limits.check_buy(8.0, NOW, movements, 0)  # 2 + 8 = 10: allowed
    with pytest.raises(ApiError) as refused:
        limits.check_buy(8.01, NOW, movements, 0)
    assert refused.value.code == "DailyLossLimitExceeded"
    yesterday = [(NOW - DAY, "buy", -50.0)]
    limits.check_buy(10.0, NOW, yesterday, 0)  # a new UTC day


def test_seven_day_turnover_and_open_positions():
    limits = SelfExclusion({"max_7day_turnover": 100, "max_open_bets": 2})
    week = [(NOW - day * DAY, "buy", -15.0) for day in range(6)]  # 90 staked this week
    limits.check_buy(10.0, NOW, week, 1)
    with pytest.raises(ApiError, match="7-day limit on turnover"):
        limits.check_buy(10.5, NOW, week, 1)
    with pytest.raises(ApiError) as refused:
        limits.check_buy(1.0, NOW, [], 2)
    assert refused.value.code == "OpenPositionLimitExceeded"


async def test_the_calls_are_validated_and_virtual_accounts_refused():
    async with Simulator(
        seed=1, tokens=["demo-1"], real_tokens=["real-1"], rate_limits=RateLimits.unlimited()
    ) as sim:
        async with DerivClient(sim.url, token="real-1") as real:
            with pytest.raises(APIError) as bad:
                await real.request({"set_self_exclusion": 1, "max_losses": "lots"})
            assert bad.value.code == "InputValidationFailed" and "max_losses" in bad.value.details
            with pytest.raises(APIError) as unknown:
                await real.request({"set_self_exclusion": 1, "max_lossez": 5})
            assert unknown.value.code == "InputValidationFailed"
            with pytest.raises(APIError, match="at least one"):
                await real.request({"set_self_exclusion": 1})
            await real.request({"set_self_exclusion": 1, "max_turnover": 40})
            reply = await real.request({"get_self_exclusion": 1})
            assert reply["get_self_exclusion"] == {"max_turnover": 40}
        async with DerivClient(sim.url, token="demo-1") as demo:
            with pytest.raises(APIError) as denied:
                await demo.request({"set_self_exclusion": 1, "max_losses": 5})
            assert denied.value.code == "PermissionDenied"
