"""Regressions found by fault injection and fuzzing (issue 9), each over real sockets."""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.server import ServerConnection, serve

from derivkit.core import (
    DerivClient,
    OutcomeUnknown,
    ProtocolError,
    RequestTimeout,
    RetryPolicy,
)
from derivkit.core.ratelimit import RateLimiter
from tests.core.fakeserver import GOOD_TOKEN, FakeDeriv

FAST = RetryPolicy(
    reconnect_initial=0.01,
    reconnect_cap=0.05,
    rate_limit_initial=0.01,
    rate_limit_cap=0.02,
    pong_timeout=0.3,
)


@pytest.fixture
async def server(transport):
    """A fake server, and through it the transport its clients use (the test runs per transport)."""
    async with FakeDeriv() as fake:
        fake.transport = transport
        yield fake


def client_for(server: FakeDeriv, **kwargs: Any) -> DerivClient:
    kwargs.setdefault("retry", FAST)
    kwargs.setdefault("request_timeout", 5.0)
    kwargs.setdefault("transport", server.transport)
    return DerivClient(server.url, **kwargs)


async def next_within(subscription, timeout: float = 5.0):
    async with asyncio.timeout(timeout):
        return await anext(subscription)


class Raw:
    """JSON text spliced into a frame as is (``json.dumps`` cannot write deep nesting)."""

    def __init__(self, text: str) -> None:
        self.text = text


def deep(depth: int) -> Raw:
    return Raw("[" * depth + '"x"' + "]" * depth)


def to_json(value: Any) -> str:
    """``json.dumps`` that splices :class:`Raw` values in."""
    raws: list[str] = []

    def placeholder(item: Any) -> Any:
        if isinstance(item, Raw):
            raws.append(item.text)
            return f"@@raw{len(raws) - 1}@@"
        if isinstance(item, dict):
            return {key: placeholder(v) for key, v in item.items()}
        return item

    text = json.dumps(placeholder(value))
    for index, raw in enumerate(raws):
        text = text.replace(f'"@@raw{index}@@"', raw)
    return text


# -- 1. no tick delivered twice after a reconnect ---------------------------------------------


async def test_the_tick_seen_before_a_reconnect_is_not_delivered_again(server):
    async with client_for(server) as api:
        ticks = await api.ticks("R_100")
        joined = await api.ticks("R_100")  # shares the stream, pre-filled with its snapshot
        first = await next_within(ticks)
        assert (await next_within(joined)).epoch == first.epoch
        await server.drop_all()
        # the re-issued stream starts with the same (latest) tick: a duplicate for both readers
        await server.wait_for(lambda: len(server.streams) == 1 and server.accepted == 2)
        await server.push_tick("R_100", 123.0)
        for reader in (ticks, joined):
            following = await next_within(reader)
            assert (following.quote, following.epoch) == (123.0, first.epoch + 1)
            assert reader.gaps == 1


async def test_a_tick_that_arrived_during_the_gap_is_delivered(server):
    async with client_for(server) as api:
        ticks = await api.ticks("R_100")
        first = await next_within(ticks)
        await server.drop_all()
        server.next_tick("R_100", 99.5)  # a new tick while the client is away
        resumed = await next_within(ticks)
        assert (resumed.quote, resumed.epoch) == (99.5, first.epoch + 1)


async def test_a_reader_joining_during_the_resubscription_still_gets_its_first_tick(server):
    async with client_for(server) as api:
        ticks = await api.ticks("R_100")
        await next_within(ticks)
        server.held_calls.add("ticks")
        await server.drop_all()
        await server.wait_for(lambda: len(server.hold.get("ticks", [])) == 1)
        joining = asyncio.create_task(api.ticks("R_100"))
        await asyncio.sleep(0.05)  # the join waits for the re-issued stream's first message
        assert not joining.done()
        server.held_calls.clear()
        await server.release_held()
        late = await asyncio.wait_for(joining, 5)
        assert (await next_within(late)).quote == 100.0  # a duplicate for `ticks`, not for it


# -- 2. a buy in flight at close() ------------------------------------------------------------


async def test_a_buy_in_flight_when_the_client_closes_has_an_unknown_outcome(server):
    server.held_calls.add("buy")
    api = client_for(server)
    await api.connect()
    buying = asyncio.create_task(api.request({"buy": "abc", "price": 10}))
    streaming = asyncio.create_task(api.subscribe({"buy": "def", "price": 10}))
    await server.wait_for(lambda: len(server.hold.get("buy", [])) == 2)
    await api.close()
    for task in (buying, streaming):
        with pytest.raises(OutcomeUnknown) as caught:
            await asyncio.wait_for(task, 5)
        assert not caught.value.retryable


# -- 3. malformed error objects and envelopes -------------------------------------------------


def answering_time_with(*frames: Any):
    async def handler(fake, connection, request):
        if "time" in request:
            for frame in frames:
                body = frame(request) if callable(frame) else frame
                await connection.send(body if isinstance(body, str | bytes) else to_json(body))
            return True
        return False

    return handler


@pytest.mark.parametrize(
    "error",
    [
        {"code": deep(1000), "message": "deep"},
        {"code": "InvalidSymbol", "message": deep(1000)},
        {"code": ["InvalidSymbol"], "message": "a list"},
        {"code": 7, "message": "a number"},
        {"code": "", "message": "empty"},
        {"code": "InvalidSymbol", "message": "bad details", "details": [1, 2]},
        "just a string",
        deep(1000),
    ],
    ids=[
        "deep-code",
        "deep-message",
        "list-code",
        "int-code",
        "empty-code",
        "list-details",
        "string",
        "deep-list",
    ],
)
async def test_an_error_object_of_the_wrong_shape_is_a_protocol_error_for_that_call(server, error):
    def reply(request):
        return {"msg_type": "time", "req_id": request["req_id"], "error": error}

    server.handler = answering_time_with(reply)
    async with client_for(server, respect_rate_limits=False) as api:
        with pytest.raises(ProtocolError, match="error"):
            await asyncio.wait_for(api.request({"time": 1}), 5)
        assert api.pending_calls == 0
        assert await api.ping() >= 0  # the reader lives on
        assert api.state == "connected" and api.reconnects == 0


async def test_a_deeply_nested_echo_of_a_secret_request_is_masked_not_fatal(server):
    async def deep_echo(fake, connection, request):
        if "authorize" in request:
            reply = fake._envelope(request, "authorize", {"loginid": "VRTC1"})
            reply["echo_req"] = {"authorize": request["authorize"], "x": deep(1000)}
            await connection.send(to_json(reply))
            return True
        return False

    server.handler = deep_echo
    async with client_for(server, respect_rate_limits=False) as api:
        reply = await asyncio.wait_for(api.request({"authorize": GOOD_TOKEN}), 5)
        assert reply["echo_req"]["authorize"] == "<not shown>"
        assert GOOD_TOKEN not in json.dumps(reply)  # the deep part is masked whole
        assert await api.ping() >= 0


async def test_a_boolean_req_id_answers_no_call(server):
    seen: list[dict[str, Any]] = []
    server.handler = answering_time_with(
        {"msg_type": "time", "req_id": True, "time": 1},
        lambda request: {"msg_type": "time", "req_id": request["req_id"], "time": 2},
    )
    async with client_for(server, respect_rate_limits=False, on_unsolicited=seen.append) as api:
        # the call gets req_id 1, which a boolean `true` must not be taken for
        reply = await asyncio.wait_for(api.request({"time": 1}), 5)
        assert reply["time"] == 2
        assert [message["req_id"] for message in seen] == [True]


# -- 4. fractional rate limits ----------------------------------------------------------------


def test_a_fractional_rate_limit_spaces_calls_instead_of_crashing():
    limiter = RateLimiter()
    limiter.configure({"max_requests_general": {"minutely": 0.5, "hourly": 0.25}})
    assert limiter.delay("balance", 0.0) == 0
    limiter.record("balance", 0.0)
    # 0.5 a minute is one call every two minutes; 0.25 an hour is one every four hours
    assert limiter.delay("balance", 1.0) == pytest.approx(4 * 3600 - 1.0)
    assert limiter.delay("ping", 1.0) == 0


@pytest.mark.parametrize("limit", [0.5, 1e-300, 1e300, True, "10", [3], {"x": 1}])
def test_no_announced_limit_makes_the_limiter_raise(limit):
    limiter = RateLimiter()
    limiter.configure({"max_requests_general": {"minutely": limit, "hourly": limit}})
    for now in (0.0, 1.0, 2.0):
        assert limiter.delay("balance", now) >= 0
        limiter.record("balance", now)


async def test_a_fractional_limit_in_website_status_leaves_the_client_working(server):
    async def fractional(fake, connection, request):
        if "website_status" in request:
            limits = {"max_requestes_general": {"minutely": 0.5, "hourly": 100}}
            body = {"site_status": "up", "api_call_limits": limits}
            await connection.send(json.dumps(fake._envelope(request, "website_status", body)))
            return True
        return False

    server.handler = fractional
    async with client_for(server) as api:
        assert (await api.website_status()).site_status == "up"
        assert await api.server_time() == 1_700_000_000  # exempt
        assert await api.request({"website_status": 1}, timeout=1)  # the one slot in 2 min
        with pytest.raises(RequestTimeout, match="rate-limit slot"):
            await api.request({"website_status": 1}, timeout=0.2)


# -- 5. a dead link is left at once -----------------------------------------------------------


async def test_a_stalled_link_is_left_without_waiting_for_a_closing_handshake(server):
    states: list[tuple[str, float]] = []
    loop = asyncio.get_running_loop()

    def on_state(state: str) -> None:
        states.append((state, loop.time()))

    async with client_for(server, keepalive_interval=0.2, on_state_change=on_state) as api:
        await server.wait_for(lambda: any("ping" in r for r in server.requests))
        server.stall()  # TCP open, nothing read: no pong, no closing handshake either
        stalled_at = loop.time()
        # pong_timeout 0.3 s after a ping at most 0.2 s away, then a reconnect within 1 s
        await server.wait_for(lambda: server.accepted == 2, timeout=3)
        assert loop.time() - stalled_at < 0.2 + 0.3 + 1.0
        assert await api.ping() >= 0
    await server.drop_all()  # the stalled server side would wait for a closing handshake
    names = [state for state, _ in states]
    assert names[names.index("connected") + 1] == "reconnecting"


# -- 6. close() is quick whatever is in flight ------------------------------------------------


@pytest.fixture
def flooding_server():
    """A server on its own thread that answers a ``ticks`` request with an endless flood of
    ticks (its own thread, so that its work is not counted in the client's time)."""
    started = threading.Event()

    def handler(connection: ServerConnection) -> None:
        request = json.loads(connection.recv())
        sub_id = "f" * 32
        envelope = {"msg_type": "tick", "req_id": request["req_id"], "subscription": {"id": sub_id}}
        try:
            for epoch in itertools.count(1):
                body = {"symbol": request["ticks"], "epoch": epoch, "quote": 1.0, "id": sub_id}
                connection.send(json.dumps({**envelope, "tick": body}))
                if epoch == 1000:
                    started.set()
        except ConnectionClosed:
            pass

    with serve(handler, "127.0.0.1", 0, compression=None) as server:
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        port = server.socket.getsockname()[1]
        yield f"ws://127.0.0.1:{port}/websockets/v3", started
        server.shutdown()
    thread.join(5)


async def test_close_is_quick_while_the_server_is_still_sending(flooding_server):
    url, flooding = flooding_server
    api = DerivClient(url, retry=FAST, respect_rate_limits=False)
    await api.connect()
    ticks = await api.subscribe({"ticks": "R_100"})
    await asyncio.to_thread(flooding.wait, 5)
    loop = asyncio.get_running_loop()
    started = loop.time()
    await api.close()
    assert loop.time() - started < 1.0
    assert ticks.closed or ticks._consumer.ended


# -- 9. a connection the peer resets right after accepting it (issue 13, picows) --------------


async def test_connections_reset_at_once_while_reconnecting_are_retried(transport):
    """A proxy resetting every new connection for a while, then letting them through: the
    client keeps retrying and reconnects. Under picows a reset right after the handshake left
    no listener, and the supervisor died on it: the client stayed "reconnecting" for good."""
    from derivkit.sim import RateLimits, Simulator
    from tests.faultproxy import FaultProxy

    reconnected = asyncio.Event()
    states: list[str] = []

    def on_state(state: str) -> None:
        states.append(state)
        if state == "connected" and "reconnecting" in states:
            reconnected.set()

    async with (
        Simulator(seed=1, speed=20, rate_limits=RateLimits.unlimited()) as sim,
        FaultProxy(sim.port, seed=1) as proxy,
    ):
        api = DerivClient(
            proxy.url, token=sim.token, retry=FAST, on_state_change=on_state, transport=transport
        )
        async with api:
            proxy.refuse(0.5)
            proxy.cut("rst", count=False)
            await asyncio.wait_for(reconnected.wait(), 10)
            assert proxy.refused >= 1
            assert (await api.balance()).balance == 10000
