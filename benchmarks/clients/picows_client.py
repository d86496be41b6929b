"""picows reference client: the same design as derivkit, as lean as it gets.

``python picows_client.py URL SCENARIO [options]``; prints one JSON result line.

One reader (picows' ``on_ws_frame`` callback, which decodes each frame with orjson, as derivkit
does), a ``req_id -> future`` dict for calls, and per stream a buffer drained by the task that
iterates it (``async for``), woken by one future per wait: the minimal correct version of
derivkit's design (one reader, replies routed by ``req_id``, each stream read by its own
consumer task). No timeouts, reconnects, de-duplication, rate limits or error handling: what it
measures is the floor of the design on picows.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections import deque
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import orjson  # noqa: E402
from _common import Adapter, main  # noqa: E402
from picows import WSFrame, WSListener, WSMsgType, WSTransport, ws_connect  # noqa: E402

_TEXT = WSMsgType.TEXT


class _Stream:
    """One stream's buffer, drained by its consumer."""

    __slots__ = ("buffer", "waiter")

    def __init__(self) -> None:
        self.buffer: deque[dict[str, Any]] = deque()
        self.waiter: asyncio.Future[None] | None = None

    def push(self, message: dict[str, Any]) -> None:
        self.buffer.append(message)
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def __aiter__(self) -> _Stream:
        return self

    async def __anext__(self) -> dict[str, Any]:
        buffer = self.buffer
        while not buffer:
            self.waiter = asyncio.get_running_loop().create_future()
            await self.waiter
            self.waiter = None
        return buffer.popleft()


class _Listener(WSListener):
    def __init__(self) -> None:
        self.calls: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self.streams: dict[int, _Stream] = {}

    def on_ws_frame(self, transport: WSTransport, frame: WSFrame) -> None:
        if frame.msg_type is not _TEXT:
            return
        message = orjson.loads(frame.get_payload_as_memoryview())
        req_id = message.get("req_id")
        future = self.calls.pop(req_id, None)
        if future is not None:
            if not future.done():
                future.set_result(message)
            return
        stream = self.streams.get(req_id)
        if stream is not None:
            stream.push(message)


class PicowsAdapter(Adapter):
    name = "picows"

    def __init__(self) -> None:
        self.ws: WSTransport | None = None
        self.listener: _Listener | None = None
        self.next_id = 0

    async def connect(self, url: str, *, hold: bool = False) -> None:
        self.ws, self.listener = await ws_connect(
            _Listener, url.rstrip("/") + "/websockets/v3?app_id=1089&l=EN", max_frame_size=2**24
        )

    async def close(self) -> None:
        if self.ws is not None:
            self.ws.send_close()
            self.ws.disconnect()
            await self.ws.wait_disconnected()

    async def _call(self, payload: dict[str, Any]) -> dict[str, Any]:
        assert self.ws is not None and self.listener is not None
        self.next_id += 1
        req_id = payload["req_id"] = self.next_id
        future = asyncio.get_running_loop().create_future()
        self.listener.calls[req_id] = future
        try:
            self.ws.send(_TEXT, orjson.dumps(payload))
            return await future
        finally:
            self.listener.calls.pop(req_id, None)

    async def ping(self) -> None:
        reply = await self._call({"ping": 1})
        if reply["ping"] != "pong":
            raise AssertionError(f"bad reply {reply!r}")

    async def held(self) -> int:
        return int((await self._call({"time": 1}))["held"])

    async def stream(self, symbol: str, count: int) -> tuple[int, int]:
        assert self.ws is not None and self.listener is not None
        self.next_id += 1
        req_id = self.next_id
        stream = self.listener.streams[req_id] = _Stream()
        request = {"ticks": symbol, "subscribe": 1, "passthrough": {"flood": count}}
        request["req_id"] = req_id
        self.ws.send(_TEXT, orjson.dumps(request))
        consumed = 0
        last = count - 1
        async for message in stream:
            consumed += 1
            if message["tick"]["epoch"] == last:
                break
        del self.listener.streams[req_id]
        return consumed, 0

    def pending_calls(self) -> int | None:
        return None if self.listener is None else len(self.listener.calls)


if __name__ == "__main__":
    main(PicowsAdapter())
