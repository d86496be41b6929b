"""The dashboard as a trading console under load (run by hand): key press -> screen updated, and
CPU, while 50 symbols tick once a second and one more floods.

Two simulators, each in its own process: one at speed 1 with 50 one-second symbols (clones of
Volatility 10 (1s), B01..B50, registered in that process only: the simulator has 22 symbols), and
one at ``--flood-speed`` (default 200) for 1HZ100V, i.e. 200 ticks/s. The dashboard runs headless
(``App.run_test``, 160x50) in a fresh process per variant: its market client on the first
simulator, and the flooding symbol's stream, through the screen's own stream code, on a client of
the second. After a warm-up it presses down/up alternately (each moves the selection: price,
chart and digits follow) and times each press until the price panel is handed the new symbol
(painted within the next frame; the probe wraps ``PricePanel.show`` and waits on an event, so it
costs the measured process nothing while it waits); CPU is the dashboard process's own over the
window. The dashboard reads an empty strategies registry, as the CLI's does (where the build has
the strategies panel). Variants:

* ``tick chart``: the tick chart, digit panel hidden (``v``);
* ``digits + 1m candles``: the digit panel open and the chart on 1-minute candles (``g``).

``--baseline REF`` (default ``main``) runs each variant a second time on the dashboard code of git
ref REF (its ``derivkit`` package extracted to a temporary directory first on ``PYTHONPATH``;
``--baseline ''`` skips it), so before and after are measured side by side in one run, against
the same two simulators.

    .venv/bin/python benchmarks/tui_console.py [--seconds 20] [--presses 200] [--baseline main]
        [--repeat 1]
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import inspect
import json
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path

from results import machine_line, write_section

CLONES = [f"B{i:02d}" for i in range(1, 51)]
FLOOD = "1HZ100V"
VARIANTS = {"tick chart": ["v"], "digits + 1m candles": ["g"]}
WARM_UP = 4.0


def serve(speed: float, clones: bool) -> None:
    """Child: a simulator (with the clones, if asked) until killed; prints its URL."""
    from derivkit.sim import Simulator
    from derivkit.sim.symbols import SYMBOLS

    if clones:
        base = SYMBOLS["1HZ10V"]
        for order, name in enumerate(CLONES):
            SYMBOLS[name] = dataclasses.replace(
                base, symbol=name, display_name=f"Bench {name}", display_order=900 + order
            )

    async def main() -> None:
        async with Simulator(seed=1, speed=speed) as sim:
            print(sim.url, flush=True)
            await asyncio.Event().wait()

    asyncio.run(main())


def start(speed: float, clones: bool) -> tuple[subprocess.Popen[str], str]:
    cmd = [sys.executable, __file__, "--serve", str(speed)] + (["--clones"] if clones else [])
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    url = proc.stdout.readline().strip()
    if not url:
        raise SystemExit("a simulator did not start")
    return proc, url


async def measure(url: str, flood_url: str, keys: list[str], seconds: float, presses: int):
    from derivkit.core import DerivClient
    from derivkit.tui import DerivDashboard
    from derivkit.tui.widgets.price_digits import PricePanel
    from derivkit.tui.widgets.quote_table import QuoteTable

    awaited: dict[str, object] = {"symbol": None, "shown": asyncio.Event()}
    show = PricePanel.show

    def probed_show(panel: PricePanel, quote: object) -> None:
        show(panel, quote)  # type: ignore[arg-type]
        if quote is not None and getattr(quote, "symbol", None) == awaited["symbol"]:
            awaited["shown"].set()  # type: ignore[attr-defined]

    PricePanel.show = probed_show  # type: ignore[method-assign]
    async with (
        DerivClient(url, request_timeout=30) as market,
        DerivClient(flood_url, request_timeout=30) as flood,
    ):
        options: dict[str, object] = {}
        if "runs" in inspect.signature(DerivDashboard).parameters:  # as the CLI: its panel too
            from derivkit.strategy.registry import RunRegistry

            options["runs"] = RunRegistry(Path(tempfile.mkdtemp(prefix="tui-console-runs-")))
        app = DerivDashboard(market, CLONES, status_interval=None, **options)  # type: ignore[arg-type]
        async with app.run_test(size=(160, 50)) as pilot:
            screen = app.main_screen
            screen._client = flood  # noqa: SLF001  the flooding symbol streams from the fast sim
            screen.add_symbol(FLOOD)
            screen._client = market  # noqa: SLF001
            table = screen.query_one(QuoteTable)
            table.focus()
            table.move_cursor(row=0)
            await pilot.press(*keys)
            await asyncio.sleep(WARM_UP)

            def ticks() -> int:
                return sum(int(table.cell_text(s, "ticks")) for s in [*CLONES, FLOOD])

            latencies: list[float] = []
            load0 = os.getloadavg()[0]
            cpu0, wall0, ticks0 = time.process_time(), time.monotonic(), ticks()
            pause = seconds / presses
            shown = awaited["shown"]
            assert isinstance(shown, asyncio.Event)
            for i in range(presses):
                key = "down" if i % 2 == 0 else "up"
                row = table.cursor_row + (1 if key == "down" else -1)
                awaited["symbol"] = str(table.coordinate_to_cell_key((row, 0)).row_key.value)
                shown.clear()
                t0 = time.perf_counter()
                app.simulate_key(key)  # as a terminal's key event: no Pilot idle-waits
                await asyncio.wait_for(shown.wait(), 10)
                latencies.append(time.perf_counter() - t0)
                await asyncio.sleep(max(0.0, pause - latencies[-1]))
            cpu1, wall1, ticks1 = time.process_time(), time.monotonic(), ticks()
            load1 = os.getloadavg()[0]
            await screen.stop_streams()
    latencies.sort()
    wall = wall1 - wall0
    import derivkit

    return {
        "code": str(Path(derivkit.__file__).parent),
        "cpu_pct": 100 * (cpu1 - cpu0) / wall,
        "cpu_us_per_tick": 1e6 * (cpu1 - cpu0) / max(1, ticks1 - ticks0),
        "load": (load0, load1),
        "ticks_per_s": (ticks1 - ticks0) / wall,
        "p50_ms": 1000 * statistics.median(latencies),
        "p99_ms": 1000 * latencies[int(0.99 * (len(latencies) - 1))],
        "max_ms": 1000 * latencies[-1],
    }


def head() -> str:
    """The checked-out commit, ``+`` if the tree has changes."""
    root = str(Path(__file__).resolve().parent.parent)
    rev = subprocess.run(
        ["git", "-C", root, "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    dirty = subprocess.run(["git", "-C", root, "diff", "--quiet", "HEAD", "--", "derivkit"])
    return rev + ("+" if dirty.returncode else "")


def extract(ref: str, into: Path) -> str:
    """Put git ref ``ref``'s ``derivkit`` package under ``into``; returns the ref's short hash."""
    root = Path(__file__).resolve().parent.parent
    rev = subprocess.run(
        ["git", "-C", str(root), "rev-parse", "--short", ref],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    archive = subprocess.run(
        ["git", "-C", str(root), "archive", rev, "derivkit"], capture_output=True, check=True
    ).stdout
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    return rev


def run_variant(
    url: str, flood_url: str, name: str, seconds: float, presses: int, code: Path | None = None
):
    cmd = [sys.executable, __file__, "--child", url, flood_url, "--variant", name]
    cmd += ["--seconds", str(seconds), "--presses", str(presses)]
    env = dict(os.environ)
    if code is not None:  # the baseline's derivkit first on the path
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(code), env.get("PYTHONPATH")]))
    out = subprocess.run(cmd, capture_output=True, text=True, check=True, env=env)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    if code is not None and not result["code"].startswith(str(code)):
        raise SystemExit(f"the baseline run imported derivkit from {result['code']}")
    return result


def verdict(row: dict) -> str:
    """Whether ``row`` meets both targets (CPU <= 30 % of one core, p99 < 100 ms)."""
    cpu_ok, p99_ok = row["cpu_pct"] <= 30.0, row["p99_ms"] < 100.0
    if cpu_ok and p99_ok:
        return "pass"
    return "fail (" + ", ".join(n for n, ok in (("CPU", cpu_ok), ("p99", p99_ok)) if not ok) + ")"


def median_run(runs: list[dict]) -> dict:
    """The run of median CPU (the lower middle one of an even count), with the CPU range."""
    ordered = sorted(runs, key=lambda run: run["cpu_pct"])
    p99s = sorted(run["p99_ms"] for run in runs)
    return {
        **ordered[(len(ordered) - 1) // 2],
        "cpu_range": (ordered[0]["cpu_pct"], ordered[-1]["cpu_pct"]),
        "p99_range": (p99s[0], p99s[-1]),
    }


def report(
    results, seconds: float, presses: int, flood_speed: float, baseline: str, repeat: int
) -> str:
    compare = f" `--baseline {baseline}`" if baseline else ""
    compare += f" `--repeat {repeat}`" if repeat > 1 else ""
    each = (
        f" Each variant and build ran {repeat} times, alternating builds; each row is the run "
        "of median CPU, the CPU and p99 ranges of all runs in brackets."
        if repeat > 1
        else ""
    )
    lines = [
        "## Dashboard as a trading console (`tui_console.py`)",
        "",
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC; {machine_line()}; "
        f"`python benchmarks/tui_console.py --seconds {seconds:g} --presses {presses} "
        f"--flood-speed {flood_speed:g}`{compare}. 50 one-second symbols from a simulator at "
        f"speed 1 plus {FLOOD} from one at speed {flood_speed:g}, each simulator in its own "
        "process; the dashboard headless at 160x50 in its own process per variant and build. "
        "Latency: a key press (down/up, moving the selection) until the price panel is handed "
        "the new symbol (the frame follows within 1/60 s). "
        "CPU µs per tick: the dashboard's CPU time over the ticks it showed (steadier than "
        "the share of a core when other processes load the machine). Load average: the "
        f"machine's 1-minute load at the start and end of the window.{each} "
        "Targets: p99 < 100 ms, CPU <= 30 % of one core.",
        "",
        "| variant | build | ticks/s delivered | CPU % of one core | CPU vs baseline "
        "| CPU µs per tick | p50 ms | p99 ms | max ms | load avg (start-end) | targets |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |",
    ]
    rows = {key: median_run(runs) for key, runs in results.items()}
    for (name, build), row in rows.items():
        base = next(
            (r for (n, b), r in rows.items() if n == name and b.startswith("baseline")), None
        )
        ratio = f"{row['cpu_pct'] / base['cpu_pct']:.2f}x" if base else ""
        low, high = row["cpu_range"]
        cpu = f"{row['cpu_pct']:.1f}" + (f" ({low:.1f}-{high:.1f})" if repeat > 1 else "")
        low, high = row["p99_range"]
        p99 = f"{row['p99_ms']:.1f}" + (f" ({low:.1f}-{high:.1f})" if repeat > 1 else "")
        lines.append(
            f"| {name} | {build} | {row['ticks_per_s']:,.0f} | {cpu} | {ratio} | "
            f"{row['cpu_us_per_tick']:.0f} | {row['p50_ms']:.1f} | {p99} | "
            f"{row['max_ms']:.1f} | {row['load'][0]:.2f}-{row['load'][1]:.2f} | "
            f"{verdict(row)} |"
        )
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--presses", type=int, default=200)
    ap.add_argument("--flood-speed", type=float, default=200.0)
    ap.add_argument("--baseline", default="main", help="git ref to compare with ('' for none)")
    ap.add_argument("--repeat", type=int, default=1, help="runs per variant and build")
    ap.add_argument("--no-write", action="store_true")
    ap.add_argument("--serve", type=float, help=argparse.SUPPRESS)
    ap.add_argument("--clones", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    ap.add_argument("--variant", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.serve is not None:
        serve(args.serve, args.clones)
        return
    if args.child:
        result = asyncio.run(
            measure(*args.child, VARIANTS[args.variant], args.seconds, args.presses)
        )
        print(json.dumps(result))
        return
    slow, url = start(1.0, clones=True)
    fast, flood_url = start(args.flood_speed, clones=False)
    results: dict[tuple[str, str], list[dict]] = {}
    try:
        with tempfile.TemporaryDirectory(prefix="tui-console-") as tmp:
            builds: list[tuple[str, Path | None]] = [(f"this tree ({head()})", None)]
            if args.baseline:
                rev = extract(args.baseline, Path(tmp))
                builds.insert(0, (f"baseline {args.baseline} ({rev})", Path(tmp)))
            for name in VARIANTS:
                for _ in range(args.repeat):
                    for build, code in builds:
                        results.setdefault((name, build), []).append(
                            run_variant(url, flood_url, name, args.seconds, args.presses, code)
                        )
    finally:
        for proc in (slow, fast):
            proc.terminate()
            proc.wait(10)
    section = report(
        results, args.seconds, args.presses, args.flood_speed, args.baseline, args.repeat
    )
    print(section)
    if not args.no_write:
        write_section("tui-console", section)


if __name__ == "__main__":
    main()
