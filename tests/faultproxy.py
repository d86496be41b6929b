"""A seeded, fault-injecting TCP proxy on 127.0.0.1 for the reliability suites.

``FaultProxy(upstream_port, seed=1)`` listens on a free port and forwards every connection to
``127.0.0.1:upstream_port`` byte for byte, until told to misbehave:

* ``cut("rst")`` / ``cut("fin")``: end every link abruptly (TCP reset) or cleanly (FIN);
* ``cut_mid_frame(kind)``: the next server-to-client bytes are forwarded only up to a point
  strictly inside a WebSocket frame, then the link is cut (the proxy follows frame boundaries);
* ``stall(directions, seconds)``: stop forwarding one or both directions of the current links
  with the sockets open (nothing is read, so the kernel buffers fill); forwarding resumes
  afterwards if the link is still there (a link opened meanwhile is not stalled);
* ``delay(seconds, for_seconds)``: hold every chunk that long before forwarding it, in order;
* ``refuse(seconds)``: reset every new connection during that time.

``random_fault()`` draws one of those from the seeded generator (and ``faults`` counts what was
done). Everything runs on the caller's event loop; ``close()`` ends every link and task.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import socket
import struct
from collections import Counter
from dataclasses import dataclass, field

__all__ = ["DISRUPTIVE", "FaultProxy", "FrameCursor"]

UP, DOWN = "up", "down"  # client -> server, server -> client
#: Faults after which the client has to reconnect.
DISRUPTIVE = frozenset({"rst", "fin", "mid_frame", "stall_long", "refuse"})


class FrameCursor:
    """Follows a server-to-client WebSocket byte stream: the HTTP response, then frames.

    ``feed(data)`` returns the offsets in ``data`` at which a frame (or the HTTP head) ends.
    """

    def __init__(self) -> None:
        self._in_head = True
        self._head_tail = b""
        self._header = bytearray()
        self._remaining = 0

    def feed(self, data: bytes) -> set[int]:
        ends: set[int] = set()
        i = 0
        if self._in_head:
            joined = self._head_tail + data
            found = joined.find(b"\r\n\r\n")
            if found < 0:
                self._head_tail = joined[-3:]
                return ends
            i = found + 4 - len(self._head_tail)
            self._in_head = False
            ends.add(i)
        while i < len(data):
            if self._remaining:
                step = min(self._remaining, len(data) - i)
                i += step
                self._remaining -= step
                if not self._remaining:
                    ends.add(i)
                continue
            self._header.append(data[i])
            i += 1
            size = _header_size(self._header)
            if size is not None and len(self._header) == size:
                self._remaining = _payload_size(self._header)
                self._header.clear()
                if not self._remaining:
                    ends.add(i)
        return ends


def _header_size(header: bytearray) -> int | None:
    if len(header) < 2:
        return None
    length = header[1] & 0x7F
    extra = 2 if length == 126 else 8 if length == 127 else 0
    return 2 + extra + (4 if header[1] & 0x80 else 0)


def _payload_size(header: bytearray) -> int:
    length = header[1] & 0x7F
    if length == 126:
        return int(struct.unpack("!H", bytes(header[2:4]))[0])
    if length == 127:
        return int(struct.unpack("!Q", bytes(header[2:10]))[0])
    return length


@dataclass(eq=False)
class _Link:
    client: asyncio.StreamWriter
    server: asyncio.StreamWriter
    cursor: FrameCursor
    tasks: list[asyncio.Task[None]]
    cut_mid_frame: str | None = None
    closed: bool = False
    flowing: dict[str, asyncio.Event] = field(default_factory=dict)
    stalls: dict[str, int] = field(default_factory=lambda: {UP: 0, DOWN: 0})

    def __post_init__(self) -> None:
        for direction in (UP, DOWN):
            self.flowing[direction] = asyncio.Event()
            self.flowing[direction].set()

    def stall(self, direction: str) -> None:
        self.stalls[direction] += 1
        self.flowing[direction].clear()

    def unstall(self, direction: str) -> None:
        self.stalls[direction] -= 1
        if not self.stalls[direction]:
            self.flowing[direction].set()


def _reset(writer: asyncio.StreamWriter) -> None:
    """Close with a TCP reset (SO_LINGER 0) instead of a FIN."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


class FaultProxy:
    """See the module docstring. ``url`` is the WebSocket URL of the upstream through it."""

    def __init__(self, upstream_port: int, *, seed: int | str = 1, path: str = "/websockets/v3"):
        self.upstream_port = upstream_port
        self.path = path
        self.rng = random.Random(seed)
        self.faults: Counter[str] = Counter()
        self.accepted = 0
        self.refused = 0
        self._links: set[_Link] = set()
        self._delay = 0.0
        self._refusing = 0
        self._timers: set[asyncio.Task[None]] = set()
        self._server: asyncio.Server | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}{self.path}"

    @property
    def links(self) -> int:
        """Links open right now."""
        return len(self._links)

    async def __aenter__(self) -> FaultProxy:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        for timer in list(self._timers):
            timer.cancel()
        self.cut("rst", count=False)
        tasks = [task for link in list(self._links) for task in link.tasks]
        tasks.extend(self._timers)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    # -- faults ----------------------------------------------------------------------------

    def cut(self, kind: str = "rst", *, count: bool = True) -> None:
        if count:
            self.faults[kind] += 1
        for link in list(self._links):
            self._end(link, kind)

    def cut_mid_frame(self, kind: str = "rst") -> None:
        self.faults["mid_frame"] += 1
        for link in self._links:
            link.cut_mid_frame = kind

    def stall(self, directions: tuple[str, ...], seconds: float, name: str = "stall") -> None:
        self.faults[name] += 1
        links = list(self._links)
        for link in links:
            for direction in directions:
                link.stall(direction)

        def unstall() -> None:
            for link in links:
                for direction in directions:
                    link.unstall(direction)

        self._later(seconds, unstall)

    def delay(self, seconds: float, for_seconds: float) -> None:
        self.faults["delay"] += 1
        self._delay = seconds
        self._later(for_seconds, self._undelay)

    def refuse(self, seconds: float) -> None:
        self.faults["refuse"] += 1
        self._refusing += 1
        self._later(seconds, self._unrefuse)

    def random_fault(self) -> str:
        """Do one random fault; returns its name (a key of ``faults``)."""
        rng = self.rng
        kind = rng.choices(
            ["rst", "fin", "mid_frame", "stall_long", "refuse", "stall", "delay"],
            weights=[3, 2, 2, 2, 1, 3, 3],
        )[0]
        directions = rng.choice([(UP,), (DOWN,), (UP, DOWN)])
        if kind in ("rst", "fin"):
            self.cut(kind)
        elif kind == "mid_frame":
            self.cut_mid_frame(rng.choice(["rst", "fin"]))
        elif kind == "stall_long":  # longer than any keepalive deadline: the link is dead
            self.stall(directions, rng.uniform(2.0, 4.0), name="stall_long")
        elif kind == "refuse":  # refuse new connections, then cut the current ones
            self.refuse(rng.uniform(0.2, 1.0))
            self.cut(rng.choice(["rst", "fin"]), count=False)
        elif kind == "stall":  # short: the connection survives it
            self.stall(directions, rng.uniform(0.05, 0.2))
        else:
            self.delay(rng.uniform(0.01, 0.1), rng.uniform(0.2, 1.0))
        return kind

    def _later(self, seconds: float, action: object) -> None:
        async def run() -> None:
            await asyncio.sleep(seconds)
            action()  # type: ignore[operator]

        timer = asyncio.get_running_loop().create_task(run())
        self._timers.add(timer)
        timer.add_done_callback(self._timers.discard)

    def _undelay(self) -> None:
        self._delay = 0.0

    def _unrefuse(self) -> None:
        self._refusing -= 1

    # -- forwarding ------------------------------------------------------------------------

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self._refusing:
            self.refused += 1
            _reset(writer)
            return
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        except OSError:
            _reset(writer)
            return
        self.accepted += 1
        link = _Link(writer, up_writer, FrameCursor(), [])
        self._links.add(link)
        loop = asyncio.get_running_loop()
        link.tasks = [
            loop.create_task(self._pump(link, reader, up_writer, UP)),
            loop.create_task(self._pump(link, up_reader, writer, DOWN)),
        ]

    async def _pump(
        self,
        link: _Link,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        direction: str,
    ) -> None:
        flowing = link.flowing[direction]
        try:
            while not link.closed:
                await flowing.wait()
                data = await reader.read(65536)
                if not data:
                    break
                if self._delay:
                    await asyncio.sleep(self._delay)
                await flowing.wait()
                if link.closed:
                    return
                if direction == DOWN:
                    ends = link.cursor.feed(data)
                    if link.cut_mid_frame is not None:
                        inside = [i for i in range(1, len(data)) if i not in ends]
                        if inside and not link.cursor._in_head:
                            writer.write(data[: self.rng.choice(inside)])
                            with contextlib.suppress(OSError):
                                await writer.drain()
                            self._end(link, link.cut_mid_frame)
                            return
                writer.write(data)
                await writer.drain()
        except (OSError, asyncio.IncompleteReadError):
            pass
        self._end(link, "fin")

    def _end(self, link: _Link, kind: str) -> None:
        if link.closed:
            return
        link.closed = True
        self._links.discard(link)
        for writer in (link.client, link.server):
            if kind == "rst":
                _reset(writer)
            else:
                writer.close()
        current = asyncio.current_task()
        for task in link.tasks:
            if task is not current:
                task.cancel()
