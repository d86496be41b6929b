"""PicowsTransport: the socket on picows, a WebSocket client written in Cython.

picows calls back on every frame instead of handing frames to an awaiting reader, so this
transport pushes: :meth:`PicowsTransport.run` gives each frame's payload to the client's router
in the event loop's own callback, with no task switch and no copy (the router decodes the
payload while picows still holds it). ``recv`` also works, for code that pulls.

Fairness: picows parses a whole read (hundreds of frames in a burst) in one callback. Routing
them all at once would starve the tasks that read the streams (whose bounded buffers then drop
ticks) and every caller awaiting a reply; so at most :data:`BURST` frames are routed per event
loop iteration, the rest wait in order (copied) while reading is paused, and are routed
:data:`BURST` at a time in the next iterations. websockets' bounded queue does the same.

What it does not do: permessage-deflate (Deriv serves uncompressed frames to clients that do not
ask for it); fragmented messages are reassembled here. Every picows and OS error is mapped to
derivkit's tree as in :mod:`derivkit.core.transport` (HTTP 4xx refusals are fatal).

Write batching: the replies routed in one read wake their callers, which send their next calls
in the next event loop iteration. Once a read has woken two callers or more (the router says
so: a true result), the frames sent until the end of that iteration are gathered
(``_Listener.batch``) and written to the socket at once, at the end of it (one system call
instead of one per frame). Nothing waits longer than the current loop iteration; the caller of
a lone reply writes at once, and stream messages (ticks) open no batch. Frames keep their order:
while a batch is open, every frame goes into it.

Concurrency: picows callbacks and the client run on one event loop. ``send`` waits while the
socket's write buffer is full (picows' flow control), so a stalled peer backs the sender up
instead of growing memory.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import struct
from collections import deque
from typing import Any, NoReturn

from picows import (
    WSCloseCode,
    WSError,
    WSFrame,
    WSInvalidStatusError,
    WSListener,
    WSMsgType,
    WSTransport,
    ws_connect,
)

try:
    from websockets.speedups import apply_mask
except ImportError:  # websockets built without its C extension
    from websockets.utils import apply_mask

from derivkit.core.exceptions import ConnectionLost, UsageError
from derivkit.core.transport import CLOSE_TIMEOUT, MAX_FRAME, FrameSink, Transport, refusal

__all__ = ["PicowsTransport"]

_TEXT = WSMsgType.TEXT
_BINARY = WSMsgType.BINARY
_CONTINUATION = WSMsgType.CONTINUATION
_CLOSE = WSMsgType.CLOSE

#: Frames routed per event loop iteration before the rest wait for the next one.
BURST = 128

#: The first two bytes of a masked client text frame (FIN, opcode 1) of each short length.
_SHORT_HEADS = tuple(bytes((0x81, 0x80 | size)) for size in range(126))
_HEAD16 = struct.Struct("!BBH")
_HEAD64 = struct.Struct("!BBQ")


def _head(size: int) -> bytes:
    if size < 126:
        return _SHORT_HEADS[size]
    if size < 65536:
        return _HEAD16.pack(0x81, 0xFE, size)
    return _HEAD64.pack(0x81, 0xFF, size)


class _MaskKeys:
    """Masking keys from the OS's random source, drawn 4 KiB at a time (one system call per
    thousand keys instead of one per batch)."""

    def __init__(self) -> None:
        self._pool = b""
        self._used = 0

    def take(self, count: int) -> bytes:
        """``count`` keys, concatenated (4 bytes each), never handed out twice."""
        size = 4 * count
        if self._used + size > len(self._pool):
            self._pool = os.urandom(max(4096, size))
            self._used = 0
        start = self._used
        self._used = start + size
        return self._pool[start : start + size]


_mask_keys = _MaskKeys()


def _masked_frames(payloads: list[bytes]) -> bytes:
    """Client text frames (RFC 6455 5.2: FIN, opcode 1, masked, each with its own random key)."""
    keys = _mask_keys.take(len(payloads))
    heads = _SHORT_HEADS
    parts: list[bytes] = []
    append = parts.append
    at = 0
    for payload in payloads:
        size = len(payload)
        key = keys[at : at + 4]
        at += 4
        append(heads[size] if size < 126 else _head(size))
        append(key)
        append(apply_mask(payload, key))
    return b"".join(parts)


class _Listener(WSListener):
    """Receives picows' callbacks for one connection.

    Slotted: on a subclass of picows' Cython class, instance-dict attributes miss the
    interpreter's attribute caches (about four times slower), and every frame reads several.
    """

    __slots__ = (
        "_loop",
        "backlog",
        "batch",
        "closed",
        "disconnected",
        "fragments",
        "frames",
        "paused",
        "routed",
        "sink",
        "transport",
        "waiter",
        "woke",
        "writable",
    )

    def __init__(self) -> None:
        self.sink: FrameSink | None = None
        self.frames: deque[bytes] = deque()
        self.waiter: asyncio.Future[None] | None = None
        self._loop = asyncio.get_running_loop()
        self.closed: asyncio.Future[None] = self._loop.create_future()
        self.writable = asyncio.Event()
        self.writable.set()
        #: Mirrors of ``not writable.is_set()`` and ``closed.done()`` for the send fast path.
        self.paused = False
        self.disconnected = False
        self.fragments: list[bytes] | None = None
        #: Frames routed in this loop iteration; frames beyond BURST wait in ``backlog``.
        self.routed = 0
        #: Frames of this read (or drain) that woke a caller (the sink returned true).
        self.woke = 0
        self.backlog: deque[bytes] = deque()
        #: Frames to send at the end of this loop iteration (None: send each at once).
        self.batch: list[bytes] | None = None
        self.transport: WSTransport | None = None

    def on_ws_connected(self, transport: WSTransport) -> None:
        self.transport = transport

    def on_ws_frame(self, transport: WSTransport, frame: WSFrame) -> None:
        last = frame.last_in_buffer
        if last and not self.routed and not self.backlog:
            # A read's only frame (a reply to a lone caller): routed at once; it can wake one
            # caller at most, so it opens no batch.
            sink = self.sink
            if sink is not None and frame.msg_type is _TEXT and frame.fin:
                sink(frame.get_payload_as_memoryview())  # decoded at once: no copy
                return
        kind = frame.msg_type
        if kind is _TEXT or kind is _BINARY:
            if not frame.fin:
                self.fragments = [frame.get_payload_as_bytes()]
                return
            sink = self.sink
            if sink is not None and not self.backlog and self.routed < BURST:
                if last:  # the usual case: a read's only (or last) frame
                    woke = self.woke
                    if sink(frame.get_payload_as_memoryview()):  # decoded at once: no copy
                        woke += 1
                    if woke > 1 and self.batch is None:
                        self._open_batch()
                    self.woke = self.routed = 0
                    return
                self.routed += 1
                if sink(frame.get_payload_as_memoryview()):
                    self.woke += 1
                return
            if sink is None:
                self._queue(frame.get_payload_as_bytes())
            else:
                self._defer(frame.get_payload_as_bytes())
            if last:
                if self.woke > 1 and self.batch is None:
                    self._open_batch()
                self.woke = 0
                if not self.backlog:
                    self.routed = 0
        elif kind is _CONTINUATION:
            if self.fragments is None:
                return  # a continuation of nothing: ignore it
            self.fragments.append(frame.get_payload_as_bytes())
            if frame.fin:
                data, self.fragments = b"".join(self.fragments), None
                if self.sink is None:
                    self._queue(data)
                elif self.backlog:
                    self._defer(data)
                else:
                    self.sink(data)
        elif kind is _CLOSE:
            if not transport.is_close_frame_sent:
                transport.send_close(frame.get_close_code(), frame.get_close_message())
            transport.disconnect()
        # PING is answered by picows itself; PONG needs nothing.

    def _defer(self, data: bytes) -> None:
        """Keep a frame for a later iteration; stop reading until the backlog is routed."""
        if not self.backlog:
            if self.transport is not None:
                self.transport.underlying_transport.pause_reading()
            self._loop.call_soon(self._drain)
        self.backlog.append(data)

    def _drain(self) -> None:
        backlog, sink = self.backlog, self.sink
        woke = 0
        for _ in range(min(BURST, len(backlog))):
            if sink is None:
                self._queue(backlog.popleft())
            elif sink(backlog.popleft()):
                woke += 1
        if woke > 1 and self.batch is None and not self.disconnected:
            self._open_batch()
        if backlog:
            self._loop.call_soon(self._drain)
            return
        self.routed = 0
        transport = self.transport
        if transport is not None and not transport.is_disconnected:
            transport.underlying_transport.resume_reading()

    def _open_batch(self) -> None:
        """Gather the frames sent from now to the end of the next loop iteration's callbacks
        (the callers the routed replies wake up run in it, before the flush)."""
        self.batch = []
        self._loop.call_soon(self.flush_writes)

    def flush_writes(self) -> None:
        """Write the batch (one system call); never raises (a failed write drops the link)."""
        batch, self.batch = self.batch, None
        transport = self.transport
        if not batch or transport is None or self.disconnected:
            return
        if transport.is_close_frame_sent:
            return  # as picows does with a frame sent after the close frame
        try:
            if len(batch) == 1:
                transport.send(_TEXT, batch[0])
            else:
                transport.underlying_transport.write(_masked_frames(batch))
        except Exception:  # the socket is unusable: a lost connection, not lost frames
            transport.disconnect(graceful=False)

    def flush(self) -> None:
        """Route every frame still waiting (the connection ends: nothing more will come)."""
        while self.backlog:
            frame = self.backlog.popleft()
            if self.sink is None:
                self._queue(frame)
            else:
                self.sink(frame)

    def _queue(self, data: bytes) -> None:
        self.frames.append(data)
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def on_ws_disconnected(self, transport: WSTransport) -> None:
        self.disconnected = True
        self.batch = None  # never written: the calls in it fail with the connection
        self.flush()
        if not self.closed.done():
            self.closed.set_result(None)
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)
        self.writable.set()  # wake a blocked sender: it sees the connection gone

    def pause_writing(self) -> None:
        self.paused = True
        self.writable.clear()

    def resume_writing(self) -> None:
        self.paused = False
        self.writable.set()


class PicowsTransport:
    """A :class:`~derivkit.core.transport.Transport` on picows; pass the class itself as
    ``DerivClient(transport=PicowsTransport)``."""

    def __init__(self, transport: WSTransport, listener: _Listener) -> None:
        self._ws = transport
        self._listener = listener

    @classmethod
    async def open(cls, url: str, *, open_timeout: float = 10.0) -> Transport:
        if not url.startswith(("ws://", "wss://")):
            raise UsageError(f"endpoint must be a ws:// or wss:// URL, got {url!r}")
        try:
            async with asyncio.timeout(open_timeout):
                transport, listener = await ws_connect(
                    _Listener,
                    url,
                    websocket_handshake_timeout=open_timeout,
                    max_frame_size=MAX_FRAME,
                    enable_auto_pong=True,
                )
        except WSInvalidStatusError as exc:
            status = int(exc.response.status) if exc.response is not None else 400
            body = (exc.response.body if exc.response is not None else None) or exc.raw_body
            detail = " ".join((body or b"")[:200].decode("utf-8", "replace").split())
            raise refusal(status, detail) from exc
        except (WSError, OSError, TimeoutError) as exc:
            raise ConnectionLost(f"cannot connect: {exc}") from exc
        except ValueError as exc:  # picows' URL parser
            raise UsageError(f"invalid endpoint URL ({exc})") from exc
        if not isinstance(listener, _Listener) or transport.is_disconnected:
            # The peer hung up right after the handshake (picows then has no listener).
            if transport is not None:
                transport.disconnect(graceful=False)
            raise ConnectionLost("cannot connect: the connection closed during the handshake")
        return cls(transport, listener)

    async def send(self, data: bytes) -> None:
        listener = self._listener
        if not listener.writable.is_set():
            await listener.writable.wait()
        if listener.closed.done():
            raise ConnectionLost("connection closed while trying to send")
        batch = listener.batch
        if batch is not None:
            batch.append(data)
        else:
            self._ws.send(_TEXT, data)

    def send_nowait(self, data: bytes) -> bool:
        """Send at once when the socket takes it (no coroutine: the call path's fast lane);
        False when the write buffer is full and :meth:`send` must wait."""
        listener = self._listener
        if listener.paused:
            return False
        if listener.disconnected:
            raise ConnectionLost("connection closed while trying to send")
        batch = listener.batch
        if batch is not None:
            batch.append(data)
        else:
            self._ws.send(_TEXT, data)
        return True

    async def recv(self) -> bytes:
        listener = self._listener
        frames = listener.frames
        while not frames:
            if listener.closed.done():
                raise ConnectionLost("connection closed while trying to receive")
            listener.waiter = asyncio.get_running_loop().create_future()
            try:
                await listener.waiter
            finally:
                listener.waiter = None
        return frames.popleft()

    async def run(self, on_frame: FrameSink) -> NoReturn:
        """Hand every frame to ``on_frame`` as it arrives (frames already queued first), until
        the connection ends; then raise :class:`ConnectionLost`."""
        listener = self._listener
        while listener.frames:
            on_frame(listener.frames.popleft())
        listener.sink = on_frame
        try:
            await asyncio.shield(listener.closed)
        finally:
            listener.sink = None
        raise ConnectionLost("connection closed while trying to receive")

    async def close(self, on_frame: FrameSink | None = None) -> None:
        """Send a close frame and wait for the peer's, at most :data:`CLOSE_TIMEOUT`; frames
        arriving meanwhile go to ``on_frame``. Then the socket is dropped."""
        listener = self._listener
        listener.sink = on_frame if on_frame is not None else _discard
        while listener.frames:
            listener.sink(listener.frames.popleft())
        listener.flush()
        listener.flush_writes()  # what was sent before close() goes out before the close frame
        if not listener.closed.done():
            try:
                if not self._ws.is_close_frame_sent:
                    self._ws.send_close(WSCloseCode.OK)
                async with asyncio.timeout(CLOSE_TIMEOUT):
                    await asyncio.shield(listener.closed)
            except (TimeoutError, OSError, WSError):
                pass
        self.abort()

    def abort(self) -> None:
        self._listener.batch = None
        self._ws.disconnect(graceful=False)

    def __repr__(self) -> str:
        peer: Any = None
        with contextlib.suppress(Exception):
            peer = self._ws.underlying_transport.get_extra_info("peername")
        return f"<PicowsTransport {peer!r}>"


def _discard(frame: Any) -> None:
    return None
