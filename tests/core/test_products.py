"""The typed product API end to end against the simulator: specs that only express valid
contracts, typed proposals and open-contract state per product, update, cancel and history."""

from __future__ import annotations

import asyncio

import pytest

from derivkit.core import (
    KEEP,
    AccumulatorContract,
    AccumulatorSpec,
    APIError,
    ContractSpec,
    DerivClient,
    MultiplierContract,
    MultiplierSpec,
    OpenContract,
    OutcomeUnknown,
    TurbosContract,
    TurbosSpec,
    UsageError,
    VanillaContract,
    VanillaSpec,
    open_contract_from,
)
from derivkit.sim import RateLimits, Simulator
from tests.core.fakeserver import FakeDeriv


@pytest.fixture
async def sim():
    async with Simulator(seed=5, speed=40, rate_limits=RateLimits.unlimited()) as simulator:
        yield simulator


@pytest.fixture
async def api(sim):
    async with DerivClient(sim.url, token=sim.token, request_timeout=10) as client:
        yield client


async def follow(api: DerivClient, contract_id: int, until) -> OpenContract:
    """Open-contract states until ``until(state)`` (or the contract is sold)."""
    async with asyncio.timeout(15), await api.open_contract(contract_id) as states:
        async for state in states:
            if until(state) or state.is_sold:
                return state
    raise AssertionError("the stream ended without a sold message")


def test_specs_refuse_what_their_product_does_not_take() -> None:
    with pytest.raises(UsageError, match="cancellation"):
        MultiplierSpec("MULTUP", "R_100", 10, 100, take_profit=5, cancellation="60m")
    with pytest.raises(UsageError, match="one of"):
        MultiplierSpec("MULTUP", "R_100", 10, 100, cancellation="1h")  # type: ignore[arg-type]
    with pytest.raises(UsageError, match="MULTUP"):
        MultiplierSpec("CALL", "R_100", 10, 100)  # type: ignore[arg-type]
    with pytest.raises(UsageError, match="stake"):
        AccumulatorSpec("R_100", stake=0, growth_rate=0.01)
    with pytest.raises(UsageError, match="growth_rate"):
        AccumulatorSpec("R_100", stake=10, growth_rate=3)
    with pytest.raises(UsageError, match="exactly one"):
        TurbosSpec("TURBOSLONG", "R_100", 10, 5, "t")
    with pytest.raises(UsageError, match="exactly one"):
        TurbosSpec("TURBOSLONG", "R_100", 10, 5, "t", barrier="-3.08", payout_per_point=1.0)
    with pytest.raises(UsageError, match="duration unit"):
        VanillaSpec("VANILLALONGCALL", "R_100", 10, 5, "t", strike="+0.00")  # type: ignore[arg-type]
    spec = MultiplierSpec("MULTDOWN", "R_100", 10, 100, take_profit=5, stop_loss=2)
    assert spec.parameters() == {
        "contract_type": "MULTDOWN",
        "symbol": "R_100",
        "amount": 10,
        "basis": "stake",
        "currency": "USD",
        "multiplier": 100,
        "limit_order": {"take_profit": 5, "stop_loss": 2},
    }
    assert "duration" not in AccumulatorSpec("R_100", 10, 0.01).parameters()
    assert (
        ContractSpec("TICKHIGH", "R_100", 10, 5, selected_tick=3).parameters()["selected_tick"] == 3
    )


def test_open_contract_state_reads_each_product_and_string_numbers() -> None:
    payload = {
        "contract_id": 1,
        "contract_type": "MULTUP",
        "status": None,
        "is_sold": 1,
        "profit": "-3.50",
        "multiplier": "100",
        "commission": "0.50",
        "limit_order": {
            "stop_out": {
                "display_name": "Stop out",
                "order_amount": "-100.00",
                "order_date": 1716877413,
                "value": "90.05",
            },
            "take_profit": {},
        },
        "cancellation": {"ask_price": 4.11, "date_expiry": 1716881013},
        "is_valid_to_update": {"take_profit": 1, "stop_loss": 0, "stop_out": 0},
    }
    state = open_contract_from(payload)
    assert isinstance(state, MultiplierContract)
    assert state.stop_out is not None and state.stop_out.amount == -100.0
    assert state.stop_out.value == 90.05 and state.take_profit is None
    assert state.multiplier == 100 and state.commission == 0.5
    assert state.cancellation is not None and state.cancellation.ask_price == 4.11
    assert state.can_update_take_profit and not state.can_update_stop_loss
    assert state.outcome == "lost"  # status null: won or lost by the sign of the profit
    accu = open_contract_from(
        {
            "contract_type": "ACCU",
            "high_barrier": "683.046",
            "current_spot_high_barrier": "683.016",
            "tick_passed": 9,
        }
    )
    assert isinstance(accu, AccumulatorContract) and accu.high_barrier == 683.046
    assert accu.next_high_barrier == 683.016 and accu.tick_passed == 9
    turbo = open_contract_from(
        {
            "contract_type": "TURBOSLONG",
            "barrier": "821.69",
            "display_number_of_contracts": "3.692058",
        }
    )
    assert isinstance(turbo, TurbosContract) and turbo.barrier_level == 821.69
    assert turbo.payout_per_point == 3.692058
    plain = open_contract_from({"contract_type": "CALL", "status": "open"})
    assert type(plain) is OpenContract and plain.outcome == "open"


async def test_multiplier_quote_buy_update_history_and_sell(api: DerivClient) -> None:
    (up,) = [o for o in await api.contracts_for("R_100") if o.contract_type == "MULTUP"]
    assert up.no_expiry and up.multiplier_range == [10, 20, 30, 50, 100]
    assert up.cancellation_range == ["5m", "10m", "15m", "30m", "60m"]
    spec = MultiplierSpec("MULTUP", "R_100", stake=10, multiplier=100, take_profit=50)
    proposal = await api.proposal(spec)
    assert proposal.payout == 0 and proposal.commission == 0.5
    assert proposal.stop_out is not None and proposal.stop_out.amount == -10
    assert proposal.take_profit is not None and proposal.take_profit.amount == 50
    receipt = await api.buy(proposal)
    state = await follow(api, receipt.contract_id, lambda s: s.entry_tick is not None)
    assert isinstance(state, MultiplierContract) and state.multiplier == 100
    assert state.take_profit is not None and state.take_profit.value is not None
    updated = await api.update_contract(receipt.contract_id, take_profit=60, stop_loss=5)
    assert updated.take_profit is not None and updated.take_profit.amount == 60
    assert updated.stop_loss is not None and updated.stop_loss.amount == -5
    history = await api.contract_update_history(receipt.contract_id)
    assert [(h.order_type, h.order_amount) for h in history][-1] == ("take_profit", 50)
    with pytest.raises(UsageError):
        await api.update_contract(receipt.contract_id)
    # One update a second: wait for a tick after this one, then remove the stop loss only.
    last = history[0].order_date or 0
    await follow(api, receipt.contract_id, lambda s: (s.current_spot_time or 0) > last)
    kept = await api.update_contract(receipt.contract_id, take_profit=KEEP, stop_loss=None)
    assert kept.take_profit is not None and kept.take_profit.amount == 60
    assert kept.stop_loss is None
    state = await follow(api, receipt.contract_id, lambda s: s.is_valid_to_sell == 1)
    if not state.is_sold:
        sold = await api.sell(receipt.contract_id)
        final = await follow(api, receipt.contract_id, lambda s: s.is_sold == 1)
        assert final.outcome == "sold" and final.sell_price == sold.sold_for


async def test_deal_cancellation_gives_the_stake_back(api: DerivClient) -> None:
    spec = MultiplierSpec("MULTDOWN", "R_100", stake=10, multiplier=100, cancellation="5m")
    proposal = await api.proposal(spec)
    assert proposal.cancellation is not None and proposal.cancellation.ask_price
    assert proposal.ask_price == pytest.approx(10 + proposal.cancellation.ask_price)
    receipt = await api.buy(proposal)
    with pytest.raises(APIError) as refused:
        await api.update_contract(receipt.contract_id, take_profit=5)
    assert refused.value.code == "UpdateTakeProfitNotAllowed"
    await follow(api, receipt.contract_id, lambda s: s.is_valid_to_cancel == 1)
    cancelled = await api.cancel_contract(receipt.contract_id)
    assert cancelled.sold_for == 10 and cancelled.contract_id == receipt.contract_id
    final = await follow(api, receipt.contract_id, lambda s: s.is_sold == 1)
    assert final.outcome == "cancelled" and final.profit == 0


async def test_accumulator_turbos_and_vanilla_states(api: DerivClient) -> None:
    accu = await api.buy(AccumulatorSpec("R_50", stake=10, growth_rate=0.03), price=10)
    state = await follow(api, accu.contract_id, lambda s: getattr(s, "tick_passed", 0) >= 1)
    assert isinstance(state, AccumulatorContract) and state.growth_rate == 0.03
    assert state.tick_count == 90
    if not state.is_sold:
        assert state.high_barrier is not None and state.next_low_barrier is not None
        with pytest.raises(APIError) as refused:
            await api.update_contract(accu.contract_id, take_profit=5)
        assert refused.value.code == "UpdateNotAllowed"
    (offer,) = [
        o
        for o in await api.contracts_for("R_100")
        if o.contract_type == "TURBOSSHORT" and o.expiry_type == "tick"
    ]
    turbo_spec = TurbosSpec("TURBOSSHORT", "R_100", 10, 5, "t", barrier=offer.barrier_choices[3])
    turbo_quote = await api.proposal(turbo_spec)
    assert turbo_quote.number_of_contracts and turbo_quote.barrier_choices == offer.barrier_choices
    turbo = await api.buy(turbo_quote)
    final = await follow(api, turbo.contract_id, lambda s: False)
    assert isinstance(final, TurbosContract) and final.barrier_level is not None
    assert final.outcome in ("won", "lost")
    vanilla_quote = await api.proposal(
        VanillaSpec("VANILLALONGPUT", "R_100", 10, 2, "m", strike="+0.00")
    )
    assert vanilla_quote.number_of_contracts and vanilla_quote.barrier is not None
    vanilla = await api.buy(vanilla_quote)
    state = await follow(api, vanilla.contract_id, lambda s: True)
    assert isinstance(state, VanillaContract) and state.strike == vanilla_quote.barrier


async def test_update_and_cancel_are_sent_exactly_once() -> None:
    """Both move money: a lost reply is OutcomeUnknown and the call is never re-sent."""
    async with FakeDeriv() as server:
        server.held_calls.update({"contract_update", "cancel"})
        async with DerivClient(server.url, request_timeout=5) as api:
            for call in (
                lambda: api.update_contract(1, take_profit=None),
                lambda: api.cancel_contract(1),
            ):
                pending = asyncio.create_task(call())
                await server.wait_for(lambda: sum(len(v) for v in server.hold.values()) >= 1)
                await server.drop_all()
                with pytest.raises(OutcomeUnknown):
                    await asyncio.wait_for(pending, 5)
                server.hold.clear()
            await api.request({"ping": 1})
        sent = [r for r in server.requests if "contract_update" in r or "cancel" in r]
        assert len(sent) == 2
        assert next(r for r in sent if "contract_update" in r)["limit_order"] == {
            "take_profit": None
        }
