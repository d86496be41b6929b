"""A small, scriptable Deriv-like server on localhost for the connection core's fault tests.

It speaks the v3 envelope (req_id, echo_req, msg_type, subscription ids, error shape) for a few
calls, and lets a test misbehave on purpose: drop connections, stop answering, answer out of
order, send malformed frames. The full protocol lives in ``derivkit.sim``.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Awaitable, Callable
from typing import Any

from websockets.asyncio.server import ServerConnection, serve

GOOD_TOKEN = "a1-GoodToken1234"

Handler = Callable[["FakeDeriv", ServerConnection, dict[str, Any]], Awaitable[bool]]


class FakeDeriv:
    """``async with FakeDeriv() as server:`` serves ``server.url`` until the block ends."""

    def __init__(self) -> None:
        self.url = ""
        self.requests: list[dict[str, Any]] = []
        self.connections: set[ServerConnection] = set()
        self.accepted = 0
        self.mute = False  # read requests, answer nothing
        self.hold: dict[str, list[tuple[ServerConnection, dict[str, Any]]]] = {}
        self.held_calls: set[str] = set()  # calls whose replies are held for release_held()
        self.handler: Handler | None = None  # may answer a request itself (return True)
        self.streams: dict[str, tuple[ServerConnection, dict[str, Any]]] = {}
        self.request_seen = asyncio.Event()
        #: symbol -> (epoch, quote) of its latest tick; a new subscription starts with it, as on
        #: Deriv, so a stream re-issued after a reconnect repeats the tick its reader last saw.
        self.latest: dict[str, tuple[int, float]] = {}
        self._ids = itertools.count(1)
        self._server: Any = None
        #: The transport factory the test's clients use (set by the ``server`` fixture).
        self.transport: Any = None

    async def __aenter__(self) -> FakeDeriv:
        self._server = await serve(self._serve, "127.0.0.1", 0, compression=None)
        port = next(iter(self._server.sockets)).getsockname()[1]
        self.url = f"ws://127.0.0.1:{port}/websockets/v3"
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._server.close()
        await self._server.wait_closed()

    # -- faults --------------------------------------------------------------------------

    async def drop_all(self) -> None:
        """Cut every connection abruptly (no close handshake)."""
        for connection in list(self.connections):
            connection.transport.abort()

    def stall(self) -> None:
        """Stop reading every connection's socket (TCP open, nothing read: no pong, no close)."""
        for connection in list(self.connections):
            connection.transport.pause_reading()

    async def release_held(self, reverse: bool = True) -> None:
        """Answer held calls, newest first by default (out of order)."""
        for name, items in self.hold.items():
            for connection, request in reversed(items) if reverse else items:
                await self.answer(connection, request)
            items.clear()
            del name

    async def wait_for(self, predicate: Callable[[], bool], timeout: float = 5.0) -> None:
        async with asyncio.timeout(timeout):
            while not predicate():
                self.request_seen.clear()
                await self.request_seen.wait()

    # -- streams -------------------------------------------------------------------------

    def next_tick(self, symbol: str, quote: float) -> None:
        """Make ``quote`` the latest tick of ``symbol``, one second after the previous one."""
        epoch = self.latest.get(symbol, (1_700_000_000, 0.0))[0] + 1
        self.latest[symbol] = (epoch, quote)

    async def push_tick(self, symbol: str, quote: float) -> int:
        """Make a new tick the latest and send it to every stream of ``symbol``; returns how
        many got it."""
        self.next_tick(symbol, quote)
        sent = 0
        for sub_id, (connection, request) in list(self.streams.items()):
            if request.get("ticks") != symbol:
                continue
            try:
                await connection.send(json.dumps(self._tick(request, sub_id, quote)))
                sent += 1
            except Exception:
                self.streams.pop(sub_id, None)
        return sent

    def _tick(self, request: dict[str, Any], sub_id: str, quote: float) -> dict[str, Any]:
        symbol = request["ticks"]
        if symbol not in self.latest:
            self.next_tick(symbol, quote)
        epoch, quote = self.latest[symbol]
        body = {"symbol": symbol, "quote": quote, "epoch": epoch, "pip_size": 2, "id": sub_id}
        return self._envelope(request, "tick", body, subscription=sub_id)

    # -- protocol ------------------------------------------------------------------------

    @staticmethod
    def _envelope(
        request: dict[str, Any], msg_type: str, body: Any, subscription: str | None = None
    ) -> dict[str, Any]:
        echo = {k: ("<not shown>" if k == "authorize" else v) for k, v in request.items()}
        message: dict[str, Any] = {"msg_type": msg_type, msg_type: body, "echo_req": echo}
        if "req_id" in request:
            message["req_id"] = request["req_id"]
        if "passthrough" in request:
            message["passthrough"] = request["passthrough"]
        if subscription:
            message["subscription"] = {"id": subscription}
        return message

    @staticmethod
    def error(request: dict[str, Any], msg_type: str, code: str, text: str) -> dict[str, Any]:
        message = FakeDeriv._envelope(request, msg_type, None)
        del message[msg_type]
        message["error"] = {"code": code, "message": text}
        return message

    async def _serve(self, connection: ServerConnection) -> None:
        self.accepted += 1
        self.connections.add(connection)
        try:
            async for raw in connection:
                request = json.loads(raw)
                self.requests.append(request)
                self.request_seen.set()
                if self.mute:
                    continue
                name = next(iter(request))
                if name in self.held_calls:
                    self.hold.setdefault(name, []).append((connection, request))
                    continue
                if self.handler is not None and await self.handler(self, connection, request):
                    continue
                await self.answer(connection, request)
        except Exception:
            pass
        finally:
            self.connections.discard(connection)
            for sub_id, (conn, _) in list(self.streams.items()):
                if conn is connection:
                    del self.streams[sub_id]

    async def answer(self, connection: ServerConnection, request: dict[str, Any]) -> None:
        """The default, well-behaved reply to ``request``."""
        if "ping" in request:
            reply = self._envelope(request, "ping", "pong")
        elif "time" in request:
            reply = self._envelope(request, "time", 1_700_000_000)
        elif "website_status" in request:
            reply = self._envelope(request, "website_status", {"site_status": "up"})
        elif "authorize" in request:
            if request["authorize"] != GOOD_TOKEN:
                reply = self.error(request, "authorize", "InvalidToken", "The token is invalid.")
            else:
                account = {"loginid": "VRTC1", "currency": "USD", "balance": 100, "is_virtual": 1}
                reply = self._envelope(request, "authorize", account)
        elif "forget" in request:
            found = self.streams.pop(request["forget"], None) is not None
            reply = self._envelope(request, "forget", 1 if found else 0)
        elif "ticks" in request:
            if request["ticks"] == "BAD":
                reply = self.error(request, "tick", "InvalidSymbol", "Symbol BAD is invalid.")
            elif any(
                conn is connection and req["ticks"] == request["ticks"]
                for conn, req in self.streams.values()
            ):
                reply = self.error(request, "tick", "AlreadySubscribed", "Already subscribed.")
            else:
                sub_id = f"{next(self._ids):08d}-aaaa-bbbb-cccc-dddddddddddd"
                self.streams[sub_id] = (connection, request)
                reply = self._tick(request, sub_id, 100.0)
        else:
            reply = self.error(request, "error", "UnrecognisedRequest", "Unrecognised request.")
        await connection.send(json.dumps(reply))
