"""Backtest speed: ``derivkit backtest martingale --symbol R_100 --ticks 100000 --seed 1`` and
a sweep of 8 parameter sets on the process pool against the same 8 run one after another.

Each backtest runs as a fresh ``derivkit`` process (one core each), ``--json`` giving the
contracts settled and the engine's own time. Targets: the 100,000-tick run ≤ 10 s; the sweep's
wall time ≤ 0.6 × the sum of the single runs. Writes the ``backtest`` section of RESULTS.md.
Run by hand: ``python benchmarks/backtest.py [--runs 3]``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from results import machine_line, write_section

DERIVKIT = str(Path(sys.executable).with_name("derivkit"))
BASE = ["--json", "backtest", "martingale", "--symbol", "R_100", "--ticks", "100000", "--seed"]
SWEEP = ["--sweep", "multiplier=2,2.5,3,4", "--sweep", "max_stake=64,256"]
SWEEP_SETS = [
    ["-p", f"multiplier={m}", "-p", f"max_stake={s}"]
    for m in ("2", "2.5", "3", "4")
    for s in ("64", "256")
]


def timed(args: list[str]) -> tuple[float, object]:
    started = time.perf_counter()
    done = subprocess.run([DERIVKIT, *args], check=True, capture_output=True, text=True)
    return time.perf_counter() - started, json.loads(done.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    rows = []

    for label, extra in (
        ("as the issue names it (goes broke on its default 10,000 balance)", []),
        ("with -p max_stake=256 (runs every tick)", ["-p", "max_stake=256"]),
    ):
        samples = [timed([*BASE, "1", *extra]) for _ in range(args.runs)]
        wall = statistics.median(s for s, _ in samples)
        report = samples[0][1]
        assert isinstance(report, dict)
        rate = statistics.median(r["contracts_per_second"] for _, r in samples)  # type: ignore[index]
        verdict = "pass" if wall <= 10 else "FAIL"
        rows.append(
            f"| {label} | {report['ticks']:,} | {report['runs']:,} | {wall:.2f} | "
            f"{rate:,.0f} | ≤ 10 s | {verdict} |"
        )
        print(rows[-1])

    singles = [timed([*BASE, "1", *params])[0] for params in SWEEP_SETS]
    sweep_wall = statistics.median(timed([*BASE, "1", *SWEEP])[0] for _ in range(args.runs))
    ratio = sweep_wall / sum(singles)
    sweep_row = (
        f"| sweep of 8 (multiplier 2, 2.5, 3, 4 × max_stake 64, 256) | {sum(singles):.2f} | "
        f"{sweep_wall:.2f} | {ratio:.2f} | ≤ 0.60 | {'pass' if ratio <= 0.6 else 'FAIL'} |"
    )
    print(sweep_row)

    section = "\n".join(
        [
            "## Backtest speed (`backtest.py`)",
            "",
            f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC; {machine_line()}; "
            f"`python benchmarks/backtest.py --runs {args.runs}` (medians; each backtest a fresh "
            "process: wall time includes the interpreter's start-up).",
            "",
            "`derivkit backtest martingale --symbol R_100 --ticks 100000 --seed 1`, 1-tick "
            "Rise/Fall:",
            "",
            "| run | ticks | contracts | wall s | contracts/s | target | result |",
            "| --- | ---: | ---: | ---: | ---: | --- | --- |",
            *rows,
            "",
            "| sweep | sum of single runs s | sweep wall s | ratio | target | result |",
            "| --- | ---: | ---: | ---: | --- | --- |",
            sweep_row,
        ]
    )
    write_section("backtest", section)


if __name__ == "__main__":
    main()
