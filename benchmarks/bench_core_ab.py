"""derivkit vs the picows reference, many short rounds, paired ratios with confidence intervals.

    .venv/bin/python benchmarks/bench_core_ab.py [--scenarios seq,conc1,ticks1] [--rounds 12]
        [--pin same|split|none] [--main REF] [--no-write]

A development aid beside ``bench_core.py`` (the measurement of record), for the rows where the
two clients are within a few per cent: on this shared machine one run of a client spreads by up
to 1.5x, so seven repeats cannot tell 0.95x from 1.05x. Here every round runs each client once
(``clients/*.py``, the same scenarios as ``bench_core.py``), the order rotating between rounds;
the result is the median of the per-round ratios with a 90 % bootstrap interval.

``--pin same`` puts the server and every client on one CPU (the calls then alternate between
the two processes on that core: the steadiest figures, and each call starts with caches the
other process has just used); ``split`` the server on CPU 0 and the clients on CPU 1;
``none`` leaves placement to the kernel, as ``bench_core.py`` does.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_core import CLIENT_LABEL, MAIN_TREE, Server, ensure_main, run_client  # noqa: E402
from results import machine_line, write_section  # noqa: E402

SCENARIOS = {
    "seq": (["seq", "--n", "10000"], "calls/s", "cpu_us_per_call"),
    "conc1": (["conc", "--callers", "1", "--n", "10000"], "calls/s", "cpu_us_per_call"),
    "conc10": (["conc", "--callers", "10", "--n", "2000"], "calls/s", "cpu_us_per_call"),
    "conc100": (["conc", "--callers", "100", "--n", "200"], "calls/s", "cpu_us_per_call"),
    "conc1000": (["conc", "--callers", "1000", "--n", "20"], "calls/s", "cpu_us_per_call"),
    "ticks1": (["ticks", "--streams", "1", "--n", "100000"], "ticks/s", "cpu_us_per_tick"),
    "ticks100": (["ticks", "--streams", "100", "--n", "1000"], "ticks/s", "cpu_us_per_tick"),
}
PINS = {"same": (1, 1), "split": (0, 1), "none": (None, None)}
TIMEOUT = 120.0


def interval(ratios: list[float], rng: random.Random) -> tuple[float, float]:
    """90 % bootstrap interval of the median of ``ratios``."""
    medians = sorted(statistics.median(rng.choices(ratios, k=len(ratios))) for _ in range(2000))
    return medians[100], medians[1899]


def run_rounds(
    clients: list[str], server: Server, args: list[str], rounds: int, cpu_key: str
) -> dict[str, list[tuple[float, float]]]:
    """(rate, CPU) of every client in every round; a failed run stops the benchmark."""
    runs: dict[str, list[tuple[float, float]]] = {client: [] for client in clients}
    for index in range(rounds):
        shift = index % len(clients)
        for client in clients[shift:] + clients[:shift]:
            result, error = run_client(client, server, args, TIMEOUT)
            if error is not None or result is None:
                raise SystemExit(f"{client} {' '.join(args)}: {error}")
            runs[client].append((float(result["rate"]), float(result[cpu_key])))
    return runs


def report(
    name: str, unit: str, runs: dict[str, list[tuple[float, float]]], rng: random.Random
) -> list[str]:
    base = runs["picows"]
    rows = []
    for client, results in runs.items():
        rate = statistics.median(r for r, _ in results)
        cpu = statistics.median(c for _, c in results)
        cells = [name, CLIENT_LABEL[client], f"{rate:,.0f} {unit}", f"{cpu:.2f} µs"]
        if client == "picows":
            cells += ["1", "1"]
        else:
            rates = [ours[0] / theirs[0] for ours, theirs in zip(results, base, strict=True)]
            cpus = [ours[1] / theirs[1] for ours, theirs in zip(results, base, strict=True)]
            for ratios in (rates, cpus):
                low, high = interval(ratios, rng)
                cells.append(f"{statistics.median(ratios):.3f}x [{low:.3f}, {high:.3f}]")
        rows.append("| " + " | ".join(cells) + " |")
    return rows


def chosen(
    parser: argparse.ArgumentParser, scenarios: str, known: list[str], main_ref: str
) -> tuple[list[str], list[str]]:
    """The scenarios asked for (an unknown one is a usage error) and the clients to run: the
    reference, derivkit, and "derivkit (main)" exported at ``main_ref`` when one is given."""
    names = scenarios.split(",")
    unknown = [name for name in names if name not in known]
    if unknown:
        parser.error(f"unknown scenarios {unknown}; choose from {known}")
    clients = ["picows", "derivkit"]
    if main_ref:
        failure = ensure_main(main_ref)
        if failure:
            raise SystemExit(f"cannot export {main_ref}: {failure}")
        clients.append("main")
    return names, clients


def run_stamp(main_ref: str) -> tuple[str, str]:
    """The date (UTC) and which derivkit ran: "derivkit at <commit> (working tree)", and the
    exported main's commit when there was a ``main_ref`` column."""
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=HERE.parent
    ).stdout.strip()
    versions = f"derivkit at {commit} (working tree)"
    if main_ref:
        versions += f', "derivkit (main)" at {(MAIN_TREE / "COMMIT").read_text().strip()}'
    date = subprocess.run(["date", "-u"], capture_output=True, text=True).stdout.strip()
    return date, versions


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenarios", default="seq,conc1,ticks1")
    parser.add_argument("--rounds", type=int, default=12)
    parser.add_argument("--pin", choices=sorted(PINS), default="same")
    parser.add_argument("--main", default="", help="git ref of a 'derivkit (main)' column")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    names, clients = chosen(parser, args.scenarios, sorted(SCENARIOS), args.main)
    server_cpu, client_cpu = PINS[args.pin]
    load = os.getloadavg()
    server = Server(deflate=False)
    rows: list[str] = []
    try:
        if server_cpu is not None:
            os.sched_setaffinity(server.process.pid, {server_cpu})
            os.sched_setaffinity(0, {client_cpu})  # the clients inherit it
        rng = random.Random(13)
        for name in names:
            command, unit, cpu_key = SCENARIOS[name]
            runs = run_rounds(clients, server, command, args.rounds, cpu_key)
            rows += report(name, unit, runs, rng)
            print("\n".join(rows[-len(clients) :]), flush=True)
    finally:
        server.stop()
    date, versions = run_stamp(args.main)
    body = f"""## derivkit vs the picows reference, paired rounds (`bench_core_ab.py`)

- Date: {date}; {machine_line()}; load average (1, 5, 15 min) \
{", ".join(f"{value:.2f}" for value in load)} at the start
- Command: `python benchmarks/bench_core_ab.py --scenarios {args.scenarios} --rounds \
{args.rounds} --pin {args.pin}{f" --main {args.main}" if args.main else ""}`; {versions}
- Each round runs every client once, the order rotating; ratios are derivkit / reference of the
  same round, median over the rounds, with a 90 % bootstrap interval. Pinning: `{args.pin}`.

| scenario | client | median rate | median client CPU | paired rate ratio [90 %] \
| paired CPU ratio [90 %] |
|---|---|---:|---:|---:|---:|
""" + "\n".join(rows)
    print(body)
    if not args.no_write:
        write_section(f"bench_core_ab_{args.pin}", body)


if __name__ == "__main__":
    main()
