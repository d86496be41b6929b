"""The strategies panel: real ``derivkit run`` processes trading on the test's simulator, their
registry records shown (strategy, symbol, state, runs, won/lost, P/L, stake, open), a stop asked
once from the dashboard after a confirmation, the run ending as asked; the registry read every
few seconds, never per tick."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from textual.widgets import Label

from derivkit.strategy.registry import RunRecord, RunRegistry
from derivkit.tui.messages import StrategyStopAsked
from derivkit.tui.screens.confirm import ConfirmTrade
from derivkit.tui.widgets.strategies_panel import StrategiesPanel
from tests.tui.conftest import DEMO_TOKEN, Harness, dashboard, text_of

pytestmark = pytest.mark.usefixtures("isolated_env")  # DERIVKIT_DATA_DIR under tmp_path

#: Starting a Python process and connecting takes a few seconds on a busy machine.
PROCESS_TIMEOUT = 60.0


@contextmanager
def strategy_process(sim, tmp_path: Path, *args: str) -> Iterator[subprocess.Popen[bytes]]:
    """``derivkit run ARGS`` trading on ``sim`` with the demo token, in a subprocess that sees
    this test's data dir (its registry record goes there); killed if still running at the end.
    Its output goes to files (an unread pipe could fill and stall it)."""
    command = [sys.executable, "-c", "from derivkit.cli import main; main()"]
    command += ["--endpoint", sim.url, "--token", DEMO_TOKEN, "--json", "run", *args]
    with (tmp_path / "run.out").open("wb") as out, (tmp_path / "run.err").open("wb") as err:
        process = subprocess.Popen(command, stdout=out, stderr=err, env=dict(os.environ))
        try:
            yield process
        finally:
            if process.poll() is None:
                process.kill()
            process.wait(10)


@contextmanager
def live_processes(count: int) -> Iterator[list[subprocess.Popen[bytes]]]:
    """Processes that only sleep (live pids for registry records), killed at the end."""
    sleep = [sys.executable, "-c", "import time; time.sleep(120)"]
    processes = [subprocess.Popen(sleep) for _ in range(count)]
    try:
        yield processes
    finally:
        for process in processes:
            process.kill()
            process.wait(10)


def panel(ui: Harness) -> StrategiesPanel:
    return ui.app.main_screen.query_one(StrategiesPanel)


def buys(sim) -> int:
    return sum(1 for t in sim.accounts[DEMO_TOKEN].transactions if t.action_type == "buy")


async def test_a_running_strategy_is_shown_and_stopped_from_the_dashboard(sim, tmp_path):
    registry = RunRegistry()
    assert registry.directory.is_relative_to(tmp_path)
    # 1HZ100V paused: the run buys on the tick its subscription starts with, and that contract
    # cannot settle (nor another be bought) until the symbol resumes.
    sim.faults.pause_symbol("1HZ100V")
    async with dashboard(sim, ["R_100"], runs=registry, strategies_interval=0.2) as ui:
        screen = ui.app.main_screen
        strategies = panel(ui)
        assert not strategies.display and not screen.check_action("stop_strategy", ())
        with strategy_process(sim, tmp_path, "flat", "-s", "1HZ100V", "-p", "stake=2") as process:
            await ui.wait_for(
                lambda: [r.open for r in registry.running()] == [1],
                "the run's record with its open contract",
                timeout=PROCESS_TIMEOUT,
            )
            (record,) = registry.running()
            assert (record.pid, record.strategy, record.symbol) == (process.pid, "flat", "1HZ100V")
            table = strategies.table
            # The panel polls the registry: its row may first show the record from before the
            # buy (open 0), so wait for the poll that read the open contract.
            await ui.wait_for(
                lambda: (
                    table.run_ids() == [record.run_id]
                    and table.cell_text(record.run_id, "open") == "1"
                ),
                "the run's row with its open contract",
            )
            shown = {key: table.cell_text(record.run_id, key) for key, *_ in table.COLUMNS}
            assert shown == {
                "strategy": "flat",
                "symbol": "1HZ100V",
                "state": "running",
                "runs": str(record.runs),
                "won_lost": f"{record.won}/{record.lost}",
                "profit": "0.00",
                "stake": "2.00",
                "open": "1",
                "account": record.loginid,
                "run": record.run_id,
            }
            assert record.loginid == sim.accounts[DEMO_TOKEN].loginid
            assert strategies.display and screen.check_action("stop_strategy", ())
            assert "x stop" in str(strategies.border_subtitle)

            await ui.pilot.press("x")
            modal = await confirm(ui)
            lines = " ".join(text_of(label) for label in modal.query(Label))
            assert "flat on 1HZ100V" in lines and record.run_id in lines
            await ui.pilot.press("escape")  # not stopped
            await ui.wait_for(lambda: ui.app.screen is screen, "the modal closed")
            assert not stop_messages(ui) and process.poll() is None

            await ui.pilot.press("x")
            await confirm(ui)
            await ui.pilot.press("enter", "enter")  # a second Enter asks nothing more
            await ui.wait_for(lambda: stop_messages(ui), "the stop request's answer")
            assert [(m.run_id, m.asked) for m in stop_messages(ui)] == [(record.run_id, True)]
            await ui.wait_for(  # the run itself says so now, in its record
                lambda: table.cell_text(record.run_id, "state") == "stopping", "stopping shown"
            )
            await ui.pilot.press("x")  # asked already: nothing is sent again
            await ui.pilot.pause()
            assert not isinstance(ui.app.screen, ConfirmTrade) and len(stop_messages(ui)) == 1

            sim.faults.resume_symbol("1HZ100V")  # its open contract settles; it buys no more
            await ui.wait_for(
                lambda: process.poll() is not None, "the run to end", timeout=PROCESS_TIMEOUT
            )
            assert process.returncode == 0  # an orderly stop, not an interruption
        await ui.wait_for(lambda: not strategies.display, "the panel hidden")
        assert table.run_ids() == [] and not screen.check_action("stop_strategy", ())
        assert registry.running() == []
        assert any("ended" in text and record.run_id in text for text in ui.notifications())
        assert buys(sim) == 1
        (contract,) = sim.accounts[DEMO_TOKEN].contracts.values()
        assert contract.is_sold


async def confirm(ui: Harness) -> ConfirmTrade:
    await ui.wait_for(lambda: isinstance(ui.app.screen, ConfirmTrade), "the confirmation")
    screen = ui.app.screen
    assert isinstance(screen, ConfirmTrade)
    return screen


def stop_messages(ui: Harness) -> list[StrategyStopAsked]:
    return [m for m in ui.messages if isinstance(m, StrategyStopAsked)]


class CountingRegistry(RunRegistry):
    """A registry that counts its reads."""

    reads = 0

    def running(self) -> list[RunRecord]:
        self.reads += 1
        return super().running()


async def test_the_registry_is_read_every_few_seconds_not_per_tick(sim, tmp_path):
    registry = CountingRegistry(tmp_path / "runs")
    async with dashboard(sim, ["1HZ100V"], runs=registry, strategies_interval=1.0) as ui:
        start = asyncio.get_running_loop().time()
        await ui.wait_for_ticks(["1HZ100V"], count=40)  # 20 ticks a second here
        elapsed = asyncio.get_running_loop().time() - start
        assert registry.reads <= elapsed / 1.0 + 2  # one at start, then one a second at most
        assert registry.reads >= 1 and not panel(ui).display


async def test_records_of_several_runs_and_a_run_that_is_gone(sim, tmp_path):
    """Records written by live processes (sleepers standing in for runs), then one process
    ends: its row goes and the dashboard says it ended; a stop asked of a run that ended
    meanwhile says so and asks nothing."""
    registry = RunRegistry(tmp_path / "runs")
    with live_processes(2) as sleepers:
        first = RunRecord("20261201-100000-aaaaaa", sleepers[0].pid, "martingale", "R_100")
        first.runs, first.won, first.lost, first.profit, first.stake = 7, 4, 3, -1.5, 4.0
        second = RunRecord("20261201-100500-bbbbbb", sleepers[1].pid, "dalembert", "R_50")
        second.started = first.started + 300
        second.state, second.profit, second.open = "stopping", 2.25, 1
        for record in (first, second):
            registry.publish(record)
        async with dashboard(sim, ["R_100"], runs=registry, strategies_interval=0.2) as ui:
            table = panel(ui).table
            await ui.wait_for(lambda: len(table.run_ids()) == 2, "both rows")
            assert table.run_ids() == [first.run_id, second.run_id]  # oldest first
            row = {key: table.cell_text(first.run_id, key) for key, *_ in table.COLUMNS}
            assert (row["won_lost"], row["profit"], row["stake"]) == ("4/3", "-1.50", "4.00")
            assert table.cell_text(second.run_id, "profit") == "+2.25"
            assert table.cell_text(second.run_id, "state") == "stopping"

            await ui.pilot.press("x")  # the first row is selected
            await confirm(ui)
            sleepers[0].kill()  # the run ends before the request goes out
            sleepers[0].wait(10)
            await ui.pilot.press("enter")
            await ui.wait_for(lambda: stop_messages(ui), "the answer")
            assert [(m.run_id, m.asked) for m in stop_messages(ui)] == [(first.run_id, False)]
            assert any("no longer running" in text for text in ui.notifications("warning"))
            await ui.wait_for(lambda: table.run_ids() == [second.run_id], "its row gone")
            assert any("martingale" in t and "ended" in t for t in ui.notifications())
            assert sleepers[1].poll() is None  # the other run was not touched
