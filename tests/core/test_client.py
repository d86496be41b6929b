"""DerivClient over real sockets against a scriptable local server (tests/core/fakeserver.py)."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import pytest

from derivkit.core import (
    APIError,
    ConnectionLost,
    DerivClient,
    InvalidSymbol,
    InvalidToken,
    OutcomeUnknown,
    ProtocolError,
    RequestTimeout,
    RetryPolicy,
    UsageError,
)
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


def test_constructible_outside_a_running_loop():
    client = DerivClient(token="x" * 20)
    assert client.state == "idle"
    assert "app_id=1089" in client.url and "l=EN" in client.url
    assert "x" * 20 not in repr(client)


def test_bad_endpoint_is_a_usage_error():
    with pytest.raises(UsageError):
        DerivClient("http://example.invalid/")


async def test_a_thousand_concurrent_calls_each_get_their_own_reply(server):
    async with client_for(server) as api:
        replies = await asyncio.gather(
            *(api.request({"ping": 1, "passthrough": {"n": n}}) for n in range(1000))
        )
        assert [reply["passthrough"]["n"] for reply in replies] == list(range(1000))
        assert api.pending_calls == 0


async def test_out_of_order_replies_reach_their_callers(server):
    server.held_calls.add("time")
    async with client_for(server) as api:
        calls = [
            asyncio.create_task(api.request({"time": 1, "passthrough": {"n": n}})) for n in range(5)
        ]
        await server.wait_for(lambda: len(server.hold.get("time", [])) == 5)
        await server.release_held(reverse=True)
        replies = await asyncio.gather(*calls)
        assert [reply["passthrough"]["n"] for reply in replies] == list(range(5))


async def test_unanswered_request_times_out_and_leaves_no_pending_entry(server):
    async with client_for(server, respect_rate_limits=False) as api:
        server.mute = True
        with pytest.raises(RequestTimeout) as caught:
            await api.request({"time": 1}, timeout=0.2)
        assert caught.value.retryable
        assert api.pending_calls == 0


async def test_identical_subscriptions_share_one_upstream_and_forget_on_last_close(server):
    async with client_for(server) as api:
        first, second = await asyncio.gather(
            api.subscribe({"ticks": "R_100"}), api.subscribe({"subscribe": 1, "ticks": "R_100"})
        )
        assert len([r for r in server.requests if "ticks" in r]) == 1
        assert (await next_within(first))["tick"]["quote"] == 100.0
        assert (await next_within(second))["tick"]["quote"] == 100.0
        assert await server.push_tick("R_100", 101.5) == 1
        assert (await next_within(first))["tick"]["quote"] == 101.5
        assert (await next_within(second))["tick"]["quote"] == 101.5
        await first.aclose()
        assert not any("forget" in r for r in server.requests)
        await second.aclose()
        assert [r["forget"] for r in server.requests if "forget" in r] == [first.id or second.id]
        assert server.streams == {}


async def test_failed_subscription_is_not_cached(server):
    async with client_for(server) as api:
        for _ in range(2):
            with pytest.raises(InvalidSymbol):
                await api.subscribe({"ticks": "BAD"})
        assert len([r for r in server.requests if r.get("ticks") == "BAD"]) == 2


async def test_typed_tick_stream_with_async_with(server):
    async with client_for(server) as api:
        async with await api.ticks("R_50") as ticks:
            tick = await next_within(ticks)
            assert tick.symbol == "R_50" and tick.quote == 100.0
        assert ticks.closed
        assert any("forget" in r for r in server.requests)


async def test_reconnect_resubscribes_and_consumers_keep_iterating(server):
    async with client_for(server, token=GOOD_TOKEN) as api:
        ticks = await api.ticks("R_100")
        await next_within(ticks)
        old_id = ticks.id
        await server.drop_all()
        await server.wait_for(lambda: len(server.streams) == 1 and server.accepted == 2)
        assert [r for r in server.requests if "authorize" in r][-1]["authorize"] == GOOD_TOKEN
        assert len([r for r in server.requests if "authorize" in r]) == 2
        # the re-issued stream's first message repeats the tick already seen: left out
        await server.push_tick("R_100", 123.0)
        assert (await next_within(ticks)).quote == 123.0
        assert ticks.gaps == 1 and ticks.id != old_id
        assert api.reconnects == 1


async def test_read_only_call_in_flight_is_resent_after_reconnect(server):
    server.held_calls.add("time")
    async with client_for(server) as api:
        pending = asyncio.create_task(api.request({"time": 1}))
        await server.wait_for(lambda: len(server.hold.get("time", [])) == 1)
        server.held_calls.clear()
        await server.drop_all()
        reply = await asyncio.wait_for(pending, 5)
        assert reply["time"] == 1_700_000_000
        assert len([r for r in server.requests if "time" in r]) == 2


async def test_money_moving_call_in_flight_is_never_resent(server):
    server.held_calls.add("buy")
    async with client_for(server) as api:
        pending = asyncio.create_task(api.request({"buy": "abc", "price": 10}))
        await server.wait_for(lambda: len(server.hold.get("buy", [])) == 1)
        await server.drop_all()
        with pytest.raises(OutcomeUnknown) as caught:
            await asyncio.wait_for(pending, 5)
        assert "unknown" in str(caught.value) and not caught.value.retryable
        await server.wait_for(lambda: server.accepted == 2)
        await api.request({"ping": 1})
        assert len([r for r in server.requests if "buy" in r]) == 1


async def test_buy_that_times_out_says_the_outcome_is_unknown(server):
    server.held_calls.add("buy")
    async with client_for(server) as api:
        with pytest.raises(OutcomeUnknown):
            await api.request({"buy": "abc", "price": 10}, timeout=0.2)


async def test_other_calls_in_flight_fail_with_connection_lost(server):
    server.held_calls.add("logout")
    async with client_for(server) as api:
        pending = asyncio.create_task(api.request({"logout": 1}))
        await server.wait_for(lambda: len(server.hold.get("logout", [])) == 1)
        await server.drop_all()
        with pytest.raises(ConnectionLost) as caught:
            await asyncio.wait_for(pending, 5)
        assert type(caught.value) is ConnectionLost


async def test_without_reconnect_a_drop_ends_everything_with_connection_lost(server):
    async with client_for(server, reconnect=False) as api:
        ticks = await api.subscribe({"ticks": "R_10"})
        await next_within(ticks)
        await server.drop_all()
        with pytest.raises(ConnectionLost):
            await next_within(ticks)
        with pytest.raises(ConnectionLost):
            await api.request({"ping": 1})
        assert api.state == "closed"


async def test_keepalive_pings_an_idle_connection(server):
    async with client_for(server, keepalive_interval=0.05, respect_rate_limits=False):
        await server.wait_for(lambda: sum("ping" in r for r in server.requests) >= 2)


async def test_missing_pong_means_the_connection_is_dead(server):
    reconnecting = asyncio.Event()

    def on_state(state: str) -> None:
        if state == "reconnecting":
            reconnecting.set()

    async with client_for(server, keepalive_interval=0.05, on_state_change=on_state):
        server.mute = True
        await server.wait_for(lambda: any("ping" in r for r in server.requests))
        await asyncio.wait_for(reconnecting.wait(), 5)  # pong_timeout is 0.3 s
        server.mute = False
        await server.wait_for(lambda: server.accepted >= 2)


async def test_invalid_token_fails_connect_and_never_leaks(server, caplog):
    caplog.set_level(logging.DEBUG, logger="derivkit")
    secret = "very-secret-token-9999"
    client = client_for(server, token=secret)
    with pytest.raises(InvalidToken) as caught:
        await client.connect()
    assert client.state == "closed"
    texts = [str(caught.value), repr(caught.value), repr(client), caplog.text]
    texts.append(json.dumps(caught.value.request))
    assert all(secret not in text for text in texts)
    assert caught.value.request["authorize"] == "<not shown>"


def derivkit_tasks() -> set[asyncio.Task]:
    return {
        task
        for task in asyncio.all_tasks()
        if task.get_name().startswith("derivkit")
        or "derivkit" in task.get_coro().cr_code.co_filename
    }


async def test_close_leaves_no_task_running(server):
    assert derivkit_tasks() == set()
    async with client_for(server, token=GOOD_TOKEN) as api:
        await api.subscribe({"ticks": "R_100"})
        assert {t.get_name() for t in derivkit_tasks()} >= {"derivkit", "derivkit-reader"}
    assert derivkit_tasks() == set()
    with pytest.raises(UsageError):
        await api.request({"ping": 1})


async def test_closing_ends_open_subscriptions_cleanly(server):
    async with client_for(server) as api:
        ticks = await api.subscribe({"ticks": "R_100"})
        await next_within(ticks)
    with pytest.raises(StopAsyncIteration):
        await next_within(ticks)


def announcing_general_limit(per_minute: int):
    """A handler whose ``website_status`` announces a general limit of ``per_minute`` calls."""

    async def handler(fake, connection, request):
        if "website_status" in request:
            limits = {"max_requestes_general": {"minutely": per_minute, "hourly": 100}}
            body = {"site_status": "up", "api_call_limits": limits}
            await connection.send(json.dumps(fake._envelope(request, "website_status", body)))
            return True
        return False

    return handler


async def test_rate_limits_are_learned_from_website_status(server):
    server.handler = announcing_general_limit(per_minute=3)
    async with client_for(server) as api:
        status = await api.website_status()
        assert status.site_status == "up"
        loop = asyncio.get_running_loop()
        # website_status itself used one slot (maybe two with the connect-time read)
        assert api._limiter.configured
        assert api._limiter.delay("balance", loop.time()) >= 0
        for _ in range(3):
            api._limiter.record("balance", loop.time())
        assert api._limiter.delay("balance", loop.time()) > 50
        assert api._limiter.delay("ping", loop.time()) == 0


async def test_connect_refused_is_connection_lost():
    client = DerivClient("ws://127.0.0.1:9/websockets/v3")
    with pytest.raises(ConnectionLost):
        await client.connect()
    assert client.state == "idle"


async def test_callers_waiting_for_a_reconnect_fail_when_the_client_closes():
    reconnecting = asyncio.Event()

    def on_state(state: str) -> None:
        if state == "reconnecting":
            reconnecting.set()

    async with FakeDeriv() as fake:
        api = client_for(fake, on_state_change=on_state)
        await api.connect()
        await fake.drop_all()
    # the server is gone: the client keeps trying to reconnect
    await asyncio.wait_for(reconnecting.wait(), 5)
    waiting = asyncio.create_task(api.request({"time": 1}, timeout=30))
    await asyncio.sleep(0)  # let the call start and block on the missing connection
    assert not waiting.done()
    await api.close()
    with pytest.raises(UsageError, match="closed"):
        await asyncio.wait_for(waiting, 5)


async def test_a_call_over_the_announced_limit_waits_instead_of_being_sent(server):
    server.handler = announcing_general_limit(per_minute=2)
    async with client_for(server, respect_rate_limits=False) as api:
        await api.website_status()  # adopts the limits
        await api.website_status()
        await api.website_status()
        with pytest.raises(RequestTimeout, match="rate-limit slot"):
            await api.request({"website_status": 1}, timeout=0.2)
        assert sum("website_status" in r for r in server.requests) == 3
        await api.request({"ping": 1}, timeout=1)  # ping and time sit outside the budgets
        await api.request({"time": 1}, timeout=1)


async def test_limits_a_caller_reads_hold_for_every_call_from_then_on(server):
    """Adopting limits closes request()'s fast path (which does not consult the limiter)."""
    server.handler = announcing_general_limit(per_minute=2)
    async with client_for(server, respect_rate_limits=False) as api:
        await api.request({"ping": 1})  # the fast path, while no limits are known
        await api.website_status()  # adopts the limits
        for _ in range(2):
            with pytest.raises(APIError, match="Unrecognised"):
                await api.request({"active_symbols": "brief"})
        with pytest.raises(RequestTimeout, match="rate-limit slot"):
            await api.request({"active_symbols": "brief"}, timeout=0.2)
        assert sum("active_symbols" in r for r in server.requests) == 2


async def test_a_reply_of_the_wrong_shape_is_a_protocol_error(server):
    async def odd(fake, connection, request):
        if "time" in request:
            await connection.send(json.dumps(fake._envelope(request, "time", "not-a-number")))
            return True
        if "website_status" in request:
            await connection.send(json.dumps(fake._envelope(request, "website_status", [1])))
            return True
        return False

    server.handler = odd
    async with client_for(server) as api:
        with pytest.raises(ProtocolError, match="'time' reply"):
            await api.server_time()
        with pytest.raises(ProtocolError, match="'website_status' reply"):
            await api.website_status()
        assert await api.ping() >= 0  # the connection is fine


async def test_a_server_echoing_the_token_does_not_leak_it_into_replies(server):
    async def careless(fake, connection, request):
        if "authorize" in request:
            reply = fake._envelope(request, "authorize", {"loginid": "VRTC1", "currency": "USD"})
            reply["echo_req"] = dict(request)  # unmasked, unlike Deriv
            await connection.send(json.dumps(reply))
            return True
        return False

    server.handler = careless
    async with client_for(server) as api:
        reply = await api.request({"authorize": GOOD_TOKEN})
        assert reply["echo_req"]["authorize"] == "<not shown>"
        assert GOOD_TOKEN not in json.dumps(reply)


async def test_cancelling_a_call_removes_its_pending_entry(server):
    server.held_calls.add("time")
    async with client_for(server, respect_rate_limits=False) as api:
        call = asyncio.create_task(api.request({"time": 1}))
        await server.wait_for(lambda: len(server.hold.get("time", [])) == 1)
        assert api.pending_calls == 1
        call.cancel()
        with pytest.raises(asyncio.CancelledError):
            await call
        assert api.pending_calls == 0
        await server.release_held()  # the late reply is dropped quietly
        assert await api.ping() >= 0


async def test_cancelling_a_subscribe_forgets_the_stream_once_it_opens(server):
    server.held_calls.add("ticks")
    async with client_for(server) as api:
        opening = asyncio.create_task(api.subscribe({"ticks": "R_100"}))
        await server.wait_for(lambda: len(server.hold.get("ticks", [])) == 1)
        opening.cancel()
        with pytest.raises(asyncio.CancelledError):
            await opening
        server.held_calls.clear()
        await server.release_held()  # the stream opens upstream with nobody left to read it
        await server.wait_for(lambda: any("forget" in r for r in server.requests))
        assert server.streams == {}


async def test_a_reply_for_a_caller_cancelled_meanwhile_is_dropped(server):
    """The caller gave up (its future is cancelled) but has not run since: the reply's route
    must not fail on the cancelled future, and the call is forgotten."""
    server.held_calls = {"ping"}
    async with client_for(server, respect_rate_limits=False) as api:
        caller = asyncio.create_task(api.request({"ping": 1}))
        await server.wait_for(lambda: any("ping" in r for r in server.requests))
        (req_id,) = (r["req_id"] for r in server.requests if "ping" in r)
        reply = {"echo_req": {"ping": 1, "req_id": req_id}, "msg_type": "ping", "ping": "pong"}
        caller.cancel()  # cancels the future it awaits, at once
        assert api._route_frame(json.dumps({**reply, "req_id": req_id}).encode())
        with pytest.raises(asyncio.CancelledError):
            await caller
        assert api.pending_calls == 0
        assert (await api.request({"time": 1}))["time"] == 1_700_000_000
