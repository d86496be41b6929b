"""Scenarios shared by the three benchmark clients (standard library only).

Each client module implements an :class:`Adapter` around one library and calls :func:`main`.
The scenarios are written once, here, so that every client does exactly the same work; only the
adapter's few methods differ. This module is loaded by both the main virtualenv (derivkit, bare
websockets 17) and ``benchmarks/.venv-pda`` (python-deriv-api, websockets 10.3), so it must not
import anything outside the standard library.

Every run prints one JSON line on stdout: ``{"client": ..., "scenario": ..., ...}``; on failure it
carries ``"error"`` (e.g. a timeout) instead of the measurement.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

SCENARIOS = ("seq", "conc", "ticks", "pending", "completed")


class Adapter:
    """The operations a scenario needs from a client library."""

    name = "?"

    async def connect(self, url: str, *, hold: bool = False) -> None:
        raise NotImplementedError

    async def close(self) -> None:
        raise NotImplementedError

    async def ping(self) -> None:
        """One ``ping`` round trip; raises if the reply is not a pong."""
        raise NotImplementedError

    async def held(self) -> int:
        """Pings the hold server has received on this connection (a ``time`` call)."""
        raise NotImplementedError

    async def stream(self, symbol: str, count: int) -> tuple[int, int]:
        """Subscribe to ``symbol`` (the server floods ``count`` ticks), consume until the last one
        (``epoch == count - 1``), unsubscribe. Returns (ticks consumed, ticks the library dropped).
        """
        raise NotImplementedError

    def pending_calls(self) -> int | None:
        """Calls the library itself tracks as awaiting a reply, if it tells."""
        return None

    def tracked_entries(self) -> int | None:
        """Per-call bookkeeping entries the library keeps (to explain memory growth)."""
        return None


def rss_kb() -> int:
    """Resident set size of this process (VmRSS from /proc/self/status), in kB."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS in /proc/self/status")


def settled_rss_kb() -> int:
    gc.collect()
    gc.collect()
    return rss_kb()


def _tick_epoch(message: dict[str, Any]) -> int:
    return int(message["tick"]["epoch"])


# ----------------------------------------------------------------------------- scenarios


async def run_seq(api: Adapter, n: int) -> dict[str, Any]:
    for _ in range(min(200, n)):  # warm-up
        await api.ping()
    started = time.perf_counter()
    cpu = time.process_time()
    for _ in range(n):
        await api.ping()
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu
    return {"calls": n, "seconds": elapsed, "rate": n / elapsed, "cpu_us_per_call": cpu / n * 1e6}


async def run_conc(api: Adapter, callers: int, per_caller: int) -> dict[str, Any]:
    async def caller() -> None:
        for _ in range(per_caller):
            await api.ping()

    # Warm-up: 200 calls, as for "seq", in rounds of up to 200 concurrent ones.
    width = min(200, callers)
    for _ in range(max(1, 200 // width)):
        await asyncio.gather(*(api.ping() for _ in range(width)))
    started = time.perf_counter()
    cpu = time.process_time()
    await asyncio.gather(*(caller() for _ in range(callers)))
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu
    total = callers * per_caller
    return {
        "callers": callers,
        "calls": total,
        "seconds": elapsed,
        "rate": total / elapsed,
        "cpu_us_per_call": cpu / total * 1e6,
        "pending_after": api.pending_calls(),
    }


async def run_ticks(api: Adapter, streams: int, per_stream: int) -> dict[str, Any]:
    await api.ping()  # warm-up
    started = time.perf_counter()
    cpu = time.process_time()
    results = await asyncio.gather(
        *(api.stream(f"SYM{index}", per_stream) for index in range(streams))
    )
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu
    consumed = sum(got for got, _ in results)
    dropped = sum(lost for _, lost in results)
    return {
        "streams": streams,
        "ticks_sent": streams * per_stream,
        "ticks": consumed,
        "dropped": dropped,
        "seconds": elapsed,
        "rate": consumed / elapsed,
        "cpu_us_per_tick": cpu / max(consumed, 1) * 1e6,
    }


async def run_pending(api: Adapter, counts: list[int]) -> dict[str, Any]:
    """RSS growth while ``count`` calls await replies that the hold server never sends.

    Every call is its own task (the way an application has that many calls in flight); the
    number includes the task, the library's bookkeeping and the sent frame.
    """
    out: dict[str, Any] = {}
    for _ in range(50):  # warm-up of the non-ping path
        await api.held()
    base_held = await api.held()
    tasks: list[asyncio.Task[None]] = []
    before = settled_rss_kb()
    for count in sorted(counts):
        while len(tasks) < count:
            tasks.append(asyncio.create_task(api.ping()))
        # wait until every call has reached the server (all frames are sent and held)
        while await api.held() - base_held < count:  # noqa: ASYNC110 (polls the server)
            await asyncio.sleep(0.005)
        after = settled_rss_kb()
        out[str(count)] = {
            "rss_growth_kb": after - before,
            "bytes_per_call": (after - before) * 1024 / count,
            "library_pending": api.pending_calls(),
        }
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return {"counts": out}


async def run_completed(api: Adapter, counts: list[int], concurrency: int) -> dict[str, Any]:
    """RSS kept after ``count`` completed calls (should be ~0 per call).

    Calls run ``concurrency`` at a time. A warm-up round of the largest count runs first so that
    allocator arenas, caches and the interpreter are in steady state; what a second round keeps
    is what the library keeps per call.
    """

    async def batch(total: int) -> None:
        done = 0
        while done < total:
            size = min(concurrency, total - done)
            await asyncio.gather(*(api.ping() for _ in range(size)))
            done += size

    await batch(max(counts))
    out: dict[str, Any] = {}
    for count in sorted(counts):
        before = settled_rss_kb()
        entries_before = api.tracked_entries()
        await batch(count)
        after = settled_rss_kb()
        entries_after = api.tracked_entries()
        out[str(count)] = {
            "rss_growth_kb": after - before,
            "bytes_per_call": (after - before) * 1024 / count,
            "library_pending": api.pending_calls(),
            "tracked_growth": (
                None if entries_after is None else entries_after - (entries_before or 0)
            ),
        }
    return {"counts": out}


# ----------------------------------------------------------------------------- CLI


def _ints(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part]


async def _run(adapter: Adapter, args: argparse.Namespace) -> dict[str, Any]:
    hold = args.scenario == "pending"
    await adapter.connect(args.hold_url if hold else args.url, hold=hold)
    try:
        scenario: Callable[[], Awaitable[dict[str, Any]]]
        if args.scenario == "seq":
            scenario = lambda: run_seq(adapter, args.n)  # noqa: E731
        elif args.scenario == "conc":
            scenario = lambda: run_conc(adapter, args.callers, args.n)  # noqa: E731
        elif args.scenario == "ticks":
            scenario = lambda: run_ticks(adapter, args.streams, args.n)  # noqa: E731
        elif args.scenario == "pending":
            scenario = lambda: run_pending(adapter, _ints(args.counts))  # noqa: E731
        else:
            scenario = lambda: run_completed(adapter, _ints(args.counts), args.callers)  # noqa: E731
        return await asyncio.wait_for(scenario(), args.timeout)
    finally:
        await asyncio.wait_for(adapter.close(), 10)


def main(adapter: Adapter, argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=f"{adapter.name} benchmark client")
    parser.add_argument("url", help="server URL of the main port (ws://127.0.0.1:PORT)")
    parser.add_argument("scenario", choices=SCENARIOS)
    parser.add_argument("--hold-url", default="", help="URL of the hold port (for 'pending')")
    parser.add_argument("--n", type=int, default=1000, help="calls, calls per caller or ticks")
    parser.add_argument("--callers", type=int, default=100, help="concurrent callers")
    parser.add_argument("--streams", type=int, default=1, help="subscriptions (ticks)")
    parser.add_argument("--counts", default="1000,10000", help="call counts (pending, completed)")
    parser.add_argument("--timeout", type=float, default=60.0, help="scenario timeout (s)")
    args = parser.parse_args(argv)
    result: dict[str, Any] = {"client": adapter.name, "scenario": args.scenario}
    started_rss = rss_kb()
    try:
        result.update(asyncio.run(_run(adapter, args)))
    except TimeoutError:
        result["error"] = f"timeout after {args.timeout:g}s"
    except Exception as exc:  # report, never hang the driver
        result["error"] = f"{type(exc).__name__}: {exc}"
    result["rss_start_kb"] = started_rss
    result["rss_end_kb"] = rss_kb()
    print(json.dumps(result), flush=True)
    sys.exit(0)
