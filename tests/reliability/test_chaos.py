"""Chaos: 100 callers, 50 streams and a buyer on one DerivClient, through a proxy doing random
faults (cuts by RST and FIN, cuts inside a frame, stalls, delays, refused connections).

Asserted: every call resolves or raises within its timeout + 1 s; no buy executes twice (counted
by the simulator); a buy whose reply was lost raised ``OutcomeUnknown``; every stream resumes
within 2 s of each reconnect; no reader sees a tick or candle update twice; after ``close()`` no
task, pending call, stream or socket is left.

Size: ``DERIVKIT_CHAOS_FAULTS`` (200), seed ``DERIVKIT_CHAOS_SEED`` (1); figures go to
``DERIVKIT_RELIABILITY_REPORT`` (see RELIABILITY.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections import Counter
from typing import Any

import pytest

from derivkit.core import DerivClient, DerivError, OutcomeUnknown, RetryPolicy, Subscription
from derivkit.core.picows_transport import PicowsTransport
from derivkit.core.transport import WebsocketsTransport
from derivkit.sim import RateLimits, Simulator
from derivkit.sim.handlers import HANDLERS
from derivkit.sim.symbols import SYMBOLS
from tests.faultproxy import DISRUPTIVE, FaultProxy
from tests.reliability.report import percentile, record, setting, until

SEED = setting("DERIVKIT_CHAOS_SEED", 1)
FAULTS = setting("DERIVKIT_CHAOS_FAULTS", 200)
CALLERS = 100
RESUME_LIMIT = 2.0

POLICY = RetryPolicy(reconnect_initial=0.02, reconnect_cap=0.2, pong_timeout=0.4)
CALLS: list[dict[str, Any]] = [
    {"ping": 1},
    {"time": 1},
    {"balance": 1},
    {"portfolio": 1},
    {"ticks_history": "R_50", "end": "latest", "count": 10},
    {"website_status": 1},
]
BUY = {
    "buy": "1",
    "price": 10,
    "parameters": {
        "contract_type": "CALL",
        "symbol": "1HZ100V",
        "duration": 5,
        "duration_unit": "t",
        "amount": 1,
        "basis": "stake",
        "currency": "USD",
    },
}


def stream_requests() -> list[dict[str, Any]]:
    """50 distinct upstream streams: ticks of every symbol, then candles."""
    symbols = list(SYMBOLS)
    candles = [(s, 60) for s in symbols] + [(s, 120) for s in symbols]
    requests: list[dict[str, Any]] = [{"ticks": s} for s in symbols]
    for symbol, granularity in candles[: 50 - len(requests)]:
        requests.append(
            {
                "ticks_history": symbol,
                "end": "latest",
                "count": 5,
                "style": "candles",
                "granularity": granularity,
            }
        )
    return requests


class Reader:
    """One stream's consumer: arrival times, and repeats it was given."""

    def __init__(self, subscription: Subscription[Any], arrived: asyncio.Event) -> None:
        self.subscription = subscription
        self.arrived = arrived
        self.arrivals: list[float] = []
        self.duplicates = 0
        self._seen: set[tuple[Any, ...]] = set()
        self._open_time: float = -1

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        async for message in self.subscription:
            self.arrivals.append(loop.time())
            self.arrived.set()
            self._check(message)

    def _check(self, message: dict[str, Any]) -> None:
        kind = message.get("msg_type")
        if kind == "tick":
            key: tuple[Any, ...] = ("tick", message["tick"]["symbol"], message["tick"]["epoch"])
        elif kind == "ohlc":
            body = message["ohlc"]
            key = ("ohlc", body["symbol"], body["granularity"], body["epoch"])
            self._open_time = max(self._open_time, body["open_time"])
        elif kind == "candles":
            self.duplicates += sum(c["epoch"] < self._open_time for c in message["candles"])
            self._open_time = max([self._open_time] + [c["epoch"] for c in message["candles"]])
            return
        else:
            return
        if key in self._seen:
            self.duplicates += 1
        self._seen.add(key)


#: Each transport gets half the faults: both are covered in the time one run used to take.
TRANSPORTS = {"websockets": WebsocketsTransport, "picows": PicowsTransport}
PER_TRANSPORT = max(10, FAULTS // len(TRANSPORTS))


@pytest.mark.timeout(max(120, 2 * PER_TRANSPORT))
@pytest.mark.parametrize("transport_name", list(TRANSPORTS))
async def test_chaos_through_a_faulty_proxy(transport_name: str) -> None:
    loop = asyncio.get_running_loop()
    rng = random.Random(f"{SEED}:driver")
    executed: Counter[int] = Counter()
    original_buy, needs_auth = HANDLERS["buy"]

    def counting_buy(session: Any, request: Any) -> Any:
        body = original_buy(session, request)
        executed[(request.passthrough or {}).get("n")] += 1
        return body

    states: list[tuple[str, float]] = []
    changed = asyncio.Event()

    def on_state(state: str) -> None:
        states.append((state, loop.time()))
        changed.set()

    async with (
        Simulator(seed=SEED, speed=20, rate_limits=RateLimits.unlimited()) as sim,
        FaultProxy(sim.port, seed=SEED) as proxy,
    ):
        sim.handlers = {**HANDLERS, "buy": (counting_buy, needs_auth)}
        api = DerivClient(
            proxy.url,
            token=sim.token,
            request_timeout=3.0,
            keepalive_interval=0.3,
            retry=POLICY,
            on_state_change=on_state,
            transport=TRANSPORTS[transport_name],
        )
        await api.connect()
        subscriptions = [await api.subscribe(request) for request in stream_requests()]
        arrived = asyncio.Event()
        readers = [Reader(subscription, arrived) for subscription in subscriptions]
        reading = [asyncio.create_task(reader.run()) for reader in readers]
        stop = asyncio.Event()
        calls: Counter[str] = Counter()
        hung: list[tuple[str, float, float]] = []
        crashes: list[BaseException] = []
        buys: dict[int, str] = {}

        async def timed(name: str, payload: dict[str, Any], timeout: float) -> str:
            started = loop.time()
            try:
                await api.request(payload, timeout=timeout)
                outcome = "ok"
            except DerivError as exc:
                outcome = type(exc).__name__
            except BaseException as exc:  # anything else is a crash
                crashes.append(exc)
                outcome = "crash"
            elapsed = loop.time() - started
            if elapsed > timeout + 1.0:
                hung.append((name, timeout, elapsed))
            calls[outcome] += 1
            return outcome

        async def caller(index: int) -> None:
            own = random.Random(f"{SEED}:caller:{index}")
            while not stop.is_set():
                payload = own.choice(CALLS)
                await timed(next(iter(payload)), payload, own.uniform(1.0, 3.0))
                await asyncio.sleep(own.uniform(0.05, 0.3))

        async def buyer() -> None:
            for n in range(1, 10**6):
                if stop.is_set():
                    return
                buys[n] = await timed("buy", {**BUY, "passthrough": {"n": n}}, 3.0)
                await asyncio.sleep(0.05)

        workers = [asyncio.create_task(caller(i)) for i in range(CALLERS)]
        workers.append(asyncio.create_task(buyer()))

        resumes: list[float] = []
        not_resumed = 0
        started = loop.time()
        for _ in range(PER_TRANSPORT):
            at = loop.time()
            kind = proxy.random_fault()
            if kind not in DISRUPTIVE:
                await asyncio.sleep(rng.uniform(0.05, 0.2))
                continue
            connected_at = await reconnected_after(states, changed, at, timeout=15)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout_at(connected_at + RESUME_LIMIT + 1.0):
                    while not all(r.arrivals and r.arrivals[-1] > connected_at for r in readers):
                        arrived.clear()
                        await arrived.wait()
            if interrupted(states, connected_at):
                continue  # another drop came before the streams could resume
            for reader in readers:
                first = next((t for t in reader.arrivals if t > connected_at), None)
                if first is None:
                    not_resumed += 1
                else:
                    resumes.append(first - connected_at)
        duration = loop.time() - started

        stop.set()
        async with asyncio.timeout(10):
            await asyncio.gather(*workers)
        await api.close()
        async with asyncio.timeout(5):
            await asyncio.gather(*reading)
        leftovers = [
            task
            for task in asyncio.all_tasks()
            if task.get_name().startswith("derivkit")
            or "derivkit/core" in task.get_coro().cr_code.co_filename
        ]
        await until(lambda: not proxy.links and not sim.connections, timeout=5)

    duplicates = sum(reader.duplicates for reader in readers)
    double_buys = sum(count > 1 for count in executed.values())
    lost = [n for n in executed if buys.get(n) != "ok"]
    hidden = [n for n in lost if buys.get(n) != "OutcomeUnknown"]
    figures = {
        "seed": SEED,
        "faults": sum(proxy.faults.values()),
        "faults_by_kind": dict(proxy.faults),
        "seconds": round(duration, 1),
        "calls": sum(calls.values()),
        "outcomes": dict(calls),
        "hung_calls": len(hung),
        "crashes": len(crashes),
        "buys_sent": len(buys),
        "buys_executed": sum(executed.values()),
        "double_buys": double_buys,
        "lost_buy_replies": len(lost),
        "lost_not_outcome_unknown": len(hidden),
        "reconnects": api.reconnects,
        "resumes_measured": len(resumes),
        "resume_p50_s": round(percentile(resumes, 0.5), 3),
        "resume_p99_s": round(percentile(resumes, 0.99), 3),
        "resume_max_s": round(max(resumes, default=float("nan")), 3),
        "not_resumed": not_resumed,
        "duplicate_ticks": duplicates,
        "duplicates_left_out_by_core": sum(s.duplicates for s in subscriptions),
    }
    record(f"chaos ({transport_name})", figures)
    assert figures["faults"] >= PER_TRANSPORT
    assert hung == [] and crashes == []
    assert double_buys == 0
    assert all(executed[n] == 1 for n, outcome in buys.items() if outcome == "ok")
    assert hidden == [], [(n, buys.get(n)) for n in hidden]
    assert not_resumed == 0 and max(resumes) <= RESUME_LIMIT
    assert duplicates == 0
    assert api.reconnects >= PER_TRANSPORT // 4
    assert leftovers == []
    assert api.pending_calls == 0 and api._mux.streams == []
    assert all(subscription._consumer.ended for subscription in subscriptions)


async def reconnected_after(
    states: list[tuple[str, float]], changed: asyncio.Event, since: float, timeout: float
) -> float:
    """When the client was connected again after dropping at or after ``since``."""
    async with asyncio.timeout(timeout):
        while True:
            dropped = False
            for state, at in states:
                if at < since:
                    continue
                if state == "reconnecting":
                    dropped = True
                elif state == "connected" and dropped:
                    return at
            changed.clear()
            await changed.wait()


def interrupted(states: list[tuple[str, float]], connected_at: float) -> bool:
    return any(
        state == "reconnecting" and connected_at < at <= connected_at + RESUME_LIMIT
        for state, at in states
    )


def test_stream_requests_are_fifty_distinct_streams() -> None:
    requests = stream_requests()
    assert len(requests) == 50
    assert len({tuple(sorted(r.items())) for r in requests}) == 50
    assert isinstance(OutcomeUnknown("x"), DerivError)
