"""/strategies: a real ``derivkit run`` in a subprocess, on the test's simulator, listed by the
bot and stopped with its button; only a personal bot shows the machine's strategies."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

from derivkit.strategy.registry import RunRecord, RunRegistry
from tests.bot.conftest import OWNER, READ_TRADE, wait_until
from tests.conftest import SETTINGS_ENV

RUN_TOKEN = "run-token-strategy-01"


async def spawn_run(sim_url: str, data_dir: Path, *args: str) -> asyncio.subprocess.Process:
    """``derivkit --json run ...`` against the simulator, with ``data_dir`` its data dir (its
    status file in ``runs/``, its trades in the journal there)."""
    env = {k: v for k, v in os.environ.items() if k not in SETTINGS_ENV}
    env.update(
        DERIVKIT_DATA_DIR=str(data_dir),
        DERIVKIT_CONFIG_DIR=str(data_dir / "config"),
        PYTHONUNBUFFERED="1",
    )
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        "from derivkit.cli import main; main()",
        "--endpoint",
        sim_url,
        "--token",
        RUN_TOKEN,
        "--json",
        "run",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
    )


async def next_event(process: asyncio.subprocess.Process, timeout: float = 20.0) -> dict:
    assert process.stdout is not None
    line = await asyncio.wait_for(process.stdout.readline(), timeout)
    assert line, "the run ended early"
    return json.loads(line)


async def test_strategies_lists_a_live_run_and_its_button_stops_it(start_bot, tmp_path):
    bot = await start_bot(accounts={RUN_TOKEN: READ_TRADE})
    runs_dir = bot.data_dir  # the run's status file and journal go where the bot's are
    bot.rt.runs = RunRegistry(runs_dir / "runs")
    empty = await bot.send("/strategies")
    assert "No strategy is running on this machine" in empty["text"]

    process = await spawn_run(bot.sim.url, runs_dir, "flat", "-s", "1HZ100V", "-p", "duration=5")
    try:
        assert (await next_event(process))["event"] == "started"
        bot.sim.faults.pause_symbol("1HZ100V")  # its contract stays open
        assert (await next_event(process))["event"] == "bought"
        await wait_until(lambda: any(r.open for r in bot.rt.runs.running()))

        listing = await bot.send("/strategies")
        (record,) = bot.rt.runs.running()
        assert record.pid == process.pid
        assert "flat on 1HZ100V" in listing["text"] and "running" in listing["text"]
        assert "open 1" in listing["text"] and record.run_id in listing["text"]
        stop_label = f"⏹ Stop flat {record.run_id.rsplit('-', 1)[-1]}"
        assert listing["buttons"] == [stop_label, "Refresh"]
        stop_data = listing["reply_markup"]["inline_keyboard"][0][0]["callback_data"]

        query = await bot.tap(listing, stop_label)
        assert (await bot.answer_to(query))["text"] == "Asked to stop."
        edited = await bot.api.next_bot_message(chat_id=OWNER)
        assert edited["message_id"] == listing["message_id"]
        assert f"Asked flat ({record.run_id}) to stop buying" in edited["text"]
        assert edited["buttons"] == ["Refresh"]  # no second Stop for a run asked to stop
        assert (await next_event(process))["event"] == "stopping"  # it got the signal

        bot.sim.faults.resume_symbol("1HZ100V")
        kinds = [(await next_event(process))["event"] for _ in range(2)]
        assert kinds == ["settled", "stopped"]
        assert await asyncio.wait_for(process.wait(), 10) == 0  # an orderly stop
        settled = await bot.storage.journal_entries(run_id=record.run_id)
        assert [e.status for e in settled] == ["settled"]
        profit = settled[0].profit
        told = await bot.api.next_bot_message(chat_id=OWNER, timeout=10)
        assert f"flat ({record.run_id}) has ended. From the trade journal: runs 1" in told["text"]
        assert f"won {int(profit > 0)} · lost {int(profit < 0)}" in told["text"]
        assert f"P/L {'+' if profit > 0 else ''}{profit:.2f} USD" in told["text"]
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()

    again = bot.api.user_taps(listing["message_id"], data=stop_data, user_id=OWNER, strict=False)
    assert (await bot.answer_to(again))["text"] == "That strategy is no longer running."
    assert bot.rt.runs.running() == []


async def test_a_multi_user_bot_shows_no_strategies(start_bot, tmp_path):
    bot = await start_bot(mode="multi-user", allowed=())
    registry = RunRegistry(tmp_path / "runs")
    registry.publish(RunRecord("20261201-000000-abcdef", os.getpid(), "flat", "R_100"))
    bot.rt.runs = registry
    answer = await bot.send("/strategies", user_id=OWNER)
    assert "a multi-user bot shows them to nobody" in answer["text"]
    assert "flat" not in answer["text"] and not answer["buttons"]
