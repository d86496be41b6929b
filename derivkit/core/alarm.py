"""Alarms kept off the event loop: call back at a time without an asyncio timer pending.

Why: while any asyncio timer is pending, every loop iteration that waits for the socket has to
compute a select timeout, and the kernel arms a timer for every such wait. A client doing one
call after another waits once per call, so the per-call deadline and the keepalive, which almost
never fire, cost it about a microsecond a call (3-4 % of its CPU in ``bench_core.py``). An
:class:`Alarm` is a heap entry in one helper thread instead; the loop pays nothing until it
fires, and then gets a plain ``call_soon_threadsafe`` callback.

Concurrency: :func:`set_alarm` and :meth:`Alarm.cancel` are called from the event loop; the
callback always runs on the loop it was set for, never in the helper thread, and never after
``cancel()``. An alarm whose loop has closed is dropped. Precision: a few milliseconds (the
thread needs the GIL to hand the callback over).
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import os
import threading
import time
from collections.abc import Callable

__all__ = ["Alarm", "off_loop", "set_alarm", "sleep"]


class Alarm:
    """One pending callback; ``when`` is on the :func:`time.monotonic` clock."""

    __slots__ = ("callback", "cancelled", "loop", "when")

    def __init__(
        self, when: float, loop: asyncio.AbstractEventLoop, callback: Callable[[], None]
    ) -> None:
        self.when = when
        self.loop = loop
        self.callback = callback
        self.cancelled = False

    def cancel(self) -> None:
        """Never call back (the helper thread drops the entry when it comes to it; until then
        it holds no reference to the callback, so a closed client is not kept alive)."""
        self.cancelled = True
        self.callback = _nothing

    def _fire(self) -> None:  # on the loop
        if not self.cancelled:
            self.cancelled = True
            self.callback()


def _nothing() -> None:
    return None


class _AlarmThread:
    """The helper thread and its heap of alarms (one per process, started on first use)."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, Alarm]] = []
        self._order = itertools.count()
        self._wake = threading.Condition(threading.Lock())
        self._thread: threading.Thread | None = None
        self._compact_at = 256

    def add(self, alarm: Alarm) -> None:
        with self._wake:
            if len(self._heap) > self._compact_at:  # cancelled alarms wait for their time
                self._heap[:] = [entry for entry in self._heap if not entry[2].cancelled]
                heapq.heapify(self._heap)
                self._compact_at = 2 * len(self._heap) + 256
            heapq.heappush(self._heap, (alarm.when, next(self._order), alarm))
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="derivkit-alarms", daemon=True
                )
                self._thread.start()
            elif self._heap[0][2] is alarm:
                self._wake.notify()  # the earliest alarm changed

    def _run(self) -> None:
        heap = self._heap
        while True:
            due: list[Alarm] = []
            with self._wake:
                while heap and heap[0][2].cancelled:
                    heapq.heappop(heap)
                if not heap:
                    self._wake.wait()
                    continue
                delay = heap[0][0] - time.monotonic()
                if delay > 0:
                    self._wake.wait(delay)
                    continue
                while heap and heap[0][0] <= time.monotonic():
                    due.append(heapq.heappop(heap)[2])
            for alarm in due:
                if alarm.cancelled:
                    continue
                # RuntimeError: the loop is closed, nobody is left to call back.
                with contextlib.suppress(RuntimeError):
                    alarm.loop.call_soon_threadsafe(alarm._fire)


_thread = _AlarmThread()


def _after_fork() -> None:
    global _thread
    _thread = _AlarmThread()  # the child has no helper thread; it starts its own when needed


os.register_at_fork(after_in_child=_after_fork)


def off_loop(loop: asyncio.AbstractEventLoop) -> bool:
    """Whether alarms for ``loop`` are kept off it: its clock is ``time.monotonic`` (asyncio's
    own loops). Other loops (uvloop, test loops with a clock of their own) get their timers."""
    return type(loop).time is asyncio.BaseEventLoop.time


def set_alarm(when: float, callback: Callable[[], None]) -> Alarm | asyncio.TimerHandle:
    """Call ``callback()`` on the running loop at ``when`` (the loop's clock); both results
    have ``cancel()``."""
    loop = asyncio.get_running_loop()
    if not off_loop(loop):
        return loop.call_at(when, callback)
    alarm = Alarm(when, loop, callback)
    _thread.add(alarm)
    return alarm


async def sleep(delay: float) -> None:
    """``asyncio.sleep(delay)`` without an asyncio timer pending meanwhile (cancellable)."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[None] = loop.create_future()

    def wake() -> None:
        if not future.done():
            future.set_result(None)

    alarm = set_alarm(loop.time() + delay, wake)
    try:
        await future
    finally:
        alarm.cancel()
