"""Cold start of the CLI: ``derivkit --help`` and ``derivkit --sim price R_100``.

Runs each command N times as a fresh process, beside ``python -c pass`` (the interpreter's own
start-up, the floor), and writes the medians into benchmarks/RESULTS.md between the
``cli-startup`` markers. Run by hand: ``python benchmarks/cli_startup.py [--runs 15]``.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

RESULTS = Path(__file__).with_name("RESULTS.md")
START, END = "<!-- cli-startup:start -->", "<!-- cli-startup:end -->"
DERIVKIT = str(Path(sys.executable).with_name("derivkit"))

CASES = [
    ("python -c pass (floor)", [sys.executable, "-c", "pass"], None),
    ("derivkit --help", [DERIVKIT, "--help"], 0.200),
    ("derivkit --sim price R_100", [DERIVKIT, "--sim", "price", "R_100"], 0.600),
]


def time_once(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    rows = []
    for name, command, target in CASES:
        time_once(command)  # warm the file cache: "cold" here means a fresh interpreter
        samples = sorted(time_once(command) for _ in range(args.runs))
        median = statistics.median(samples)
        p90 = samples[int(0.9 * (len(samples) - 1))]
        verdict = "" if target is None else ("pass" if median <= target else "FAIL")
        limit = "" if target is None else f"≤ {target * 1000:.0f} ms"
        rows.append(f"| {name} | {median * 1000:.0f} | {p90 * 1000:.0f} | {limit} | {verdict} |")
        print(rows[-1])
    section = "\n".join(
        [
            START,
            "## CLI cold start",
            "",
            f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC; {cpu_model()}, {_cores()} cores; "
            f"Python {platform.python_version()}; `python benchmarks/cli_startup.py "
            f"--runs {args.runs}` (wall time of a fresh process, {args.runs} runs each).",
            "",
            "| command | median ms | p90 ms | target | result |",
            "| --- | ---: | ---: | --- | --- |",
            *rows,
            END,
        ]
    )
    text = RESULTS.read_text() if RESULTS.exists() else "# Benchmark results\n"
    if START in text and END in text:
        head, rest = text.split(START, 1)
        text = head + section + rest.split(END, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    RESULTS.write_text(text)


def _cores() -> int:
    import os

    return os.cpu_count() or 1


if __name__ == "__main__":
    main()
