"""The output helper: spinner timing, JSON purity, piped tables."""

from __future__ import annotations

import asyncio
import io
import json

from rich.console import Console

from derivkit.cli.output import SPINNER_DELAY, Column, Output


def terminal_output() -> tuple[Output, io.StringIO]:
    out = Output()
    buffer = io.StringIO()
    out.errors = Console(file=buffer, force_terminal=True, width=80)
    return out, buffer


async def test_spinner_appears_only_when_a_wait_lasts():
    out, buffer = terminal_output()
    async with out.waiting("Quick"):
        pass
    assert "Quick" not in buffer.getvalue()
    out, buffer = terminal_output()
    async with out.waiting("Slow thing"):
        await asyncio.sleep(SPINNER_DELAY * 2)  # the stimulus: a wait longer than the delay
    assert "Slow thing" in buffer.getvalue()


async def test_no_spinner_when_stderr_is_not_a_terminal():
    out = Output()
    buffer = io.StringIO()
    out.errors = Console(file=buffer, force_terminal=False)
    async with out.waiting("Slow thing"):
        await asyncio.sleep(SPINNER_DELAY * 2)
    assert buffer.getvalue() == ""


def test_json_mode_prints_only_json(capsys):
    out = Output(json_mode=True)
    out.table([{"a": 1}], [Column("a")], payload=[{"a": 1.5}])
    out.stream_item({"b": 2}, "human text")
    out.note("a remark")
    captured = capsys.readouterr()
    first, second = captured.out.split("\n", 1)[0], captured.out.strip().splitlines()[-1]
    assert json.loads(captured.out[: captured.out.rindex("]") + 1]) == [{"a": 1.5}]
    assert json.loads(second) == {"b": 2} and first == "["
    assert "a remark" in captured.err and "human text" not in captured.out
