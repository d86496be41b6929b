"""Dashboard load: CPU of ``derivkit dashboard`` while a tick flood streams in (run by hand).

Starts ``derivkit sim serve`` in its own process, then runs the dashboard headless
(``App.run_test``) in a fresh process per variant, watching 10 one-second symbols at
``--speed`` (default 50: 500 ticks/s in all). After a warm-up, it measures the dashboard
process's CPU time over a window and the ticks its streams delivered. Variants, side by side in
one run:

* ``shipped``: ticks coalesced latest-wins, changed cells repainted at 5 Hz;
* ``repaint 1 ms``: the same code with the repaint timer at 1 ms, i.e. about one repaint per
  tick, the naive design.

    .venv/bin/python benchmarks/tui_load.py [--speed 50] [--seconds 15] [--no-write]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import time
from datetime import UTC, datetime

from results import machine_line, write_section

SYMBOLS = [
    "1HZ10V",
    "1HZ25V",
    "1HZ50V",
    "1HZ75V",
    "1HZ100V",
    "BOOM500",
    "BOOM1000",
    "CRASH500",
    "CRASH1000",
    "JD10",
]
VARIANTS = {"shipped": None, "repaint 1 ms": 0.001}
WARM_UP = 3.0


async def measure(url: str, repaint: float | None, seconds: float) -> dict[str, float]:
    """One variant, in this process: CPU seconds and ticks over the window."""
    import derivkit.tui.screens.main as main_screen
    from derivkit.core import DerivClient
    from derivkit.tui import DerivDashboard
    from derivkit.tui.widgets.quote_table import QuoteTable

    if repaint is not None:
        main_screen.REPAINT_INTERVAL = repaint
    async with DerivClient(url, request_timeout=30) as client:
        app = DerivDashboard(client, SYMBOLS)
        async with app.run_test(size=(160, 50)):
            table = app.main_screen.query_one(QuoteTable)

            def ticks() -> int:
                return sum(int(table.cell_text(symbol, "ticks")) for symbol in SYMBOLS)

            await asyncio.sleep(WARM_UP)
            cpu0, wall0, ticks0 = time.process_time(), time.monotonic(), ticks()
            await asyncio.sleep(seconds)
            cpu1, wall1, ticks1 = time.process_time(), time.monotonic(), ticks()
            await app.main_screen.stop_streams()
    wall = wall1 - wall0
    return {
        "cpu_pct": 100 * (cpu1 - cpu0) / wall,
        "ticks_per_s": (ticks1 - ticks0) / wall,
        "cpu_ms_per_tick": 1000 * (cpu1 - cpu0) / max(1, ticks1 - ticks0),
    }


def run_variant(url: str, name: str, seconds: float) -> dict[str, float]:
    """Measure one variant in a fresh interpreter (no state shared between variants)."""
    out = subprocess.run(
        [sys.executable, __file__, "--child", url, "--variant", name, "--seconds", str(seconds)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def start_server(speed: float) -> tuple[subprocess.Popen[str], str]:
    cmd = [sys.executable, "-c", "from derivkit.cli import main; main()"]
    cmd += ["sim", "serve", "--port", "0", "--seed", "1", "--speed", str(speed)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    while True:
        line = proc.stdout.readline()
        if not line:
            raise SystemExit("the simulator exited")
        if line.startswith("Listening on "):
            return proc, line.split()[-1]


def report(results: dict[str, dict[str, float]], speed: float, seconds: float) -> str:
    shipped = results["shipped"]
    lines = [
        "## Dashboard under a tick flood (`tui_load.py`)",
        "",
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC; {machine_line()}; "
        f"`python benchmarks/tui_load.py --speed {speed:g} --seconds {seconds:g}`. "
        "The dashboard runs headless (`App.run_test`, 160x50) in its own process per variant, "
        f"watching {len(SYMBOLS)} one-second symbols from "
        f"`derivkit sim serve --speed {speed:g}` in another process; CPU is the dashboard "
        f"process's own, over {seconds:g} s after {WARM_UP:g} s of warm-up.",
        "",
        "| variant | ticks/s delivered | CPU % of one core | CPU ms per tick | CPU vs shipped |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for name, row in results.items():
        lines.append(
            f"| {name} | {row['ticks_per_s']:,.0f} | {row['cpu_pct']:.1f} | "
            f"{row['cpu_ms_per_tick']:.3f} | {row['cpu_pct'] / shipped['cpu_pct']:.2f}x |"
        )
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--speed", type=float, default=50.0)
    ap.add_argument("--seconds", type=float, default=15.0)
    ap.add_argument("--no-write", action="store_true")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--variant", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        result = asyncio.run(measure(args.child, VARIANTS[args.variant], args.seconds))
        print(json.dumps(result))
        return
    server, url = start_server(args.speed)
    try:
        results = {name: run_variant(url, name, args.seconds) for name in VARIANTS}
    finally:
        server.terminate()
        server.wait(10)
    section = report(results, args.speed, args.seconds)
    print(section)
    if not args.no_write:
        write_section("tui-load", section)


if __name__ == "__main__":
    main()
