"""Load benchmark for the simulator (run by hand, not in tests).

Starts ``derivkit sim serve`` in a subprocess, connects N websocket clients (default 500), each
subscribed to 2 one-second tick streams, and measures the server process's CPU time over a window
(default 30 s) from /proc/<pid>/stat. Target: <= 50 % of one core at speed 1.

    .venv/bin/python benchmarks/sim_load.py [--clients 500] [--seconds 30] [--no-deflate]
                                            [--speed 1]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time

from websockets.asyncio.client import ClientConnection, connect

SYMBOLS = ["1HZ10V", "1HZ25V", "1HZ50V", "1HZ75V", "1HZ100V"]


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    utime, stime = int(fields[11]), int(fields[12])
    return (utime + stime) / os.sysconf("SC_CLK_TCK")


async def client(url: str, i: int, deflate: bool, counts: list[int]) -> None:
    compression = "deflate" if deflate else None
    async with connect(url, compression=compression, max_queue=None) as ws:
        await subscribe(ws, i)
        async for _ in ws:
            counts[i] += 1


async def subscribe(ws: ClientConnection, i: int) -> None:
    pair = [SYMBOLS[i % 5], SYMBOLS[(i + 1) % 5]]
    await ws.send(json.dumps({"ticks": pair, "subscribe": 1, "req_id": 1}))


async def measure(url: str, pid: int, n: int, seconds: float, deflate: bool) -> dict[str, object]:
    counts = [0] * n
    tasks = []
    for start in range(0, n, 50):
        for i in range(start, min(start + 50, n)):
            tasks.append(asyncio.create_task(client(url, i, deflate, counts)))
        await asyncio.sleep(0.05)
    await asyncio.sleep(3)  # let every subscription settle
    receiving = sum(1 for c in counts if c > 0)
    cpu0, wall0, msgs0 = cpu_seconds(pid), time.monotonic(), sum(counts)
    await asyncio.sleep(seconds)
    cpu1, wall1, msgs1 = cpu_seconds(pid), time.monotonic(), sum(counts)
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    wall = wall1 - wall0
    return {
        "clients": n,
        "clients_receiving": receiving,
        "streams": 2 * n,
        "deflate": deflate,
        "window_s": round(wall, 1),
        "server_cpu_s": round(cpu1 - cpu0, 2),
        "server_cpu_pct_of_one_core": round(100 * (cpu1 - cpu0) / wall, 1),
        "messages_per_s": round((msgs1 - msgs0) / wall),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--clients", type=int, default=500)
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--deflate", action=argparse.BooleanOptionalAction, default=True)
    ap.add_argument("--speed", type=float, default=1.0, help="server --speed (1 = the target)")
    args = ap.parse_args()

    cmd = [sys.executable, "-c", "from derivkit.cli import main; main()"]
    cmd += ["sim", "serve", "--port", "0", "--seed", "1", "--idle-timeout", "100000"]
    cmd += ["--speed", str(args.speed)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        url = ""
        while not url:
            line = proc.stdout.readline()
            if not line:
                raise SystemExit("server exited")
            if line.startswith("Listening on "):
                url = line.split()[-1]
        result = asyncio.run(measure(url, proc.pid, args.clients, args.seconds, args.deflate))
        result["speed"] = args.speed
        result["expected_messages_per_s"] = round(2 * args.clients * args.speed)
    finally:
        proc.terminate()
        proc.wait(10)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
