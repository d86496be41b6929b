"""forget/forget_all, idle timeout, fault hooks, determinism, lifecycle."""

from __future__ import annotations

import asyncio
import json

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from derivkit.sim import RateLimits, Simulator

from .conftest import Client


async def test_forget_and_forget_all(client: Client) -> None:
    t = await client.ok({"ticks": "1HZ10V", "subscribe": 1})
    sid = t["subscription"]["id"]
    await client.stream(sid)
    assert (await client.ok({"forget": sid}))["forget"] == 1
    assert (await client.ok({"forget": sid}))["forget"] == 0
    client.backlog.clear()
    await client.ok({"ping": 1})
    await asyncio.sleep(0.1)  # several tick intervals at speed 50 — none may arrive now
    await client.ok({"ping": 1})
    assert not [m for m in client.backlog if m.get("subscription", {}).get("id") == sid]
    # The stream can be reopened after forget.
    a = await client.ok({"ticks": "1HZ10V", "subscribe": 1})
    b = await client.ok(
        {"ticks_history": "R_10", "end": "latest", "style": "candles", "subscribe": 1}
    )
    c = await client.ok({"ticks_history": "R_25", "end": "latest", "count": 1, "subscribe": 1})
    m = await client.ok({"forget_all": ["ticks"]})
    assert sorted(m["forget_all"]) == sorted([a["subscription"]["id"], c["subscription"]["id"]])
    m = await client.ok({"forget_all": "candles"})
    assert m["forget_all"] == [b["subscription"]["id"]]
    assert (await client.ok({"forget_all": "proposal"}))["forget_all"] == []
    bad = await client.call({"forget_all": "nonsense"})
    assert bad["error"]["code"] == "InputValidationFailed"


async def test_idle_connection_is_closed() -> None:
    async with Simulator(speed=100, idle_timeout=0.3) as sim, connect(sim.url) as ws:
        c = Client(ws)
        await c.ok({"ticks": "1HZ10V", "subscribe": 1})  # responses do not keep it alive
        with pytest.raises(ConnectionClosed):
            async with asyncio.timeout(3):
                while True:
                    await ws.recv()
        assert ws.close_code == 1000
    async with Simulator(speed=100, idle_timeout=0.6) as sim, connect(sim.url) as ws:
        c = Client(ws)
        for _ in range(8):  # requests keep it alive past the 0.6 s timeout
            await asyncio.sleep(0.1)
            await c.ok({"ping": 1})


async def test_the_idle_timeout_is_wall_clock_so_a_keepalive_holds_at_any_speed() -> None:
    """At speed 50, 1.5 s of wall time is 75 simulated seconds: still one connection."""
    from derivkit.core import DerivClient

    async with (
        Simulator(speed=50, idle_timeout=1.0) as sim,
        DerivClient(sim.url, keepalive_interval=0.25) as client,
        await client.ticks("1HZ10V") as ticks,  # a tick per 20 ms of wall time
    ):
        received = 0
        async with asyncio.timeout(10):
            async for _ in ticks:
                received += 1
                if received == 75:
                    break
        assert client.reconnects == 0 and ticks.gaps == 0
        assert sim.connections_accepted == 1


async def test_fault_drop_connections_and_reconnect(sim: Simulator) -> None:
    assert sim.connections_accepted == 0
    async with connect(sim.url) as ws1, connect(sim.url) as ws2:
        await Client(ws1).ok({"ping": 1})
        await Client(ws2).ok({"ping": 1})
        assert sim.connections_accepted == 2 and sim.connections == 2
        assert sim.faults.drop_connections() == 2
        for ws in (ws1, ws2):
            with pytest.raises(ConnectionClosed):
                async with asyncio.timeout(3):
                    await ws.recv()
    async with connect(sim.url) as ws3:
        await Client(ws3).ok({"ping": 1})
    assert sim.connections_accepted == 3


async def test_fault_delay_and_mute(sim: Simulator, client: Client) -> None:
    loop = asyncio.get_running_loop()
    sim.faults.delay = 0.3
    t0 = loop.time()
    await client.ok({"ping": 1})
    assert loop.time() - t0 >= 0.29
    sim.faults.delay = 0
    sim.faults.mute = True
    await client.send({"ping": 1, "req_id": 999})
    with pytest.raises(TimeoutError):
        await client.next(lambda m: m.get("req_id") == 999, timeout=0.3)
    sim.faults.mute = False
    await client.ok({"ping": 1})


async def test_a_symbol_paused_before_the_start_has_no_tick_after_it() -> None:
    start = 1_800_000_000
    sim = Simulator(seed=3, speed=1000, start_epoch=start, rate_limits=RateLimits.unlimited())
    sim.faults.pause_symbol("1HZ10V")
    with pytest.raises(KeyError):
        sim.faults.pause_symbol("NOPE")
    async with sim:
        # The clock is real time x 1000: 20 ticks' time is 20 ms (feeds advance when read).
        await asyncio.sleep(sim.clock.real_delay_until(start + 20))
        assert sim.market.feed("1HZ10V").latest().epoch == start  # the anchor tick only
        assert sim.market.feed("1HZ25V").latest().epoch >= start + 20  # the others run
        sim.faults.resume_symbol("1HZ10V")
        resumed = sim.clock.now()
        await asyncio.sleep(sim.clock.real_delay_until(resumed + 5))
        assert sim.market.feed("1HZ10V").latest().epoch >= resumed + 4


async def test_fault_pause_symbol(sim: Simulator, client: Client) -> None:
    t = await client.ok({"ticks": "1HZ100V", "subscribe": 1})
    sid = t["subscription"]["id"]
    await client.stream(sid)
    sim.faults.pause_symbol("1HZ100V")
    await client.ok({"ping": 1})  # FIFO: every tick sent before the pause has now arrived
    client.backlog.clear()
    with pytest.raises(TimeoutError):
        await client.stream(sid, timeout=0.3)
    paused = (await client.ok({"active_symbols": "brief"}))["active_symbols"]
    assert next(s for s in paused if s["symbol"] == "1HZ100V")["is_trading_suspended"] == 1
    sim.faults.resume_symbol("1HZ100V")
    resumed = await client.stream(sid)
    assert resumed["tick"]["epoch"] > t["tick"]["epoch"]


async def test_determinism_same_seed_same_ticks() -> None:
    start = 1_750_000_000
    req = {"ticks_history": "R_100", "end": str(start + 40), "count": 5000, "req_id": 10**6}

    async def history(speed: float, listeners: int) -> tuple[list[int], list[float]]:
        async with Simulator(seed=99, speed=speed, start_epoch=start) as sim:
            # max_queue=None: these clients never read their ticks, which must not stall close().
            conns = [await connect(sim.url, max_queue=None).__aenter__() for _ in range(listeners)]
            try:
                for ws in conns:
                    await Client(ws).ok({"ticks": "R_100", "subscribe": 1})
                await asyncio.sleep(sim.clock.real_delay_until(start + 40) + 0.01)
                async with connect(sim.url) as ws:
                    h = await Client(ws).ok(req)
                return h["history"]["times"], h["history"]["prices"]
            finally:
                for ws in conns:
                    await ws.close()

    a = await history(200, 0)
    b = await history(50, 3)
    assert a == b
    assert a[0][-1] == start + 40 and all(t % 2 == 0 for t in a[0])
    async with Simulator(seed=100, speed=200, start_epoch=start) as other, connect(other.url) as ws:
        h = await Client(ws).ok({"ticks_history": "R_100", "end": str(start), "count": 100})
        assert h["history"]["prices"] != a[1][-121:-21]


async def test_stop_leaves_no_tasks_and_closes_clients() -> None:
    before = asyncio.all_tasks()
    sim = Simulator(speed=50, rate_limits=RateLimits.unlimited())
    await sim.start()
    ws = await connect(sim.url)
    c = Client(ws)
    await c.authorize(sim.token)
    await c.ok({"ticks": ["R_100", "1HZ10V"], "subscribe": 1})
    await c.ok(
        {
            "buy": "1",
            "price": 10,
            "parameters": {
                "contract_type": "CALL",
                "symbol": "R_75",
                "duration": 5,
                "duration_unit": "m",
                "amount": 10,
                "basis": "stake",
                "currency": "USD",
            },
        }
    )
    await sim.stop()
    with pytest.raises(ConnectionClosed):
        async with asyncio.timeout(3):
            while True:
                await ws.recv()
    await asyncio.sleep(0)
    leftover = [t for t in asyncio.all_tasks() - before if not t.done()]
    assert leftover == [] or all("connect" in repr(t) for t in leftover), leftover


async def test_huge_and_odd_requests_do_not_disturb_others(sim: Simulator) -> None:
    async with connect(sim.url) as bad, connect(sim.url) as good:
        g = Client(good)
        t = await g.ok({"ticks": "1HZ10V", "subscribe": 1})
        for raw in [
            "1" * 5000,
            "[" * 100_000,
            '{"ping": 1e999}',
            '{"ping": NaN}',
            json.dumps(
                {"ticks_history": "R_100", "end": 10**30, "start": -(10**30), "count": 10**9}
            ),
            json.dumps({"statement": 1, "limit": 1e300}),
            "\x00\xff",
        ]:
            await bad.send(raw)
        await bad.send(b"\xff\xfe\x00")
        await Client(bad).ok({"ping": 1})
        await g.stream(t["subscription"]["id"])


async def test_speed_scales_tick_spacing(client: Client) -> None:
    loop = asyncio.get_running_loop()
    t = await client.ok({"ticks": "R_100", "subscribe": 1})  # 2 s ticks at speed 50: 40 ms
    sid = t["subscription"]["id"]
    first = await client.stream(sid)
    t0 = loop.time()
    for _ in range(10):
        last = await client.stream(sid)
    elapsed = loop.time() - t0
    assert last["tick"]["epoch"] == first["tick"]["epoch"] + 20
    assert 0.3 < elapsed < 2.0, elapsed


@pytest.mark.parametrize(
    "request_",
    [
        {"ticks": "R_50", "subscribe": 1},
        {"ticks": ["R_50"], "subscribe": 1},
        {"ticks_history": "R_50", "end": "latest", "count": 3, "subscribe": 1},
    ],
    ids=["ticks", "ticks-list", "ticks_history"],
)
async def test_a_tick_falling_due_as_a_ticks_stream_opens_is_not_lost(monkeypatch, request_):
    """Regression: opening a ticks stream read the feed (the latest tick, or the history), then
    read the clock again to attach the stream; a tick falling due between the two readings went
    to nobody, so the stream's first streamed tick skipped one. Here the clock crosses a tick
    (R_50: one every 2 s) at every reading."""
    async with (
        Simulator(seed=3, rate_limits=RateLimits.unlimited()) as sim,
        connect(sim.url) as ws,
    ):
        client = Client(ws)
        base = float(sim.clock.epoch() // 2 * 2) + 0.5
        readings = iter(range(1_000_000))
        monkeypatch.setattr(sim.clock, "now", lambda: base + 2.0 * next(readings))
        opened = await client.ok(request_)
        history = opened.get("history")
        last = history["times"][-1] if history else opened["tick"]["epoch"]
        streamed = await client.stream(opened["subscription"]["id"])
        assert streamed["tick"]["epoch"] == last + 2
