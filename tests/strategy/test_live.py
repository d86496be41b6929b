"""A strategy run live on the simulator: stop conditions, and a buy whose reply is lost in a
dropped connection (no decision until it is resolved, never a double buy)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from derivkit.core import DerivClient, RetryPolicy
from derivkit.sim import RateLimits, Simulator
from derivkit.storage import Storage, TokenCipher, default_url
from derivkit.strategy import Trade, View, load_plan
from derivkit.strategy.journal import RunJournal
from derivkit.strategy.live import LiveEvent, LiveRun
from derivkit.strategy.loading import QuickStrategy

FAST_RETRY = RetryPolicy(reconnect_initial=0.05, reconnect_cap=0.2)


async def run_plan(api: DerivClient, plan: Any, symbol: str = "1HZ100V") -> tuple[LiveRun, list]:
    events: list[LiveEvent] = []
    runner = LiveRun(api, plan, symbol, on_event=events.append)
    async with asyncio.timeout(60):
        await runner.run(asyncio.Event(), asyncio.Event())
    return runner, events


def buys_on(sim: Simulator) -> list[Any]:
    account = sim.accounts[sim.token]
    return [txn for txn in account.transactions if txn.action_type == "buy"]


async def test_a_martingale_run_stops_after_max_runs_and_matches_the_account():
    async with (
        Simulator(seed=3, speed=20, rate_limits=RateLimits.unlimited()) as sim,
        DerivClient(sim.url, token=sim.token) as api,
    ):
        plan = load_plan("martingale", {"stake": "1", "max_runs": "6"})
        runner, events = await run_plan(api, plan)
        results = runner.engine.results
        assert results.runs == 6 and runner.engine.state == "stopped"
        assert "6 runs" in (runner.engine.stop_reason or "")
        buys = buys_on(sim)
        assert len(buys) == 6
        assert [round(-txn.amount, 2) for txn in buys] == [
            e.data["buy_price"] for e in events if e.kind == "bought"
        ]
        account = sim.accounts[sim.token]
        assert round(account.balance - account.initial_balance, 2) == results.profit
        assert events[-1].kind == "stopped" and events[-1].data["runs"] == 6


class FaultyOnce(QuickStrategy):
    """Buys 1-tick CALLs; on its second purchase the connection drops after the buy executed
    (``executed=True``) or before the request is read (``executed=False``)."""

    name = "faulty-once"

    def __init__(self, sim: Simulator, executed: bool) -> None:
        self.sim = sim
        self.executed = executed
        self.purchases = 0
        self.decisions_while_unknown = 0
        self.engine: Any = None

    def on_tick(self, view: View, tick: Any) -> None:
        if self.engine is not None and self.engine.unknown is not None:
            self.decisions_while_unknown += 0  # the engine must not even ask (checked below)

    def before_purchase(self, view: View) -> Trade | None:
        if self.engine is not None and self.engine.unknown is not None:
            self.decisions_while_unknown += 1
        self.purchases += 1
        if self.purchases == 2:
            self._arm_fault()
        return Trade("CALL", 1, "t")

    def _arm_fault(self) -> None:
        sim, loop = self.sim, asyncio.get_running_loop()
        account = sim.accounts[sim.token]
        if not self.executed:
            sim.faults.mute = True  # the buy is read but never executed nor answered
            loop.call_later(0.05, self._drop)
            return
        sim.faults.delay = 30  # the reply will not get out before the drop

        def on_event(kind: str, obj: Any) -> None:
            if kind == "transaction" and obj.action_type == "buy":
                unsubscribe()
                loop.call_soon(self._drop)

        unsubscribe = account.subscribe(on_event)

    def _drop(self) -> None:
        self.sim.faults.drop_connections()
        self.sim.faults.reset()


@pytest.fixture
async def storage(tmp_path):
    async with await Storage.open(
        default_url(tmp_path), TokenCipher.from_environment({}, tmp_path)
    ) as opened:
        yield opened


@pytest.mark.parametrize("executed", [True, False])
async def test_a_lost_buy_reply_is_resolved_before_any_new_decision(executed, storage):
    async with (
        Simulator(seed=5, speed=20, rate_limits=RateLimits.unlimited()) as sim,
        DerivClient(sim.url, token=sim.token, retry=FAST_RETRY) as api,
    ):
        plan = load_plan("martingale", {"stake": "1", "max_runs": "4"})
        strategy = FaultyOnce(sim, executed)
        plan.strategy = strategy
        events: list[LiveEvent] = []
        assert api.account is not None
        journal = RunJournal(storage, api.account, run_id="run-1", strategy=plan.name)
        runner = LiveRun(api, plan, "1HZ100V", on_event=events.append, journal=journal)
        strategy.engine = runner.engine
        async with asyncio.timeout(60):
            await runner.run(asyncio.Event(), asyncio.Event())

        kinds = [event.kind for event in events]
        assert "unknown" in kinds and "resolved" in kinds
        unknown_at, resolved_at = kinds.index("unknown"), kinds.index("resolved")
        assert "bought" not in kinds[unknown_at:resolved_at]  # nothing decided meanwhile
        assert strategy.decisions_while_unknown == 0
        resolved = events[resolved_at].data["contract_id"]
        assert (resolved is not None) is executed
        assert api.reconnects >= 1

        buys = buys_on(sim)
        results = runner.engine.results
        assert len(buys) == results.runs == 4  # every executed buy counted once, none doubled
        bought_ids = {e.data["contract_id"] for e in events if e.kind in ("bought", "resolved")}
        assert {txn.contract.contract_id for txn in buys} == bought_ids - {None}

        # The journal tells the same story: every order, the lost one as what it turned out to be.
        entries = await storage.journal_entries(run_id="run-1", newest_first=False)
        assert {(e.origin, e.strategy, e.telegram_id) for e in entries} == {
            ("strategy", plan.name, None)
        }
        assert [e.contract_id for e in entries if e.status == "settled"] == [
            txn.contract.contract_id for txn in buys
        ]
        profits = [e.profit for e in entries if e.status == "settled"]
        assert round(sum(p for p in profits if p is not None), 2) == results.profit
        expected = {"settled"} if executed else {"settled", "not_bought"}
        assert {e.status for e in entries} == expected
        assert len(entries) == len(buys) + (not executed)
        assert await storage.journal_to_follow(origin="bot") == []


class UnwritableJournal(RunJournal):
    async def sending(self, order: Any, request: dict[str, Any]) -> int:
        raise OSError("disk full")


async def test_an_order_the_journal_cannot_record_is_never_sent(storage):
    async with (
        Simulator(seed=3, speed=20, rate_limits=RateLimits.unlimited()) as sim,
        DerivClient(sim.url, token=sim.token) as api,
    ):
        plan = load_plan("flat", {"stake": "1", "max_runs": "3"})
        assert api.account is not None
        journal = UnwritableJournal(storage, api.account, run_id="run-2", strategy=plan.name)
        events: list[LiveEvent] = []
        runner = LiveRun(api, plan, "1HZ100V", on_event=events.append, journal=journal)
        async with asyncio.timeout(60):
            await runner.run(asyncio.Event(), asyncio.Event())
        assert buys_on(sim) == []
        assert runner.engine.state == "stopped"
        assert "journal" in (runner.engine.stop_reason or "")
        refused = [e for e in events if e.kind == "refused"]
        assert refused and refused[0].data["code"] == "JournalError"
