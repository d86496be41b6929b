"""Backtests: deterministic, settled as the simulator settles, in agreement with a live run on the
simulator's same ticks, and swept over parameter grids on several processes."""

from __future__ import annotations

import asyncio

import pytest

from derivkit.core import DerivClient, UsageError
from derivkit.sim import RateLimits, Simulator
from derivkit.sim.clock import ManualClock
from derivkit.sim.feed import Market
from derivkit.strategy import load_plan
from derivkit.strategy.backtest import read_ticks, run_backtest, sweep
from derivkit.strategy.live import LiveRun

START = 1_790_000_000


def figures(report) -> dict:
    """A report without its wall-clock time."""
    data = report.as_dict()
    data.pop("seconds")
    data.pop("contracts_per_second")
    return data


def test_the_same_seed_gives_the_same_report_and_another_seed_another():
    def once(seed: str) -> dict:
        plan = load_plan("martingale", {"stake": "1", "max_stake": "32"})
        return figures(run_backtest(plan, "R_100", ticks=3000, seed=seed, start=START))

    first, again, other = once("7"), once("7"), once("8")
    assert first == again
    assert first["runs"] == 1000 and first["ticks"] == 3000
    assert other["profit"] != first["profit"]


def model_ticks(seed: str, symbol: str, count: int) -> list[tuple[int, float]]:
    """The simulator's own ticks for ``seed`` from START: the latest at START, then the next."""
    clock = ManualClock(START)
    feed = Market(seed, clock, START, pumps=False).feed(symbol)
    ticks = [(feed.epochs[-1], feed.quotes[-1])]
    while len(ticks) < count:
        clock.set(feed.next_epoch)
        feed.advance()
        ticks.append((feed.epochs[-1], feed.quotes[-1]))
    return ticks


def test_one_tick_contracts_settle_on_the_tick_after_entry():
    """Counted directly on the ticks: a run buys at tick 3i, enters at 3i+1, ends at 3i+2."""
    ticks = model_ticks("3", "R_50", 3000)
    plan = load_plan("flat", {"stake": "1"})
    report = run_backtest(plan, "R_50", ticks=3000, seed="3", start=START)
    quotes = [quote for _, quote in ticks]
    wins = sum(quotes[3 * i + 2] > quotes[3 * i + 1] for i in range(1000))
    assert report.summary["runs"] == 1000 and report.summary["won"] == wins


def test_recorded_ticks_are_replayed(tmp_path):
    ticks = model_ticks("4", "R_100", 600)
    path = tmp_path / "r100.csv"
    path.write_text("epoch,quote\n" + "".join(f"{e},{q}\n" for e, q in ticks))
    recorded = read_ticks(path)
    assert recorded == ticks
    plan = load_plan("flat", {"stake": "1", "contract_type": "PUT"})
    report = run_backtest(plan, "R_100", ticks=10_000, recorded=recorded)
    quotes = [quote for _, quote in ticks]
    assert report.ticks == 600  # the recording ran out
    assert report.summary["won"] == sum(quotes[3 * i + 2] < quotes[3 * i + 1] for i in range(200))


def test_a_bad_recording_names_the_line(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("epoch,quote\n1,2.5\nx,3\n")
    with pytest.raises(UsageError, match="bad.csv:3"):
        read_ticks(path)


def test_running_out_of_money_stops_the_backtest():
    plan = load_plan("martingale", {"stake": "100"})
    report = run_backtest(plan, "R_100", ticks=100_000, seed="1", start=START, balance=500)
    assert report.stop_reason and "InsufficientBalance" in report.stop_reason
    assert report.ticks < 100_000


async def test_a_backtest_agrees_with_a_live_run_on_the_same_ticks():
    """The same seed, start and strategy: the same decisions, stakes and results, contract by
    contract (live at speed 2: half a second between ticks, plenty for a buy to land)."""
    plan_args = {"stake": "1", "max_runs": "4"}
    async with Simulator(
        seed=11, speed=2, start_epoch=START, rate_limits=RateLimits.unlimited()
    ) as sim:
        async with DerivClient(sim.url, token=sim.token) as api:
            live = LiveRun(api, load_plan("martingale", plan_args), "1HZ100V")
            async with asyncio.timeout(60):
                engine = await live.run(asyncio.Event(), asyncio.Event())
        first_tick = engine.view.ticks[0].epoch
    report = run_backtest(
        load_plan("martingale", plan_args),
        "1HZ100V",
        ticks=10_000,
        seed="11",
        start=START,
        begin=first_tick,
        keep_equity=True,
    )
    assert engine.results.runs == report.summary["runs"] == 4
    assert engine.results.equity == report.equity  # P/L after each contract
    assert engine.results.summary() == report.summary


def test_a_sweep_runs_every_combination_on_a_process_pool():
    grid = {"multiplier": ["2", "3"], "max_stake": ["8", "30"]}
    reports = list(
        sweep("martingale", {"stake": "1"}, grid, "R_25", ticks=1500, start=START, workers=2)
    )
    assert [(r["params"]["multiplier"], r["params"]["max_stake"]) for r in reports] == [
        (2.0, 8.0),
        (2.0, 30.0),
        (3.0, 8.0),
        (3.0, 30.0),
    ]
    alone = run_backtest(
        load_plan("martingale", {"stake": "1", "multiplier": "3", "max_stake": "30"}),
        "R_25",
        ticks=1500,
        seed="1",
        start=START,
    )
    assert {
        k: v for k, v in reports[3].items() if k not in ("seconds", "contracts_per_second")
    } == (figures(alone))
    with pytest.raises(UsageError, match="unknown parameter"):
        list(sweep("martingale", {}, {"unit": ["1"]}, "R_25", ticks=10))
