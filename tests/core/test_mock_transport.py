"""The transport seam: MockTransport in place of a server that only stands in for replies,
handshake refusals, stream objects in their three forms, and state listeners."""

from __future__ import annotations

import asyncio
import gc
import json
import logging
from typing import Any

import pytest
from websockets.asyncio.server import serve
from websockets.http11 import Response

from derivkit.core import (
    ConnectionLost,
    DerivClient,
    HandshakeRejected,
    MockTransport,
    ProtocolError,
    RateLimit,
    RetryPolicy,
    Tick,
    UsageError,
)

FAST = RetryPolicy(
    reconnect_initial=0.01, reconnect_cap=0.02, rate_limit_initial=0.01, rate_limit_cap=0.02
)
SECRET = "a1-VerySecretToken77"


def tick(symbol: str, epoch: int, quote: float) -> dict[str, Any]:
    return {"msg_type": "tick", "tick": {"symbol": symbol, "epoch": epoch, "quote": quote}}


def market(request: dict[str, Any]) -> Any:
    """Ticks start at epoch 1; everything else gets the mock's defaults."""
    if "ticks" in request:
        return tick(request["ticks"], 1, 100.0)
    if "authorize" in request:
        if request["authorize"] != SECRET:
            return {"error": {"code": "InvalidToken", "message": "The token is invalid."}}
        return {"authorize": {"loginid": "VRTC1", "currency": "USD", "balance": 5}}
    return None


def client(mock: MockTransport, **kwargs: Any) -> DerivClient:
    kwargs.setdefault("retry", FAST)
    kwargs.setdefault("request_timeout", 2.0)
    kwargs.setdefault("respect_rate_limits", False)
    return DerivClient(transport=mock, **kwargs)


async def next_within(stream: Any, timeout: float = 2.0) -> Any:
    async with asyncio.timeout(timeout):
        return await anext(stream)


# -- MockTransport itself ------------------------------------------------------------------


async def test_replies_carry_the_request_id_echo_and_msg_type():
    mock = MockTransport(lambda request: {"time": 42} if "time" in request else None)
    async with client(mock) as api:
        assert await api.server_time() == 42
        reply = await api.request({"time": 1, "passthrough": {"n": 7}})
        assert reply["req_id"] == mock.requests[-1]["req_id"]
        assert reply["echo_req"]["passthrough"] == {"n": 7} and reply["msg_type"] == "time"
        assert reply["passthrough"] == {"n": 7}
        assert await api.ping() >= 0  # the default ping


async def test_an_async_handler_answers_out_of_order():
    gates = {n: asyncio.Event() for n in range(3)}

    async def slow(request: dict[str, Any]) -> Any:
        n = request["passthrough"]["n"]
        await gates[n].wait()
        return {"time": n}

    mock = MockTransport(slow)
    async with client(mock) as api:
        calls = [
            asyncio.ensure_future(api.request({"time": 1, "passthrough": {"n": n}}))
            for n in range(3)
        ]
        for n in (2, 0, 1):
            gates[n].set()
        replies = await asyncio.gather(*calls)
        assert [r["time"] for r in replies] == [0, 1, 2]


async def test_no_reply_times_out_and_unknown_calls_are_refused():
    mock = MockTransport(lambda request: [] if "statement" in request else None)
    async with client(mock) as api:
        with pytest.raises(Exception, match="no reply"):
            await api.request({"statement": 1}, timeout=0.1)
        with pytest.raises(Exception, match="UnrecognisedRequest"):
            await api.request({"nonsense": 1})


async def test_secrets_in_the_echo_are_masked_and_a_refused_token_fails_connect(caplog):
    caplog.set_level(logging.DEBUG, logger="derivkit")
    mock = MockTransport(market)
    async with client(mock, token=SECRET) as api:
        assert api.account is not None and api.account.loginid == "VRTC1"
        reply = await api.request({"authorize": SECRET})
        assert reply["echo_req"]["authorize"] == "<not shown>"
    with pytest.raises(Exception, match="InvalidToken"):
        await client(mock, token="wrong-token-000").connect()
    assert SECRET not in caplog.text


async def test_malformed_frames_are_reported_and_the_connection_survives():
    seen: list[dict[str, Any]] = []
    mock = MockTransport()

    def garbage_first(request: dict[str, Any]) -> Any:
        if "time" in request:
            for connection in mock._open:
                connection._inbox.put_nowait(b"this is not json {")
                connection._inbox.put_nowait(b"[1, 2, 3]")
            return {"msg_type": "time", "time": "five"}  # no int: the typed call refuses it
        return None

    mock.handler = garbage_first
    async with client(mock, on_unsolicited=seen.append) as api:
        with pytest.raises(ProtocolError):
            await api.server_time()
        assert len(seen) == 2 and all(m["error"]["code"] == "ProtocolError" for m in seen)
        assert await api.ping() >= 0


async def test_unsolicited_messages_go_to_the_hook():
    seen: list[dict[str, Any]] = []
    mock = MockTransport()
    async with client(mock, on_unsolicited=seen.append) as api:
        assert mock.push({"msg_type": "tick", "req_id": 123456}) == 1
        await api.ping()  # the push was queued before the pong
        assert seen == [{"msg_type": "tick", "req_id": 123456}]


async def test_rate_limited_read_only_calls_are_retried_and_money_moving_ones_are_not():
    refusals = {"time": 2, "sell": 1}

    def limited(request: dict[str, Any]) -> Any:
        name = next(iter(request))
        if refusals.get(name, 0) > 0:
            refusals[name] -= 1
            return {"error": {"code": "RateLimit", "message": "Slow down"}}
        return None if name != "sell" else {"sell": {"contract_id": 1}}

    mock = MockTransport(limited)
    async with client(mock) as api:
        assert (await api.request({"time": 1}))["time"] == 1_700_000_000
        assert sum("time" in r for r in mock.requests) == 3
        refusals["balance"] = 99
        with pytest.raises(RateLimit):
            await api.request({"balance": 1})
        assert sum("balance" in r for r in mock.requests) == FAST.rate_limit_retries + 1
        with pytest.raises(RateLimit):
            await api.request({"sell": 1, "price": 0})
        assert sum("sell" in r for r in mock.requests) == 1


# -- streams in three forms ------------------------------------------------------------------


async def test_a_stream_awaited_with_async_with_and_async_for():
    mock = MockTransport(market)
    async with client(mock) as api:
        awaited = await api.ticks("R_100")  # the form every front-end uses
        assert (await next_within(awaited)).quote == 100.0
        await awaited.aclose()

        async with api.ticks("R_50") as ticks:
            first = await next_within(ticks)
            assert isinstance(first, Tick) and first.symbol == "R_50"
            assert mock.push(tick("R_50", 2, 101.0), to=ticks.request) == 1
            assert (await next_within(ticks)).quote == 101.0
        assert ticks.closed

        quotes = []
        async for item in api.ticks("R_10"):
            quotes.append(item.quote)
            if len(quotes) == 1:
                mock.push(tick("R_10", 2, 99.5), to={"ticks": "R_10"})
            else:
                break
        assert quotes == [100.0, 99.5]
        gc.collect()
        await asyncio.sleep(0)  # the released stream's forget goes out in the background
        await api.ping()
        forgotten = [r["forget"] for r in mock.requests if "forget" in r]
        assert len(forgotten) == 3 and mock.streams == {}


async def test_a_stream_ending_with_an_error_ends_the_async_for_and_closes():
    mock = MockTransport(market)
    async with client(mock) as api:
        with pytest.raises(Exception, match="MarketIsClosed"):
            async for _ in api.ticks("R_100"):
                mock.push(
                    {"msg_type": "tick", "error": {"code": "MarketIsClosed", "message": "x"}},
                    to={"ticks": "R_100"},
                )
        assert mock.streams != {}  # the server's stream: it ended it itself, nothing to forget


async def test_a_pending_subscription_opens_once_and_works_as_a_task():
    mock = MockTransport(market)
    async with client(mock) as api:
        pending = api.ticks("R_100")
        task = asyncio.create_task(pending)  # a coroutine object too
        subscription = await task
        assert (await next_within(subscription)).epoch == 1
        with pytest.raises(UsageError, match="opened already"):
            await pending
        await subscription.aclose()
        with pytest.raises(UsageError):
            api.subscribe({})  # a bad payload fails at once, before any await


async def test_subscribe_with_and_without_a_parser():
    mock = MockTransport(market)
    async with client(mock) as api:
        async with api.subscribe({"ticks": "R_25"}) as raw:
            message = await next_within(raw)
            assert message["tick"]["quote"] == 100.0
        async with api.subscribe(
            {"ticks": "R_75"}, parse=lambda m: [m["tick"]["epoch"], m["tick"]["quote"]]
        ) as parsed:
            assert [await next_within(parsed), await next_within(parsed)] == [1, 100.0]


# -- handshake refusals ------------------------------------------------------------------


async def test_a_refused_handshake_is_raised_not_retried():
    mock = MockTransport(market)
    mock.refuse(401)
    api = client(mock)
    with pytest.raises(HandshakeRejected) as caught:
        await api.connect()
    assert caught.value.status == 401 and not caught.value.retryable
    assert api.state == "idle" and mock.connections == 0


async def test_a_refusal_after_a_drop_closes_the_client_for_good():
    states: list[str] = []
    closed = asyncio.Event()

    def on_state(state: str) -> None:
        states.append(state)
        if state == "closed":
            closed.set()

    mock = MockTransport(market)
    async with client(mock, on_state_change=on_state) as api:
        ticks = await api.ticks("R_100")
        await next_within(ticks)
        mock.refuse(503, 403)  # one "try later", then a refusal for good
        mock.drop()
        await asyncio.wait_for(closed.wait(), 2)
        assert states == ["connecting", "connected", "reconnecting", "closed"]
        with pytest.raises(ConnectionLost, match="HTTP 403"):
            await api.ping()
        with pytest.raises(HandshakeRejected):
            await next_within(ticks)
        assert mock.connections == 1


def refusing(status: int):
    def process_request(connection, request):
        body = json.dumps({"errors": [{"status": status, "code": "Unauthorized"}]})
        return Response(status, "Refused", connection.respond(status, body).headers, body.encode())

    return process_request


@pytest.mark.parametrize(("status", "fatal"), [(401, True), (400, True), (503, False)])
async def test_http_refusals_over_real_sockets(transport, status, fatal):
    async with serve(
        lambda ws: ws.wait_closed(), "127.0.0.1", 0, process_request=refusing(status)
    ) as server:
        port = server.sockets[0].getsockname()[1]
        api = DerivClient(f"ws://127.0.0.1:{port}/websockets/v3", transport=transport)
        with pytest.raises(ConnectionLost) as caught:
            await api.connect()
        assert isinstance(caught.value, HandshakeRejected) == fatal
        assert f"HTTP {status}" in str(caught.value)
        assert "Unauthorized" in str(caught.value)  # the start of the body says why


# -- state listeners -----------------------------------------------------------------------


async def test_state_listeners_added_and_removed_after_construction():
    mock = MockTransport(market)
    first: list[str] = []
    second: list[str] = []
    api = client(mock)
    api.add_state_listener(first.append)
    api.add_state_listener(lambda state: 1 / 0)  # a failing listener disturbs no other
    async with api:
        api.add_state_listener(second.append)
        api.remove_state_listener(first.append)
        api.remove_state_listener(print)  # unknown: ignored
    assert first == ["connecting", "connected"]
    assert second == ["closed"]
