"""MockTransport: a Deriv server in a function, for the tests of code that uses the client.

As with ``httpx.MockTransport``, a handler stands in for the server and the client runs its real
code (encoding, the reader task, routing, parsing) over an in-memory socket::

    def handler(request: dict) -> dict | list[dict] | None:
        if "ticks" in request:
            return {"msg_type": "tick", "tick": {"symbol": request["ticks"], "epoch": 1,
                                                 "quote": 10.5}}
        return None  # the defaults: ping, time, forget, forget_all; else UnrecognisedRequest

    mock = MockTransport(handler)
    async with DerivClient(transport=mock) as api:
        async with api.ticks("R_100") as ticks:
            assert (await anext(ticks)).quote == 10.5
            mock.push({"msg_type": "tick", "tick": {...}}, to=ticks.request)  # the next tick

The handler gets each request as sent (``req_id`` included) and returns one reply, a list of
frames (``[]``: no reply at all), or None for the default reply; it may be ``async``. Each reply
gets the request's ``req_id``, ``echo_req`` (secrets masked, as Deriv does), ``passthrough`` and,
for a request with ``subscribe``, a ``subscription`` id, unless it has them. A reply without
``msg_type`` gets the call's name.

Faults: ``mock.drop()`` cuts the open connections (the client reconnects), ``mock.refuse(401)``
refuses the next handshakes with that HTTP status. ``mock.requests`` lists every request sent,
``mock.connections`` counts connections opened.

Concurrency: one event loop. Replies of a sync handler are queued at once, in order; each request
to an async handler runs in its own task (so a slow reply does not hold back the others), and
closing the connection cancels them.
"""

from __future__ import annotations

import asyncio
import inspect
import itertools
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeAlias

from derivkit.core.calls import call_name
from derivkit.core.codec import decode, encode
from derivkit.core.exceptions import ConnectionLost
from derivkit.core.secrets import mask_secrets
from derivkit.core.transport import FrameSink, Transport, refusal

__all__ = ["MockConnection", "MockTransport", "Reply"]

Reply: TypeAlias = dict[str, Any] | list[dict[str, Any]] | None
Handler: TypeAlias = Callable[[dict[str, Any]], Reply | Awaitable[Reply]]

#: The ``msg_type`` of a reply to each call whose reply is not named after the call.
_MSG_TYPES = {"ticks": "tick", "ticks_history": "history"}


class MockTransport:
    """A :class:`~derivkit.core.transport.TransportFactory` whose server is ``handler``."""

    def __init__(self, handler: Handler | None = None) -> None:
        self.handler = handler
        self.requests: list[dict[str, Any]] = []
        self.connections = 0
        #: subscription id -> the request that opened it (on a connection still open).
        self.streams: dict[str, dict[str, Any]] = {}
        self._open: list[MockConnection] = []
        self._refusals: list[int] = []
        self._ids = itertools.count(1)

    async def open(self, url: str, *, open_timeout: float = 10.0) -> Transport:
        """Open an in-memory connection (``url`` is recorded in :attr:`urls`, not dialled)."""
        if self._refusals:
            status = self._refusals[0]
            if len(self._refusals) > 1:
                self._refusals.pop(0)
            raise refusal(status, "refused by MockTransport")
        self.connections += 1
        connection = MockConnection(self, url)
        self._open.append(connection)
        return connection

    # -- faults ----------------------------------------------------------------------------

    def drop(self) -> None:
        """Cut every open connection, as a network failure would."""
        for connection in list(self._open):
            connection.abort()

    def refuse(self, *statuses: int) -> None:
        """Refuse the next handshakes with these HTTP statuses (the last one for good);
        ``refuse()`` accepts again."""
        self._refusals = list(statuses)

    # -- pushing ---------------------------------------------------------------------------

    def subscription_id(self, request: Mapping[str, Any]) -> str | None:
        """The id of the open stream whose request equals ``request`` (``req_id`` and
        ``subscribe`` aside), or None."""
        wanted = _stable(request)
        for sub_id, opened in self.streams.items():
            if _stable(opened) == wanted:
                return sub_id
        return None

    def push(self, message: dict[str, Any], *, to: Mapping[str, Any] | None = None) -> int:
        """Send ``message`` to the client(s) now; returns how many connections got it.

        With ``to`` (a stream's request, e.g. ``subscription.request``), the message goes as
        that stream's next message: its ``req_id``, ``echo_req`` and ``subscription`` are added.
        """
        targets = list(self._open)
        if to is not None:
            sub_id = self.subscription_id(to)
            if sub_id is None:
                return 0
            request = self.streams[sub_id]
            targets = [c for c in targets if c.owns(sub_id)]
            message = _enveloped(message, request, sub_id)
        for connection in targets:
            connection.deliver(message)
        return len(targets)

    # -- serving ---------------------------------------------------------------------------

    def _default(self, request: dict[str, Any]) -> Reply:
        name = call_name(request)
        if name == "ping":
            return {"msg_type": "ping", "ping": "pong"}
        if name == "time":
            return {"msg_type": "time", "time": 1_700_000_000}
        if name == "forget":
            found = self.streams.pop(str(request["forget"]), None) is not None
            return {"msg_type": "forget", "forget": 1 if found else 0}
        if name == "forget_all":
            ids = list(self.streams)
            self.streams.clear()
            return {"msg_type": "forget_all", "forget_all": ids}
        return {
            "msg_type": name or "error",
            "error": {"code": "UnrecognisedRequest", "message": "Unrecognised request."},
        }

    def _replies(self, request: dict[str, Any], reply: Reply, connection: MockConnection) -> None:
        if reply is None:
            reply = self._default(request)
        frames: list[dict[str, Any]] = (
            [] if reply is None else (reply if isinstance(reply, list) else [reply])
        )
        sub_id: str | None = None
        if request.get("subscribe") and frames and not any("error" in f for f in frames[:1]):
            sub_id = f"{next(self._ids):08d}-mock-0000-0000-000000000000"
            self.streams[sub_id] = request
            connection.subscriptions.add(sub_id)
        for frame in frames:
            connection.deliver(_enveloped(frame, request, sub_id))


class MockConnection:
    """One in-memory connection of a :class:`MockTransport` (a :class:`Transport`)."""

    def __init__(self, factory: MockTransport, url: str) -> None:
        self.factory = factory
        self.url = url
        self.subscriptions: set[str] = set()
        self._inbox: asyncio.Queue[bytes | None] = asyncio.Queue()
        self._tasks: set[asyncio.Task[None]] = set()
        self._closed = False

    def owns(self, sub_id: str) -> bool:
        return sub_id in self.subscriptions

    def deliver(self, message: dict[str, Any]) -> None:
        if not self._closed:
            self._inbox.put_nowait(encode(message))

    async def send(self, data: bytes) -> None:
        if self._closed:
            raise ConnectionLost("connection closed while trying to send (mock)")
        request = decode(data)
        factory = self.factory
        factory.requests.append(request)
        handler = factory.handler
        reply = handler(request) if handler is not None else None
        if inspect.isawaitable(reply):
            task = asyncio.ensure_future(self._answer_later(request, reply))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            return
        factory._replies(request, reply, self)

    async def _answer_later(self, request: dict[str, Any], pending: Awaitable[Reply]) -> None:
        self.factory._replies(request, await pending, self)

    async def recv(self) -> bytes:
        frame = await self._inbox.get()
        if frame is None:
            self._inbox.put_nowait(None)  # every later recv fails too
            raise ConnectionLost("connection closed while trying to receive (mock)")
        return frame

    async def close(self, on_frame: FrameSink | None = None) -> None:
        if on_frame is not None:
            while not self._inbox.empty():
                frame = self._inbox.get_nowait()
                if frame is not None:
                    on_frame(frame)
        self.abort()

    def abort(self) -> None:
        if self._closed:
            return
        self._closed = True
        for task in self._tasks:
            task.cancel()
        for sub_id in self.subscriptions:
            self.factory.streams.pop(sub_id, None)
        if self in self.factory._open:
            self.factory._open.remove(self)
        self._inbox.put_nowait(None)

    def __repr__(self) -> str:
        return f"<MockConnection {'closed' if self._closed else 'open'}>"


def _stable(request: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in request.items() if k not in ("req_id", "subscribe", "passthrough")}


def _enveloped(
    frame: dict[str, Any], request: Mapping[str, Any], sub_id: str | None
) -> dict[str, Any]:
    message = dict(frame)
    if "msg_type" not in message:
        name = call_name(request)
        message["msg_type"] = _MSG_TYPES.get(name, name)
    message.setdefault("echo_req", mask_secrets(dict(request)))
    if "req_id" in request:
        message.setdefault("req_id", request["req_id"])
    if "passthrough" in request:
        message.setdefault("passthrough", request["passthrough"])
    if sub_id is not None and "error" not in message:
        message.setdefault("subscription", {"id": sub_id})
    return message
