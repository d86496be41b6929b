"""Cold start of the CLI: ``derivkit --help``, ``derivkit config path`` (which connects to
nothing, so loads no connection core) and ``derivkit --sim price R_100``.

Runs each command N times as a fresh process, beside ``python -c pass`` (the interpreter's own
start-up, the floor), and writes the medians into benchmarks/RESULTS.md between the
``cli-startup`` markers. Run by hand: ``python benchmarks/cli_startup.py [--runs 15]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from results import machine_line, write_section

DERIVKIT = str(Path(sys.executable).with_name("derivkit"))

CASES = [
    ("python -c pass (floor)", [sys.executable, "-c", "pass"], None),
    ("derivkit --help", [DERIVKIT, "--help"], 0.200),
    # A command that does not connect: it must not pay for the core (issue 13).
    ("derivkit config path", [DERIVKIT, "config", "path"], 0.200),
    ("derivkit --sim price R_100", [DERIVKIT, "--sim", "price", "R_100"], 0.600),
]


def time_once(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    rows = []
    medians: dict[str, float] = {}
    load_before = os.getloadavg()
    for _, command, _ in CASES:
        time_once(command)  # warm the file cache: "cold" here means a fresh interpreter
    # Round robin: every case sees the same drift of a shared machine's load.
    runs: dict[str, list[float]] = {name: [] for name, _, _ in CASES}
    for _ in range(args.runs):
        for name, command, _ in CASES:
            runs[name].append(time_once(command))
    for name, _, target in CASES:
        samples = sorted(runs[name])
        median = statistics.median(samples)
        medians[name] = median
        p90 = samples[int(0.9 * (len(samples) - 1))]
        verdict = "" if target is None else ("pass" if median <= target else "FAIL")
        limit = "" if target is None else f"≤ {target * 1000:.0f} ms"
        rows.append(f"| {name} | {median * 1000:.0f} | {p90 * 1000:.0f} | {limit} | {verdict} |")
        print(rows[-1])
    load_after = os.getloadavg()
    floor = medians["python -c pass (floor)"]
    help_ms, path_ms = medians["derivkit --help"], medians["derivkit config path"]
    section = "\n".join(
        [
            "## CLI cold start",
            "",
            f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC; {machine_line()}; "
            "`python benchmarks/cli_startup.py "
            f"--runs {args.runs}` (wall time of a fresh process, {args.runs} runs each, round "
            "robin); "
            f"load average {load_before[0]:.2f} at the start, {load_after[0]:.2f} at the end.",
            "",
            "| command | median ms | p90 ms | target | result |",
            "| --- | ---: | ---: | --- | --- |",
            *rows,
            "",
            f"`derivkit config path` / `derivkit --help`: {path_ms / help_ms:.2f}x "
            f"({(path_ms - floor) / (help_ms - floor):.2f}x above the interpreter's start-up). "
            "Neither loads the connection core (`tests/core/test_hygiene.py`).",
        ]
    )
    write_section("cli-startup", section)


if __name__ == "__main__":
    main()
