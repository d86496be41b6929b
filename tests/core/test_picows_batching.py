"""PicowsTransport's write batching: the callers one read wakes up send in one write, and every
frame of a batch is a valid, separately masked client frame that reaches the server in order."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from websockets.frames import Frame, Opcode
from websockets.streams import StreamReader

from derivkit.core import DerivClient
from derivkit.core.picows_transport import PicowsTransport, _masked_frames
from tests.core.fakeserver import FakeDeriv


def parse_client_frames(data: bytes) -> list[Frame]:
    """Every frame in ``data`` as the server side reads it (masking required)."""
    reader = StreamReader()
    reader.feed_data(data)
    reader.feed_eof()
    frames = []
    while reader.buffer:
        parser = Frame.parse(reader.read_exact, mask=True, max_size=None)
        try:
            while True:
                next(parser)
        except StopIteration as done:
            frames.append(done.value)
    return frames


def server_frame(text: str) -> bytes:
    """An unmasked server text frame (no extension negotiated)."""
    payload = text.encode()
    if len(payload) < 126:
        return bytes((0x81, len(payload))) + payload
    return b"\x81\x7e" + len(payload).to_bytes(2, "big") + payload


def test_batched_frames_are_client_frames_each_with_its_own_key():
    sizes = [0, 1, 125, 126, 127, 65535, 65536, 70_000]
    payloads = [bytes([48 + index % 10]) * size for index, size in enumerate(sizes)]
    data = _masked_frames(payloads)
    frames = parse_client_frames(data)
    assert [frame.data for frame in frames] == payloads
    assert all(frame.opcode is Opcode.TEXT and frame.fin for frame in frames)
    # Each frame's masking key sits right after its header: no two alike.
    keys, at = [], 0
    for payload in payloads:
        head = 2 if len(payload) < 126 else 4 if len(payload) < 65536 else 10
        keys.append(data[at + head : at + head + 4])
        at += head + 4 + len(payload)
    assert at == len(data)
    assert len(set(keys)) == len(keys)


@pytest.fixture
async def holding_server():
    async with FakeDeriv() as fake:
        fake.held_calls = {"ping"}
        yield fake


async def test_callers_woken_by_one_read_send_their_next_calls_in_one_write(holding_server):
    server = holding_server
    callers = 20
    pads = [0, 10, 200, 70_000] * (callers // 4)
    api = DerivClient(server.url, transport=PicowsTransport, respect_rate_limits=False)
    await api.connect()
    writes: list[bytes] = []
    try:
        underlying = api._transport._ws.underlying_transport  # type: ignore[union-attr]
        write = underlying.write

        def spy(data: Any) -> None:
            writes.append(bytes(data))
            write(data)

        underlying.write = spy

        async def caller(pad: int) -> dict[str, Any]:
            await api.request({"ping": 1})
            return await api.request({"time": 1, "passthrough": {"pad": "x" * pad}})

        tasks = [asyncio.create_task(caller(pad)) for pad in pads]
        await server.wait_for(lambda: len(server.hold.get("ping", [])) == callers)
        held = server.hold.pop("ping")
        # Every reply in one write: the client reads them in one go and wakes all callers.
        connection = held[0][0]
        connection.transport.write(
            b"".join(
                server_frame(json.dumps(server._envelope(request, "ping", "pong")))
                for _, request in held
            )
        )
        async with asyncio.timeout(5):
            replies = await asyncio.gather(*tasks)
    finally:
        await api.close()
    assert [len(reply["passthrough"]["pad"]) for reply in replies] == pads
    batched = [parse_client_frames(data) for data in writes]
    assert len(batched) == 1, [len(frames) for frames in batched]
    sent = [json.loads(frame.data) for frame in batched[0]]
    assert sorted(len(request["passthrough"]["pad"]) for request in sent) == sorted(pads)


async def test_a_lone_reply_is_answered_at_once_without_a_batch(holding_server):
    """One reply wakes one caller: its next frame is written at once (no batch, no delay)."""
    server = holding_server
    server.held_calls = set()
    api = DerivClient(server.url, transport=PicowsTransport, respect_rate_limits=False)
    await api.connect()
    try:
        listener = api._transport._listener  # type: ignore[union-attr]
        for _ in range(20):
            await api.request({"ping": 1})
            assert listener.batch is None
    finally:
        await api.close()


async def test_frames_of_an_open_batch_go_out_before_the_close_frame():
    async with FakeDeriv() as server:
        server.mute = True  # an answer could not be sent once the client closes
        transport = await PicowsTransport.open(server.url)
        listener = transport._listener  # type: ignore[attr-defined]
        listener._open_batch()
        for index in range(3):
            assert transport.send_nowait(json.dumps({"ping": 1, "req_id": index}).encode())
        await transport.close()
        await server.wait_for(lambda: len(server.requests) == 3)
    assert [request["req_id"] for request in server.requests] == [0, 1, 2]


async def test_a_burst_of_ticks_opens_no_batch(holding_server, monkeypatch):
    """Stream messages wake readers, not senders: no batch (no flush callback) for them."""
    server = holding_server
    server.held_calls = set()
    api = DerivClient(server.url, transport=PicowsTransport, respect_rate_limits=False)
    await api.connect()
    try:
        listener_class = type(api._transport._listener)  # type: ignore[union-attr]
        opened = []
        open_batch = listener_class._open_batch
        monkeypatch.setattr(
            listener_class, "_open_batch", lambda self: (opened.append(1), open_batch(self))
        )
        async with asyncio.timeout(5), api.subscribe({"ticks": "R_100"}) as ticks:
            await anext(ticks)
            ((sub_id, (connection, request)),) = server.streams.items()
            frames = []
            for quote in range(50):
                server.next_tick("R_100", 100.0 + quote)
                frames.append(server_frame(json.dumps(server._tick(request, sub_id, 0.0))))
            connection.transport.write(b"".join(frames))  # one read at the client
            for _ in range(50):
                await anext(ticks)
        assert opened == []
        await api.request({"ping": 1})
    finally:
        await api.close()


async def test_a_request_beyond_orjson_goes_out_whole():
    """An integer over 64 bits (which orjson refuses) is sent whole by the standard encoder."""
    async with FakeDeriv() as server:
        api = DerivClient(server.url, transport=PicowsTransport, respect_rate_limits=False)
        await api.connect()
        try:
            reply = await api.request({"ping": 1, "passthrough": {"big": 2**70}})
        finally:
            await api.close()
    assert reply["ping"] == "pong"
    assert server.requests[-1]["passthrough"] == {"big": 2**70}


async def test_a_full_write_buffer_makes_callers_wait_instead_of_growing_memory():
    """Backpressure: once picows pauses writing, calls wait for the socket instead of piling up
    in the write buffer; when the peer reads again, every call completes."""
    async with FakeDeriv() as server:
        api = DerivClient(
            server.url, transport=PicowsTransport, respect_rate_limits=False, request_timeout=30
        )
        await api.connect()
        try:
            await api.ping()
            server.stall()
            listener = api._transport._listener  # type: ignore[union-attr]
            pad = "x" * 65536
            calls = [
                asyncio.ensure_future(api.request({"ping": 1, "passthrough": {"pad": pad}}))
                for _ in range(400)  # 26 MB: more than the kernel's buffers on both sides
            ]
            await asyncio.sleep(0)  # every call has tried to send once
            assert listener.paused
            buffered = listener.transport.underlying_transport.get_write_buffer_size()
            assert buffered < 1_000_000, buffered  # waiting, not piled up in memory
            for connection in list(server.connections):
                connection.transport.resume_reading()
            async with asyncio.timeout(20):
                replies = await asyncio.gather(*calls)
            assert all(reply["ping"] == "pong" for reply in replies)
            assert not listener.paused
        finally:
            await api.close()


def raw_server_frame(opcode: int, fin: bool, payload: bytes) -> bytes:
    """An unmasked server frame of any opcode (short payloads only)."""
    assert len(payload) < 126
    return bytes(((0x80 if fin else 0) | opcode, len(payload))) + payload


async def held_ping(server: FakeDeriv, api: DerivClient) -> tuple[asyncio.Task[Any], Any, bytes]:
    """A ping in flight, held by the server: the task, the server's connection, and the reply."""
    caller = asyncio.create_task(api.request({"ping": 1}))
    await server.wait_for(lambda: bool(server.hold.get("ping")))
    ((connection, request),) = server.hold.pop("ping")
    reply = json.dumps(server._envelope(request, "ping", "pong")).encode()
    return caller, connection, reply


async def test_a_reply_in_fragments_read_one_by_one_is_routed_whole(holding_server, monkeypatch):
    """A fragment alone in a read is not a message: the reply is routed once it is complete."""
    server = holding_server
    api = DerivClient(server.url, transport=PicowsTransport, respect_rate_limits=False)
    await api.connect()
    try:
        listener_class = type(api._transport._listener)  # type: ignore[union-attr]
        on_ws_frame = listener_class.on_ws_frame
        fragment_read = asyncio.Event()

        def spy(self: Any, transport: Any, frame: Any) -> None:
            on_ws_frame(self, transport, frame)
            if self.fragments is not None:
                fragment_read.set()

        monkeypatch.setattr(listener_class, "on_ws_frame", spy)
        caller, connection, reply = await held_ping(server, api)
        half = len(reply) // 2
        connection.transport.write(raw_server_frame(0x1, False, reply[:half]))
        async with asyncio.timeout(5):
            await fragment_read.wait()
        assert not caller.done()
        connection.transport.write(raw_server_frame(0x0, True, reply[half:]))
        async with asyncio.timeout(5):
            assert (await caller)["ping"] == "pong"
    finally:
        await api.close()


async def test_a_reply_in_a_binary_frame_is_routed(holding_server):
    server = holding_server
    api = DerivClient(server.url, transport=PicowsTransport, respect_rate_limits=False)
    await api.connect()
    try:
        caller, connection, reply = await held_ping(server, api)
        connection.transport.write(raw_server_frame(0x2, True, reply))
        async with asyncio.timeout(5):
            assert (await caller)["ping"] == "pong"
    finally:
        await api.close()
