"""Alarms kept off the event loop (derivkit.core.alarm) and the client's use of them: deadlines
and the keepalive still fire, and a connected client keeps no asyncio timer pending."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from derivkit.core import DerivClient, MockTransport, RequestTimeout
from derivkit.core.alarm import set_alarm, sleep


async def test_an_alarm_calls_back_on_its_loop_at_its_time() -> None:
    loop = asyncio.get_running_loop()
    fired = loop.create_future()
    started = time.monotonic()
    set_alarm(started + 0.05, lambda: fired.set_result((time.monotonic(), threading.get_ident())))
    at, thread = await asyncio.wait_for(fired, 5)
    assert at - started >= 0.05
    assert thread == threading.get_ident()  # the loop's thread, not the helper's


async def test_a_cancelled_alarm_never_calls_back_and_later_ones_still_do() -> None:
    loop = asyncio.get_running_loop()
    calls: list[str] = []
    done = loop.create_future()
    now = time.monotonic()
    early = set_alarm(now + 0.02, lambda: calls.append("cancelled"))
    set_alarm(now + 0.06, lambda: done.set_result(calls.append("kept")))
    early.cancel()
    await asyncio.wait_for(done, 5)
    assert calls == ["kept"]


async def test_an_earlier_alarm_set_later_wakes_the_helper_first() -> None:
    loop = asyncio.get_running_loop()
    order: list[str] = []
    both = asyncio.Event()
    now = time.monotonic()

    def note(name: str) -> None:
        order.append(name)
        if len(order) == 2:
            both.set()

    set_alarm(now + 0.3, lambda: note("late"))
    set_alarm(now + 0.02, lambda: note("early"))  # the helper is already waiting for "late"
    await asyncio.wait_for(both.wait(), 5)
    assert order == ["early", "late"]
    assert loop.is_running()


def test_an_alarm_whose_loop_closed_is_dropped() -> None:
    fired: list[int] = []

    async def arm() -> None:
        set_alarm(time.monotonic() + 0.02, lambda: fired.append(1))

    asyncio.run(arm())  # the loop closes before the alarm is due

    async def later() -> None:  # the helper thread survives and serves a new loop
        done = asyncio.get_running_loop().create_future()
        set_alarm(time.monotonic() + 0.05, lambda: done.set_result(None))
        await asyncio.wait_for(done, 5)

    asyncio.run(later())
    assert fired == []


async def test_sleep_is_cancellable() -> None:
    task = asyncio.create_task(sleep(30))
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    started = time.monotonic()
    await sleep(0.03)
    assert time.monotonic() - started >= 0.03


async def test_a_connected_client_keeps_no_asyncio_timer_pending_and_deadlines_fire() -> None:
    mock = MockTransport(lambda request: [] if "statement" in request else None)
    async with DerivClient(transport=mock, keepalive_interval=30, respect_rate_limits=False) as api:
        await api.request({"ping": 1})
        call = asyncio.create_task(api.request({"statement": 1}, timeout=0.2))
        await asyncio.sleep(0.05)  # the call is sent and pending; the keepalive sleeps
        loop = asyncio.get_running_loop()
        pending = [timer for timer in loop._scheduled if not timer.cancelled()]  # type: ignore[attr-defined]
        assert pending == []
        with pytest.raises(RequestTimeout, match="no reply"):
            await asyncio.wait_for(call, 5)
