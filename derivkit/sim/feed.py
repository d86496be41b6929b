"""Tick generation, tick history, candles and per-symbol fan-out.

One :class:`SymbolFeed` per symbol, created lazily by :class:`Market`. A feed's path is a pure
function of ``(seed, symbol, anchor)``: ticks after the anchor come from one forward RNG in order,
ticks before it (``PRE_TICKS`` of them) from a backward RNG, and candles older than the tick
history from a per-granularity RNG, so the same seed gives the same ticks at the same simulated
epochs however many clients listen.

Concurrency: everything here runs on the event loop thread. :meth:`SymbolFeed.advance` generates
all ticks due up to "now" and synchronously calls the listeners for each new tick, in epoch order.
Any code that reads a feed first calls ``advance`` (via :meth:`Market.feed`), so listeners never
miss a tick. While a feed has listeners it owns one pump task that wakes at each tick epoch; the
task ends by itself when the last listener goes, and :meth:`Market.close` cancels any that remain.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import random
from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Coroutine, Iterable, Iterator
from typing import Any

from derivkit.sim.clock import SimClock
from derivkit.sim.symbols import SYMBOLS, SymbolSpec

log = logging.getLogger("derivkit.sim")

#: Ticks generated backwards from the anchor, so ``ticks_history`` can return 5,000 at once.
PRE_TICKS = 5400
#: Log-spread of the seeded start level around the nominal one.
LEVEL_SPREAD = 0.05
#: Synthetic candles kept per granularity before the first tick-covered candle.
SYNTH_CANDLES = 10_000
#: The next epoch of a recorded feed that has handed out all its ticks.
NEVER = 2**62
GRANULARITIES = (60, 120, 180, 300, 600, 900, 1800, 3600, 7200, 14400, 28800, 86400)

Spawn = Callable[[Coroutine[Any, Any, None]], "asyncio.Task[None] | None"]


class Tick:
    """One published tick; ``core`` is its JSON body (without the stream id), built once."""

    __slots__ = ("_core", "epoch", "pip_size", "quote", "symbol")

    def __init__(self, symbol: str, epoch: int, quote: float, pip_size: int) -> None:
        self.symbol = symbol
        self.epoch = epoch
        self.quote = quote
        self.pip_size = pip_size
        self._core: str | None = None

    def half_spread(self) -> float:
        return max(10.0**-self.pip_size, round(abs(self.quote) * 5e-6, self.pip_size))

    def payload(self) -> dict[str, Any]:
        h = self.half_spread()
        return {
            "ask": round(self.quote + h, self.pip_size),
            "bid": round(self.quote - h, self.pip_size),
            "epoch": self.epoch,
            "pip_size": self.pip_size,
            "quote": self.quote,
            "symbol": self.symbol,
        }

    def core(self) -> str:
        """``{"ask":…,"symbol":"…","id":"`` — the subscriber appends its id and ``"}``."""
        if self._core is None:
            p = self.payload()
            self._core = (
                f'{{"ask":{p["ask"]!r},"bid":{p["bid"]!r},"epoch":{self.epoch},'
                f'"pip_size":{self.pip_size},"quote":{self.quote!r},"symbol":"{self.symbol}","id":"'
            )
        return self._core


TickListener = Callable[[Tick], None]


class SymbolFeed:
    """Ticks of one symbol: history arrays, forward generation, pause, listeners."""

    def __init__(
        self,
        spec: SymbolSpec,
        seed: str,
        anchor_epoch: int,
        clock: SimClock,
        spawn: Spawn,
        *,
        recorded: Iterable[tuple[int, float]] | None = None,
    ) -> None:
        """``recorded`` replaces the model's forward ticks with these ``(epoch, quote)`` pairs
        (in epoch order, after ``anchor_epoch``); the history before them is the model's, run
        backwards from the first recorded quote."""
        self.spec = spec
        self.symbol = spec.symbol
        self.interval = spec.interval
        self.model = spec.model
        self.clock = clock
        self._seed = seed
        self._spawn = spawn
        self._rng = random.Random(f"{seed}:{spec.symbol}:fwd")
        anchor = anchor_epoch - anchor_epoch % self.interval
        back = random.Random(f"{seed}:{spec.symbol}:back")
        # Each seed starts each index at its own level (within a few percent of the nominal one).
        level_rng = random.Random(f"{seed}:{spec.symbol}:level")
        self.start_level = round(
            spec.start_level * math.exp(LEVEL_SPREAD * level_rng.gauss(0.0, 1.0)), spec.pip_size
        )
        self._recorded: Iterator[tuple[int, float]] | None = None
        self._next_recorded: tuple[int, float] | None = None
        if recorded is not None:
            self._recorded = iter(recorded)
            self._next_recorded = next(self._recorded, None)
            if self._next_recorded is not None:
                self.start_level = self._next_recorded[1]
        prices = [self.start_level]
        s = self.start_level
        for _ in range(PRE_TICKS):
            s = self.model.step_back(s, back)
            prices.append(s)
        prices.reverse()
        nd = spec.pip_size
        first = anchor - PRE_TICKS * self.interval
        self.epochs = array("q", range(first, anchor + 1, self.interval))
        self.quotes = array("d", (round(p, nd) for p in prices))
        self._state = self.start_level
        self.next_epoch = anchor + self.interval
        if self._recorded is not None:
            self.next_epoch = self._next_recorded[0] if self._next_recorded else NEVER
        self.paused = False
        self._listeners: list[TickListener] = []
        self._task: asyncio.Task[None] | None = None
        self._synth: dict[int, tuple[random.Random, list[tuple[float, float, float, float]]]] = {}

    # -- generation -----------------------------------------------------------------------------
    def advance(self, now: float | None = None) -> None:
        """Generate every tick due by ``now`` and hand each to the listeners."""
        if now is None:
            now = self.clock.now()
        iv = self.interval
        if self.paused:
            if self.next_epoch <= now:
                self.next_epoch = (int(now) // iv + 1) * iv
            return
        nd = self.spec.pip_size
        if self._recorded is not None:
            self._replay(now)
            return
        while self.next_epoch <= now:
            e = self.next_epoch
            self.next_epoch = e + iv
            if self.spec.daily_reset and e % 86400 == 0:
                self._state = self.start_level
            else:
                self._state = self.model.step(self._state, self._rng)[0]
            q = round(self._state, nd)
            self.epochs.append(e)
            self.quotes.append(q)
            if self._listeners:
                self._notify(Tick(self.symbol, e, q, nd))

    def _replay(self, now: float) -> None:
        """Hand out the recorded ticks due by ``now``."""
        nd = self.spec.pip_size
        while self._next_recorded is not None and self._next_recorded[0] <= now:
            e, q = self._next_recorded
            self._next_recorded = next(self._recorded, None) if self._recorded else None
            self.next_epoch = self._next_recorded[0] if self._next_recorded else NEVER
            if self.epochs and e <= self.epochs[-1]:
                continue  # out of order or repeated: a feed's epochs only grow
            q = round(q, nd)
            self.epochs.append(e)
            self.quotes.append(q)
            if self._listeners:
                self._notify(Tick(self.symbol, e, q, nd))

    def _notify(self, tick: Tick) -> None:
        for cb in tuple(self._listeners):
            try:
                cb(tick)
            except Exception:  # a broken listener must not stop the feed
                log.exception("tick listener failed for %s", self.symbol)

    def pause(self, now: float | None = None) -> None:
        """No tick after ``now`` (default: the clock's now) until :meth:`resume`."""
        self.advance(now)
        self.paused = True

    def resume(self) -> None:
        self.advance()
        self.paused = False

    # -- listeners ------------------------------------------------------------------------------
    def add_listener(self, cb: TickListener) -> None:
        self._listeners.append(cb)
        if self._task is None or self._task.done():
            self._task = self._spawn(self._pump())

    def remove_listener(self, cb: TickListener) -> None:
        with contextlib.suppress(ValueError):
            self._listeners.remove(cb)

    @property
    def listener_count(self) -> int:
        return len(self._listeners)

    async def _pump(self) -> None:
        while self._listeners:
            await asyncio.sleep(self.clock.real_delay_until(self.next_epoch))
            self.advance()

    # -- reads ----------------------------------------------------------------------------------
    def latest(self) -> Tick:
        self.advance()
        return Tick(self.symbol, self.epochs[-1], self.quotes[-1], self.spec.pip_size)

    def ticks(self, start: int, end: int, count: int) -> tuple[list[int], list[float]]:
        """The last ``count`` ticks with ``start <= epoch <= end`` (the feed advanced to
        ``end`` at most: no tick after it is generated here, where no listener would see it
        before the caller attaches one)."""
        self.advance(min(float(end), self.clock.now()))
        hi = bisect_right(self.epochs, end)
        lo = max(bisect_left(self.epochs, start), hi - count)
        if lo >= hi:
            return [], []
        return list(self.epochs[lo:hi]), list(self.quotes[lo:hi])

    def first_at_or_after(self, epoch: int) -> tuple[int, float]:
        """The first tick at or after ``epoch`` (the oldest known one if none is older; the
        latest if none is newer)."""
        self.advance()
        i = min(bisect_left(self.epochs, epoch), len(self.epochs) - 1)
        return self.epochs[i], self.quotes[i]

    def recent(self, n: int) -> list[float]:
        """The last ``n`` quotes, oldest first."""
        self.advance()
        return list(self.quotes[-n:])

    def ticks_since(self, start: int) -> tuple[list[int], list[float]]:
        lo = bisect_left(self.epochs, start)
        return list(self.epochs[lo:]), list(self.quotes[lo:])

    def candles(self, granularity: int, start: int, end: int, count: int) -> list[dict[str, Any]]:
        """The last ``count`` candles opening in ``[start, end]`` (the last may be forming;
        the feed advanced to ``end`` at most, as :meth:`ticks`)."""
        self.advance(min(float(end), self.clock.now()))
        g = granularity
        end = min(end, self.epochs[-1])
        last = end - end % g
        first = max(start - start % g, last - (count - 1) * g)
        # Candles from the one holding the first tick onwards come from ticks; older ones are
        # synthetic, the newest synthetic candle closing at the first tick's quote.
        boundary = self.epochs[0] - self.epochs[0] % g
        nd = self.spec.pip_size
        out: list[dict[str, Any]] = []
        slot = first
        if slot < boundary:
            depth = (boundary - slot) // g
            synth = self._synthetic(g, min(depth, SYNTH_CANDLES))
            slot = max(slot, boundary - len(synth) * g)
            while slot < boundary and slot <= last:
                o, h, lo_, cl = synth[(boundary - slot) // g - 1]
                out.append({"epoch": slot, "open": o, "high": h, "low": lo_, "close": cl})
                slot += g
        while slot <= last:
            i = bisect_left(self.epochs, slot)
            j = bisect_right(self.epochs, min(slot + g - 1, end))
            if i < j:
                qs = self.quotes[i:j]
                out.append(
                    {
                        "epoch": slot,
                        "open": qs[0],
                        "high": max(qs),
                        "low": min(qs),
                        "close": qs[-1],
                    }
                )
            slot += g
        for candle in out:
            for k in ("open", "high", "low", "close"):
                candle[k] = round(candle[k], nd)
        return out

    def _synthetic(self, g: int, depth: int) -> list[tuple[float, float, float, float]]:
        """Candles before the tick history, newest first: a GBM-like step per candle (dt = g)."""
        entry = self._synth.get(g)
        if entry is None:
            entry = (random.Random(f"{self._seed}:{self.symbol}:candles:{g}"), [])
            self._synth[g] = entry
        rng, candles = entry
        close = self.quotes[0] if not candles else candles[-1][0]
        steps = g / self.interval
        while len(candles) < depth:
            # Driftless in log so that years of daily candles stay in a sensible price range.
            sd = self.model.tick_log_sd(close) * math.sqrt(steps)
            opened = close / math.exp(sd * rng.gauss(0.0, 1.0))
            high = max(opened, close) * math.exp(abs(rng.gauss(0.0, 1.0)) * sd * 0.5)
            low = min(opened, close) * math.exp(-abs(rng.gauss(0.0, 1.0)) * sd * 0.5)
            candles.append((opened, high, low, close))
            close = opened
        return candles


class Market:
    """All feeds of one simulator; creates them on first use and owns their pump tasks."""

    def __init__(
        self, seed: str, clock: SimClock, anchor_epoch: int, *, pumps: bool = True
    ) -> None:
        """``pumps=False``: no feed runs a pump task; whoever owns the clock calls
        :meth:`SymbolFeed.advance` (a backtest, which needs no event loop)."""
        self.seed = seed
        self.clock = clock
        self.anchor_epoch = anchor_epoch
        self._pumps = pumps
        self._feeds: dict[str, SymbolFeed] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> asyncio.Task[None] | None:
        if not self._pumps:
            coro.close()
            return None
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def has(self, symbol: str) -> bool:
        return symbol in SYMBOLS

    def replay(self, symbol: str, recorded: Iterable[tuple[int, float]]) -> SymbolFeed:
        """Make ``symbol``'s feed hand out ``recorded`` ticks instead of the model's."""
        feed = SymbolFeed(
            SYMBOLS[symbol],
            self.seed,
            self.anchor_epoch,
            self.clock,
            self._spawn,
            recorded=recorded,
        )
        self._feeds[symbol] = feed
        return feed

    def feed(self, symbol: str, now: float | None = None) -> SymbolFeed:
        """The feed of ``symbol``, advanced to ``now`` (default: the clock's now); raises
        ``KeyError`` for unknown symbols."""
        f = self._feeds.get(symbol)
        if f is None:
            f = SymbolFeed(SYMBOLS[symbol], self.seed, self.anchor_epoch, self.clock, self._spawn)
            self._feeds[symbol] = f
        f.advance(now)
        return f

    async def close(self) -> None:
        tasks = list(self._tasks)
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
