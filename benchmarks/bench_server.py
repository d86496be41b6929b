"""A minimal Deriv-like WebSocket server for the connection-core benchmark.

Run in its own process so that client numbers are not disturbed by it::

    python benchmarks/bench_server.py [--port 0] [--hold-port 0] [--deflate]

It prints one line ``READY <port> <hold_port>`` on stdout once both listeners are up, then serves
until it is terminated (SIGTERM/SIGINT).

Main port (any path, e.g. ``/websockets/v3``):

* ``{"ping": 1, "req_id": N}`` -> ``{"echo_req": ..., "msg_type": "ping", "ping": "pong",
  "req_id": N}``, at once.
* ``{"ticks": SYM, "subscribe": 1, "req_id": N}`` -> floods K tick messages (the first one is the
  reply) as fast as the socket takes them, each with the Deriv envelope and a subscription id that
  is unique per subscription. The tick's ``epoch`` is the 0-based sequence number, so a client
  knows the last one (``epoch == K - 1``). K is ``--flood`` unless the request carries
  ``"passthrough": {"flood": K}``.
* ``{"forget": SUBID}`` stops that flood and answers ``{"forget": 1}``; ``forget_all`` too.
* ``{"time": 1}`` answers the time; anything else gets an ``UnrecognisedRequest`` error.

Hold port: the same, except that ``ping`` is read and never answered (for measuring memory held
by pending calls); ``{"time": 1}`` answers with an extra ``"held"`` field, the number of pings
held on this connection, so a client can tell that all of its calls reached the server.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import signal
import sys
import time
from typing import Any

from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed

_sub_ids = itertools.count(1)
_BATCH = 32


def _frame(text: str) -> bytes:
    """An unmasked, unfragmented server text frame (valid when no extension is negotiated)."""
    payload = text.encode()
    size = len(payload)
    if size < 126:
        return bytes((0x81, size)) + payload
    if size < 65536:
        return b"\x81\x7e" + size.to_bytes(2, "big") + payload
    return b"\x81\x7f" + size.to_bytes(8, "big") + payload


def _dumps(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"))


def _error(request: dict[str, Any], code: str, message: str) -> str:
    reply: dict[str, Any] = {
        "echo_req": request,
        "error": {"code": code, "message": message},
        "msg_type": next(iter(request), "error"),
    }
    if "req_id" in request:
        reply["req_id"] = request["req_id"]
    return _dumps(reply)


async def _flood(ws: ServerConnection, request: dict[str, Any], sub_id: str, count: int) -> None:
    """Send ``count`` ticks for one subscription, as fast as the connection accepts them."""
    symbol = request["ticks"]
    # The envelope is encoded once; each tick only formats its own numbers in.
    head = '{"echo_req":' + _dumps(request) + ',"msg_type":"tick",'
    if "req_id" in request:
        head += f'"req_id":{int(request["req_id"])},'
    if "passthrough" in request:
        head += '"passthrough":' + _dumps(request["passthrough"]) + ","
    head += '"subscription":{"id":"' + sub_id + '"},"tick":{'
    tail = f',"id":"{sub_id}","pip_size":2,"symbol":{_dumps(symbol)}}}}}'
    base = 1000.0 + (hash(symbol) % 1000)

    def tick(seq: int) -> str:
        quote = base + (seq % 997) * 0.01
        return (
            f'{head}"ask":{quote + 0.01:.2f},"bid":{quote - 0.01:.2f},"epoch":{seq},'
            f'"quote":{quote:.2f}{tail}'
        )

    if ws.protocol.extensions:  # permessage-deflate: let websockets compress every frame
        for seq in range(count):
            await ws.send(tick(seq))
        return
    # Without extensions a server frame is trivial to build (FIN + text opcode, length, payload,
    # no mask), so frames are written to the socket in batches, bypassing websockets' per-message
    # overhead: the server must out-run the fastest client. Each write holds whole frames, so
    # they never interleave with replies that websockets sends; drain() applies backpressure.
    transport = ws.transport
    for start in range(0, count, _BATCH):
        frames = [_frame(tick(seq)) for seq in range(start, min(start + _BATCH, count))]
        if transport.is_closing():
            return
        transport.write(b"".join(frames))
        await ws.drain()
        await asyncio.sleep(0)  # let other floods and incoming requests run


class Session:
    """One client connection."""

    def __init__(self, ws: ServerConnection, default_flood: int, hold: bool) -> None:
        self.ws = ws
        self.default_flood = default_flood
        self.hold = hold
        self.held = 0
        self.floods: dict[str, asyncio.Task[None]] = {}
        self.raw = not ws.protocol.extensions  # no permessage-deflate: write frames directly

    async def send(self, text: str) -> None:
        """Send one reply; without extensions as a ready-made frame (cheaper than ws.send)."""
        if self.raw:
            if self.ws.transport.is_closing():
                raise ConnectionClosed(None, None)
            self.ws.transport.write(_frame(text))
            await self.ws.drain()
        else:
            await self.ws.send(text)

    async def run(self) -> None:
        try:
            async for raw in self.ws:
                try:
                    request = json.loads(raw)
                except ValueError:
                    await self.send(_error({}, "InputValidationFailed", "malformed JSON"))
                    continue
                if not isinstance(request, dict):
                    await self.send(_error({}, "InputValidationFailed", "not an object"))
                    continue
                await self.handle(request, raw)
        except ConnectionClosed:
            pass
        finally:
            for task in self.floods.values():
                task.cancel()
            for task in list(self.floods.values()):
                with contextlib.suppress(asyncio.CancelledError, ConnectionClosed):
                    await task

    def _reply(self, request: dict[str, Any], msg_type: str, body: dict[str, Any]) -> str:
        reply: dict[str, Any] = {"echo_req": request, "msg_type": msg_type, **body}
        if "req_id" in request:
            reply["req_id"] = request["req_id"]
        return _dumps(reply)

    async def handle(self, request: dict[str, Any], raw: str | bytes) -> None:
        if "ping" in request:
            if self.hold:
                self.held += 1
                return
            # echo_req is the request text as received (a JSON object; no re-encoding)
            text = raw.decode() if isinstance(raw, bytes) else raw
            req_id = request.get("req_id")
            tail = "}" if req_id is None else f',"req_id":{json.dumps(req_id)}}}'
            await self.send('{"echo_req":' + text + ',"msg_type":"ping","ping":"pong"' + tail)
        elif "ticks" in request and request.get("subscribe"):
            self.start_flood(request)
        elif "forget" in request:
            task = self.floods.pop(str(request["forget"]), None)
            if task is not None:
                task.cancel()
            await self.send(self._reply(request, "forget", {"forget": 1 if task else 0}))
        elif "forget_all" in request:
            ids = list(self.floods)
            for sub_id in ids:
                self.floods.pop(sub_id).cancel()
            await self.send(self._reply(request, "forget_all", {"forget_all": ids}))
        elif "time" in request:
            body: dict[str, Any] = {"time": int(time.time())}
            if self.hold:
                body["held"] = self.held
            await self.send(self._reply(request, "time", body))
        else:
            await self.send(_error(request, "UnrecognisedRequest", "unknown call in the benchmark"))

    def start_flood(self, request: dict[str, Any]) -> None:
        passthrough = request.get("passthrough")
        count = self.default_flood
        if isinstance(passthrough, dict) and isinstance(passthrough.get("flood"), int):
            count = passthrough["flood"]
        sub_id = f"{next(_sub_ids):08x}-bench-{request['ticks']}"
        task = asyncio.create_task(_flood(self.ws, request, sub_id, count))
        self.floods[sub_id] = task
        task.add_done_callback(_retrieve)


def _retrieve(task: asyncio.Task[None]) -> None:
    """A closed connection ends a flood; never log that as an unretrieved exception."""
    if not task.cancelled():
        task.exception()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--hold-port", type=int, default=0)
    parser.add_argument("--flood", type=int, default=1000, help="default ticks per subscription")
    parser.add_argument(
        "--deflate", action="store_true", help="accept permessage-deflate (off by default)"
    )
    args = parser.parse_args()
    compression = "deflate" if args.deflate else None

    def handler(hold: bool):  # type: ignore[no-untyped-def]
        async def serve_one(ws: ServerConnection) -> None:
            await Session(ws, args.flood, hold).run()

        return serve_one

    options: dict[str, Any] = {
        "compression": compression,
        "max_size": 16 * 1024 * 1024,
        "ping_interval": None,
        "max_queue": None,
    }
    async with (
        serve(handler(False), args.host, args.port, **options) as main_server,
        serve(handler(True), args.host, args.hold_port, **options) as hold_server,
    ):
        port = main_server.sockets[0].getsockname()[1]
        hold_port = hold_server.sockets[0].getsockname()[1]
        stop = asyncio.get_running_loop().create_future()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, lambda: stop.done() or stop.set_result(None))
        print(f"READY {port} {hold_port}", flush=True)
        await stop


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())
    sys.exit(0)
