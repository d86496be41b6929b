"""What the stream de-duplication of issue 9 costs per tick: derivkit with it and without it.

    .venv/bin/python benchmarks/bench_core_dedup.py [--repeats N] [--no-write]

Two measurements, side by side in one run:

* end to end: ``bench_core.py``'s tick scenarios (``bench_server.py`` floods ticks as fast as the
  socket takes them; derivkit on picows consumes them), each run once with de-duplication
  (derivkit as shipped) and once without (``BENCH_DERIVKIT_DEDUP=off``: every consumer buffers
  each message as it comes), alternating which goes first; ticks/s and client CPU per tick;
* in process: ``Seen.admit`` on a stream of tick messages (the check alone, in ns per tick),
  beside the empty loop.

Replaces the ``bench_core_dedup`` section of ``benchmarks/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench_core import Server, run_client
from results import RESULTS, machine_line, write_section

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = {
    "1 flooding subscription x 100000 ticks": ["ticks", "--streams", "1", "--n", "100000"],
    "100 flooding subscriptions x 1000 ticks": ["ticks", "--streams", "100", "--n", "1000"],
}
MODES = ("on", "off")


def end_to_end(repeats: int) -> dict[tuple[str, str], list[dict[str, Any]]]:
    runs: dict[tuple[str, str], list[dict[str, Any]]] = {}
    server = Server(False)
    saved = dict(os.environ)
    try:
        for repeat in range(repeats):
            for name, args in SCENARIOS.items():
                order = MODES if repeat % 2 == 0 else MODES[::-1]
                for mode in order:
                    os.environ["BENCH_DERIVKIT_DEDUP"] = mode
                    result, error = run_client("derivkit", server, args, 60.0)
                    if error is not None or result is None:
                        raise RuntimeError(f"{name}, dedup {mode}: {error}")
                    if result["ticks"] != result["ticks_sent"]:
                        raise RuntimeError(f"{name}, dedup {mode}: ticks lost {result}")
                    runs.setdefault((name, mode), []).append(result)
            print(f"repeat {repeat + 1}/{repeats} done", flush=True)
    finally:
        os.environ.clear()
        os.environ.update(saved)
        server.stop()
    return runs


def admit_ns_per_tick(count: int = 200_000, rounds: int = 5) -> tuple[float, float]:
    """Best of ``rounds``: ns per tick of ``Seen.admit``, and of the same loop without it."""
    sys.path.insert(0, str(ROOT))
    from derivkit.core.dedup import Seen

    ticks = [
        {"msg_type": "tick", "tick": {"symbol": "R_100", "epoch": epoch, "quote": 100.0}}
        for epoch in range(count)
    ]
    scope = (None, None)
    best_admit = best_loop = float("inf")
    for _ in range(rounds):
        seen = Seen()
        admit = seen.admit
        started = time.perf_counter()
        for message in ticks:
            admit(message, scope)
        best_admit = min(best_admit, time.perf_counter() - started)
        started = time.perf_counter()
        for _message in ticks:
            pass
        best_loop = min(best_loop, time.perf_counter() - started)
    return best_admit / count * 1e9, best_loop / count * 1e9


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--no-write", action="store_true", help="do not update RESULTS.md")
    args = parser.parse_args()
    load_before = os.getloadavg()
    runs = end_to_end(args.repeats)
    admit_ns, loop_ns = admit_ns_per_tick()
    load_after = os.getloadavg()

    def median(name: str, mode: str, key: str) -> float:
        return statistics.median(float(r[key]) for r in runs[(name, mode)])

    lines = [
        "| scenario | ticks/s, dedup on | ticks/s, dedup off | on / off | µs/tick CPU, on "
        "| µs/tick CPU, off | on / off | CPU added per tick |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name in SCENARIOS:
        rate_on, rate_off = median(name, "on", "rate"), median(name, "off", "rate")
        cpu_on = median(name, "on", "cpu_us_per_tick")
        cpu_off = median(name, "off", "cpu_us_per_tick")
        lines.append(
            f"| {name} | {rate_on:,.0f} | {rate_off:,.0f} | {rate_on / rate_off:.2f}x "
            f"| {cpu_on:.2f} | {cpu_off:.2f} | {cpu_on / cpu_off:.2f}x "
            f"| {(cpu_on - cpu_off) * 1000:+.0f} ns |"
        )
    runs_lines = ["| scenario | dedup | ticks/s | µs/tick CPU |", "|---|---|---|---|"]
    for (name, mode), results in runs.items():
        rates = ", ".join(f"{r['rate']:,.0f}" for r in results)
        cpus = ", ".join(f"{r['cpu_us_per_tick']:.2f}" for r in results)
        runs_lines.append(f"| {name} | {mode} | {rates} | {cpus} |")
    date = subprocess.run(["date"], capture_output=True, text=True).stdout.strip()
    section = "\n".join(
        [
            "## Stream de-duplication (`bench_core_dedup.py`)",
            "",
            f"- Date: {date}; {machine_line()}; load average (1, 5, 15 min) "
            f"{load_before[0]:.2f}, {load_before[1]:.2f}, {load_before[2]:.2f} before, "
            f"{load_after[0]:.2f}, {load_after[1]:.2f}, {load_after[2]:.2f} after",
            f"- Command: `python benchmarks/bench_core_dedup.py --repeats {args.repeats}`; "
            "derivkit on picows against `bench_server.py`, medians of "
            f"{args.repeats} runs per cell, on and off alternating.",
            "- *off* skips `Seen.admit` in every consumer (`BENCH_DERIVKIT_DEDUP=off`, "
            "benchmark only); every tick is new, so both deliver the same ticks.",
            "",
            *lines,
            "",
            f"In process, `Seen.admit` on a tick: {admit_ns:.0f} ns per tick (the bare loop "
            f"{loop_ns:.0f} ns), i.e. about {admit_ns - loop_ns:.0f} ns of CPU per tick and "
            "reader.",
            "",
            "<details><summary>All runs</summary>",
            "",
            *runs_lines,
            "",
            "</details>",
        ]
    )
    print(section)
    if not args.no_write:
        write_section("bench_core_dedup", section)
        print(f"updated {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
