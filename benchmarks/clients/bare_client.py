"""Bare ``websockets`` benchmark client: the practical floor.

``python bare_client.py URL SCENARIO [options]``; prints one JSON result line.

* Sequential calls (``seq``) are a plain send-then-recv loop on the socket: no reader task, no
  futures, nothing but JSON encoding, the socket and a ``req_id`` check.
* Everything else needs more than one call or stream in flight on one connection, which a plain
  loop cannot do; there the client uses the minimal correct multiplexing: one reader task, a
  ``req_id -> future`` dict for calls and a ``subscription id -> counter`` routing for ticks that
  are counted in the reader itself (no per-stream buffer or consumer task).
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _common import Adapter, main  # noqa: E402
from websockets.asyncio.client import ClientConnection, connect  # noqa: E402


class _Stream:
    __slots__ = ("count", "done", "last", "seen")

    def __init__(self, count: int, done: asyncio.Future[None]) -> None:
        self.count = count
        self.last = count - 1
        self.seen = 0
        self.done = done


class BareAdapter(Adapter):
    name = "bare"

    def __init__(self) -> None:
        self.ws: ClientConnection | None = None
        self.next_id = 0
        self.calls: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self.streams_by_req: dict[int, _Stream] = {}
        self.reader: asyncio.Task[None] | None = None
        self.direct = False

    async def connect(self, url: str, *, hold: bool = False) -> None:
        self.ws = await connect(url.rstrip("/") + "/websockets/v3?app_id=1089&l=EN", max_size=None)

    def use_direct_loop(self) -> None:
        self.direct = True

    def _ensure_reader(self) -> None:
        if self.reader is None:
            self.reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self.ws is not None
        calls = self.calls
        streams = self.streams_by_req
        async for raw in self.ws:
            message = json.loads(raw)
            req_id = message.get("req_id")
            future = calls.pop(req_id, None)
            if future is not None:
                if not future.done():
                    future.set_result(message)
                continue
            stream = streams.get(req_id)
            if stream is not None:
                stream.seen += 1
                if message["tick"]["epoch"] == stream.last and not stream.done.done():
                    stream.done.set_result(None)

    async def close(self) -> None:
        if self.reader is not None:
            self.reader.cancel()
        if self.ws is not None:
            await self.ws.close()

    async def _call(self, payload: dict[str, Any]) -> dict[str, Any]:
        assert self.ws is not None
        self.next_id += 1
        req_id = self.next_id
        payload["req_id"] = req_id
        if self.direct:
            await self.ws.send(json.dumps(payload))
            reply = json.loads(await self.ws.recv())
            if reply.get("req_id") != req_id:
                raise AssertionError(f"unexpected reply {reply!r}")
            return reply
        self._ensure_reader()
        future = asyncio.get_running_loop().create_future()
        self.calls[req_id] = future
        try:
            await self.ws.send(json.dumps(payload))
            return await future
        finally:
            self.calls.pop(req_id, None)

    async def ping(self) -> None:
        reply = await self._call({"ping": 1})
        if reply["ping"] != "pong":
            raise AssertionError(f"bad reply {reply!r}")

    async def held(self) -> int:
        return int((await self._call({"time": 1}))["held"])

    async def stream(self, symbol: str, count: int) -> tuple[int, int]:
        assert self.ws is not None
        self._ensure_reader()
        self.next_id += 1
        req_id = self.next_id
        stream = _Stream(count, asyncio.get_running_loop().create_future())
        self.streams_by_req[req_id] = stream
        request = {"ticks": symbol, "subscribe": 1, "passthrough": {"flood": count}}
        request["req_id"] = req_id
        await self.ws.send(json.dumps(request))
        await stream.done
        del self.streams_by_req[req_id]
        return stream.seen, 0

    def pending_calls(self) -> int | None:
        return len(self.calls)


if __name__ == "__main__":
    adapter = BareAdapter()
    if "seq" in sys.argv[1:3]:
        adapter.use_direct_loop()
    main(adapter)
