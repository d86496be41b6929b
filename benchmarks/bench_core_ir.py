"""derivkit vs the picows reference in CPU instructions per call, counted by valgrind.

    .venv/bin/python benchmarks/bench_core_ir.py [--scenarios seq,conc1] [--main REF]
        [--no-write]

A development aid beside ``bench_core_ab.py``: on this shared virtual machine the time of one
call spreads by several per cent from run to run, more than the changes it is meant to judge;
the instructions a client executes per call barely do (within 1.5 % between runs). Each client
runs its scenario under callgrind twice, with ``n`` and ``4 n`` calls, and the difference over
``3 n`` calls is what one call costs, startup and warm-up cancelled. Instructions are not time
(a cache miss or a system call costs more than its count says), so the timed benchmarks stay
the measurement of record; this one says which way a change moves the client's own work.

Needs ``valgrind`` (``apt-get install valgrind``); a client runs about 50 times slower under it.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_core import CLIENT_ENV, CLIENT_LABEL, Server, client_command  # noqa: E402
from bench_core_ab import chosen, run_stamp  # noqa: E402
from results import machine_line, write_section  # noqa: E402

#: scenario -> (client arguments before ``--n``, callers or streams, ``--n`` of the shorter run:
#: calls per caller, ticks per stream).
SCENARIOS = {
    "seq": (["seq"], 1, 1000),
    "conc1": (["conc", "--callers", "1"], 1, 1000),
    "conc100": (["conc", "--callers", "100"], 100, 10),
    "ticks1": (["ticks", "--streams", "1"], 1, 5000),
    "ticks100": (["ticks", "--streams", "100"], 100, 50),
}
_COLLECTED = re.compile(rb"Collected : (\d+)")


def instructions(client: str, server: Server, args: list[str]) -> int:
    """Instructions the client process executed for one run (its whole life)."""
    command = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null"]
    command += [*client_command(client), server.url, *args]
    command += ["--hold-url", server.hold_url, "--timeout", "600"]
    env = {**os.environ, **CLIENT_ENV.get(client, {})}
    done = subprocess.run(command, capture_output=True, env=env, timeout=1800)
    found = _COLLECTED.search(done.stderr)
    lines = done.stdout.strip().splitlines()
    result = json.loads(lines[-1]) if lines else {"error": "no output"}
    # A reader slowed down by valgrind that dropped ticks would be counted doing less work.
    if done.returncode != 0 or found is None or "error" in result or result.get("dropped"):
        raise SystemExit(f"{client} {' '.join(args)} failed: {result}")
    return int(found.group(1))


def per_call(client: str, server: Server, scenario: str) -> float:
    """Instructions per call (or tick): the runs of ``4 n`` and ``n``, their difference over
    ``3 n``."""
    head, callers, short = SCENARIOS[scenario]
    shorter, longer = (
        instructions(client, server, [*head, "--n", str(calls)]) for calls in (short, 4 * short)
    )
    return (longer - shorter) / (3 * short * callers)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenarios", default="seq,conc1")
    parser.add_argument("--main", default="", help="git ref of a 'derivkit (main)' column")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed (apt-get install valgrind)")
    names, clients = chosen(parser, args.scenarios, sorted(SCENARIOS), args.main)
    server = Server(deflate=False)
    rows: list[str] = []
    try:
        for name in names:
            counts = {client: per_call(client, server, name) for client in clients}
            base = counts["picows"]
            for client, count in counts.items():
                rows.append(
                    f"| {name} | {CLIENT_LABEL[client]} | {count:,.0f} | {count / base:.3f}x |"
                )
                print(rows[-1], flush=True)
    finally:
        server.stop()
    date, versions = run_stamp(args.main)
    body = f"""## derivkit vs the picows reference, instructions per call (`bench_core_ir.py`)

- Date: {date}; {machine_line()}
- Command: `python benchmarks/bench_core_ir.py --scenarios {args.scenarios}\
{f" --main {args.main}" if args.main else ""}`; {versions}
- Client instructions per call under callgrind (the difference between a run of 4 n calls
  and one of n, over 3 n), user space only; the server runs natively.

| scenario | client | instructions per call | vs reference |
|---|---|---:|---:|
""" + "\n".join(rows)
    print(body)
    if not args.no_write:
        write_section("bench_core_ir", body)


if __name__ == "__main__":
    main()
