"""The coalescer: identical work in flight is done once; nothing is cached after it lands."""

from __future__ import annotations

import asyncio

import pytest

from derivkit.coalesce import Coalescer


async def test_concurrent_callers_share_one_call():
    coalescer = Coalescer()
    release = asyncio.Event()
    calls = 0

    async def fetch() -> int:
        nonlocal calls
        calls += 1
        await release.wait()
        return 42

    waiters = [asyncio.create_task(coalescer.run("k", fetch)) for _ in range(100)]
    await asyncio.sleep(0)
    assert len(coalescer) == 1
    release.set()
    assert await asyncio.gather(*waiters) == [42] * 100
    assert calls == 1 and coalescer.started == 1 and coalescer.joined == 99
    assert len(coalescer) == 0
    assert await coalescer.run("k", fetch) == 42  # landed: the next caller starts anew
    assert calls == 2


async def test_different_keys_do_not_share():
    coalescer = Coalescer()

    async def fetch(value: int) -> int:
        await asyncio.sleep(0)
        return value

    results = await asyncio.gather(
        *(coalescer.run(n % 3, lambda n=n: fetch(n % 3)) for n in range(9))
    )
    assert results == [n % 3 for n in range(9)]
    assert coalescer.started == 3


async def test_a_failure_reaches_every_waiter_and_is_not_kept():
    coalescer = Coalescer()
    release = asyncio.Event()

    async def fail() -> int:
        await release.wait()
        raise ValueError("boom")

    waiters = [asyncio.create_task(coalescer.run("k", fail)) for _ in range(3)]
    await asyncio.sleep(0)
    release.set()
    results = await asyncio.gather(*waiters, return_exceptions=True)
    assert all(isinstance(result, ValueError) for result in results)

    async def succeed() -> int:
        return 1

    assert await coalescer.run("k", succeed) == 1


async def test_a_cancelled_waiter_leaves_the_call_to_the_others():
    coalescer = Coalescer()
    release = asyncio.Event()
    cancelled = False

    async def fetch() -> str:
        nonlocal cancelled
        try:
            await release.wait()
        except asyncio.CancelledError:
            cancelled = True
            raise
        return "done"

    first = asyncio.create_task(coalescer.run("k", fetch))
    second = asyncio.create_task(coalescer.run("k", fetch))
    await asyncio.sleep(0)
    first.cancel()
    with pytest.raises(asyncio.CancelledError):
        await first
    release.set()
    assert await second == "done"
    assert not cancelled


async def test_the_call_is_cancelled_when_nobody_waits_any_more():
    coalescer = Coalescer()
    started = asyncio.Event()
    cancelled = asyncio.Event()

    async def fetch() -> str:
        started.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise
        return "never"

    waiter = asyncio.create_task(coalescer.run("k", fetch))
    await started.wait()
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    async with asyncio.timeout(1):
        await cancelled.wait()
    assert len(coalescer) == 0
