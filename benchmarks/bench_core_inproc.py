"""derivkit vs the picows reference in one process: alternating blocks of calls, paired ratios.

    .venv/bin/python benchmarks/bench_core_inproc.py [--callers 1] [--n 10000] [--blocks 8]

A development aid beside ``bench_core.py`` (which stays the measurement of record): on a shared
machine two processes run minutes apart under different loads and core placements, so their
CPU per call spreads by 1.5x; blocks run back to back in one process share them. Each block is
its own ``asyncio.run`` (its own loop, connection and warm-up of 50 calls per caller) against one
``bench_server.py``; the order alternates. Caveat: both clients run with derivkit imported (and
its alarm thread, idle, started by derivkit's first block), so this measures the call paths,
not the price of importing derivkit.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "clients"))
os.environ.setdefault("BENCH_DERIVKIT_TRANSPORT", "picows")

import derivkit_client  # noqa: E402
import picows_client  # noqa: E402
from _common import Adapter  # noqa: E402

CLIENTS: dict[str, type[Adapter]] = {
    "reference": picows_client.PicowsAdapter,
    "derivkit": derivkit_client.DerivkitAdapter,
}


async def block(adapter: Adapter, url: str, callers: int, calls: int) -> tuple[float, float]:
    """Calls/s and client CPU µs per call of ``calls`` pings by ``callers`` tasks."""
    await adapter.connect(url)

    async def caller(count: int) -> None:
        for _ in range(count):
            await adapter.ping()

    try:
        await asyncio.gather(*(caller(50) for _ in range(callers)))
        started, cpu = time.perf_counter(), time.process_time()
        await asyncio.gather(*(caller(calls // callers) for _ in range(callers)))
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    finally:
        await adapter.close()
    done = calls // callers * callers
    return done / elapsed, cpu / done * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--callers", type=int, default=1)
    parser.add_argument("--n", type=int, default=10000, help="calls per block")
    parser.add_argument("--blocks", type=int, default=8, help="blocks per client")
    args = parser.parse_args()
    server = subprocess.Popen(
        [sys.executable, str(HERE / "bench_server.py")], stdout=subprocess.PIPE, text=True
    )
    assert server.stdout is not None
    url = f"ws://127.0.0.1:{server.stdout.readline().split()[1]}"
    load = os.getloadavg()
    runs: dict[str, list[tuple[float, float]]] = {name: [] for name in CLIENTS}
    try:
        for index in range(args.blocks):
            order = list(CLIENTS) if index % 2 == 0 else list(CLIENTS)[::-1]
            for name in order:
                result = asyncio.run(block(CLIENTS[name](), url, args.callers, args.n))
                runs[name].append(result)
    finally:
        server.terminate()
        server.wait(5)
    print(f"{args.callers} caller(s), {args.n} calls x {args.blocks} blocks each; load {load}")
    for name, results in runs.items():
        rates = ", ".join(f"{rate:,.0f}" for rate, _ in results)
        cpus = ", ".join(f"{cpu:.1f}" for _, cpu in results)
        print(f"{name}: calls/s {rates}; CPU µs/call {cpus}")
    pairs = list(zip(runs["derivkit"], runs["reference"], strict=True))
    rate = statistics.median(ours[0] / theirs[0] for ours, theirs in pairs)
    cpu = statistics.median(ours[1] / theirs[1] for ours, theirs in pairs)
    print(f"derivkit / reference, median of paired blocks: calls/s {rate:.2f}x, CPU {cpu:.2f}x")


if __name__ == "__main__":
    main()
