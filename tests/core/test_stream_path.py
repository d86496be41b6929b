"""The streams' hot path: a live stream's messages routed straight to its readers.

A burst of messages arriving while the reader is busy must all reach it, in order, once; a reader
asleep on an empty buffer must be woken by the next message; a message that cannot be read ends
its stream, never the connection's reader.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from derivkit.core import DerivClient, MockTransport, ProtocolError, UsageError, dedup


def tick(symbol: str, epoch: int) -> dict[str, Any]:
    return {"msg_type": "tick", "tick": {"symbol": symbol, "epoch": epoch, "quote": 100.0 + epoch}}


def market(request: dict[str, Any]) -> Any:
    if "ticks" in request:
        return tick(request["ticks"], 0)
    return None


def client(mock: MockTransport, **kwargs: Any) -> DerivClient:
    return DerivClient(transport=mock, request_timeout=2.0, respect_rate_limits=False, **kwargs)


async def take(stream: Any, count: int) -> list[int]:
    async with asyncio.timeout(2.0):
        return [(await anext(stream))["tick"]["epoch"] for _ in range(count)]


async def test_a_burst_reaches_every_reader_in_order_once():
    mock = MockTransport(market)
    async with client(mock) as api:
        first = await api.subscribe({"ticks": "R_100"})
        second = await api.subscribe({"ticks": "R_100"})  # the same upstream stream
        assert await take(first, 1) == [0] and await take(second, 1) == [0]
        for epoch in range(1, 301):  # all queued before either reader runs again
            mock.push(tick("R_100", epoch), to=first.request)
        mock.push(tick("R_100", 150), to=first.request)  # a repeat: left out
        mock.push(tick("R_100", 301), to=first.request)
        assert await take(first, 301) == list(range(1, 302))
        assert await take(second, 301) == list(range(1, 302))
        assert first.duplicates == second.duplicates == 1
        assert first.dropped == second.dropped == 0


async def test_a_sleeping_reader_is_woken_by_each_new_message():
    mock = MockTransport(market)
    async with client(mock) as api:
        ticks = await api.subscribe({"ticks": "R_50"})
        assert await take(ticks, 1) == [0]
        for epoch in range(1, 4):
            reading = asyncio.ensure_future(take(ticks, 1))
            await asyncio.sleep(0)  # the reader is now asleep on its empty buffer
            assert not reading.done()
            mock.push(tick("R_50", epoch), to=ticks.request)
            assert await reading == [epoch]


async def test_a_full_buffer_drops_the_oldest_and_counts_them():
    mock = MockTransport(market)
    async with client(mock, buffer_size=3) as api:
        ticks = await api.subscribe({"ticks": "R_10"})
        assert await take(ticks, 1) == [0]
        for epoch in range(1, 11):
            mock.push(tick("R_10", epoch), to=ticks.request)
        await api.ping()  # every pushed frame has been routed by now
        assert await take(ticks, 3) == [8, 9, 10]
        assert ticks.dropped == 7


async def test_an_unreadable_stream_message_ends_that_stream_only(monkeypatch):
    admit = dedup.Seen.admit

    def failing(self: dedup.Seen, message: dict[str, Any], scope: dedup.Scope) -> Any:
        if message.get("tick", {}).get("epoch") == 2 and message["tick"]["symbol"] == "R_25":
            raise KeyError("boom")
        return admit(self, message, scope)

    monkeypatch.setattr(dedup.Seen, "admit", failing)
    mock = MockTransport(market)
    async with client(mock) as api:
        broken = await api.subscribe({"ticks": "R_25"})
        healthy = await api.subscribe({"ticks": "R_75"})
        assert await take(broken, 1) == [0] and await take(healthy, 1) == [0]
        mock.push(tick("R_25", 1), to=broken.request)
        mock.push(tick("R_25", 2), to=broken.request)
        mock.push(tick("R_75", 1), to=healthy.request)
        assert await take(broken, 1) == [1]
        with pytest.raises(ProtocolError, match="unreadable message"):
            await take(broken, 1)
        assert await take(healthy, 1) == [1]
        assert (await api.request({"ping": 1}))["ping"] == "pong"  # the reader lives on


@pytest.mark.parametrize("size", [0, -1, 2.5, True, "8"])
def test_the_buffer_size_must_be_a_positive_integer(size: Any):
    with pytest.raises(UsageError, match="buffer_size"):
        DerivClient(transport=MockTransport(), buffer_size=size)
