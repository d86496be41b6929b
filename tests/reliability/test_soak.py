"""Soak: one DerivClient through the fault proxy for a while, memory sampled: no growth trend.

20 callers, 10 streams, subscribe/forget churn, and a random fault every 2 s. Every 5 s the
process's live Python objects (after a collection) and its resident memory are sampled; after a
warm-up quarter, the least-squares trend over the rest must not add more than 3 % to the object
count nor 8 MiB of memory over the run.

Length: ``DERIVKIT_SOAK_SECONDS`` (110 in CI; longer by hand); figures to
``DERIVKIT_RELIABILITY_REPORT``.
"""

from __future__ import annotations

import asyncio
import gc
import os
import random
from collections import Counter

import pytest

from derivkit.core import DerivClient, DerivError, RetryPolicy
from derivkit.sim import RateLimits, Simulator
from tests.faultproxy import FaultProxy
from tests.reliability.report import record, setting

SECONDS = setting("DERIVKIT_SOAK_SECONDS", 110)
SEED = setting("DERIVKIT_SOAK_SEED", 1)
SAMPLE_EVERY = 5.0
SYMBOLS = ["R_10", "R_25", "R_50", "R_75", "R_100", "1HZ10V", "1HZ25V", "1HZ50V", "1HZ75V"]


def rss_bytes() -> int:
    with open(f"/proc/{os.getpid()}/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def trend(samples: list[float], step: float) -> float:
    """Least-squares slope of ``samples`` taken every ``step`` seconds, per second."""
    n = len(samples)
    xs = [i * step for i in range(n)]
    mean_x, mean_y = sum(xs) / n, sum(samples) / n
    var = sum((x - mean_x) ** 2 for x in xs)
    return sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, samples, strict=True)) / var


@pytest.mark.timeout(SECONDS + 90)
async def test_soak_memory_has_no_growth_trend() -> None:
    loop = asyncio.get_running_loop()
    rng = random.Random(SEED)
    calls: Counter[str] = Counter()
    async with (
        Simulator(seed=SEED, speed=10, rate_limits=RateLimits.unlimited()) as sim,
        FaultProxy(sim.port, seed=SEED) as proxy,
    ):
        policy = RetryPolicy(reconnect_initial=0.05, reconnect_cap=0.3, pong_timeout=0.5)
        api = DerivClient(
            proxy.url, token=sim.token, request_timeout=3, keepalive_interval=0.5, retry=policy
        )
        await api.connect()
        stop = asyncio.Event()

        async def caller(index: int) -> None:
            own = random.Random(f"{SEED}:{index}")
            payloads = [{"ping": 1}, {"time": 1}, {"balance": 1}, {"portfolio": 1}]
            while not stop.is_set():
                try:
                    await api.request(own.choice(payloads), timeout=2)
                    calls["ok"] += 1
                except DerivError as exc:
                    calls[type(exc).__name__] += 1
                await asyncio.sleep(own.uniform(0.02, 0.1))

        async def reader(symbol: str) -> None:
            while not stop.is_set():
                try:
                    async with await api.ticks(symbol) as ticks:
                        async for _ in ticks:
                            calls["tick"] += 1
                            if stop.is_set() or rng.random() < 0.01:
                                break  # churn: forget the stream and subscribe again
                except DerivError:
                    await asyncio.sleep(0.1)

        async def faults() -> None:
            while not stop.is_set():
                await asyncio.sleep(2)
                proxy.random_fault()

        tasks = [asyncio.create_task(caller(i)) for i in range(20)]
        tasks += [asyncio.create_task(reader(s)) for s in SYMBOLS + ["1HZ100V"]]
        tasks.append(asyncio.create_task(faults()))
        objects: list[float] = []
        memory: list[float] = []
        started = loop.time()
        while loop.time() - started < SECONDS:
            await asyncio.sleep(SAMPLE_EVERY)
            gc.collect()
            objects.append(len(gc.get_objects()))
            memory.append(rss_bytes())
        stop.set()
        async with asyncio.timeout(10):
            await asyncio.gather(*tasks)
        await api.close()

    warm = len(objects) // 4
    span = (len(objects) - warm - 1) * SAMPLE_EVERY
    object_growth = trend(objects[warm:], SAMPLE_EVERY) * span
    memory_growth = trend(memory[warm:], SAMPLE_EVERY) * span
    mean_objects = sum(objects[warm:]) / len(objects[warm:])
    record(
        "soak",
        {
            "seed": SEED,
            "seconds": SECONDS,
            "samples": len(objects),
            "calls": sum(v for k, v in calls.items() if k != "tick"),
            "ticks": calls["tick"],
            "outcomes": {k: v for k, v in calls.items() if k != "tick"},
            "faults": sum(proxy.faults.values()),
            "reconnects": api.reconnects,
            "objects_first_last": [objects[warm], objects[-1]],
            "object_trend_over_run": round(object_growth),
            "rss_mib_first_last": [round(memory[warm] / 2**20, 1), round(memory[-1] / 2**20, 1)],
            "rss_trend_over_run_mib": round(memory_growth / 2**20, 2),
        },
    )
    assert len(objects) >= 8
    assert object_growth < 0.03 * mean_objects
    assert memory_growth < 8 * 2**20
    assert api.reconnects >= 1 and calls["ok"] > 1000
