"""The socket under the client: the Transport protocol and its websockets implementation.

A :class:`Transport` is one open connection; a :class:`TransportFactory` opens one per
(re)connect: ``DerivClient(transport=...)`` takes any factory
(:class:`~derivkit.core.picows_transport.PicowsTransport`, the default, :class:`WebsocketsTransport`
or :class:`~derivkit.core.testing.MockTransport`).

Every error of the websockets library or the OS is mapped to derivkit's tree in one place,
:func:`mapped_errors`: an HTTP refusal of the handshake (4xx) becomes
:class:`~derivkit.core.exceptions.HandshakeRejected`, which is fatal; anything else that fails a
connection is :class:`~derivkit.core.exceptions.ConnectionLost`, which a reconnect may cure.
``recv`` is only ever called by the client's single reader task, and ``close`` only once that task
has stopped (``close`` reads what still arrives itself).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress
from typing import Protocol
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import websockets
from websockets.asyncio.client import ClientConnection
from websockets.asyncio.client import connect as ws_connect
from websockets.protocol import State

from derivkit.core.exceptions import ConnectionLost, HandshakeRejected, UsageError

__all__ = [
    "DEFAULT_ENDPOINT",
    "Frame",
    "FrameSink",
    "Transport",
    "TransportFactory",
    "WebsocketsTransport",
    "build_url",
    "is_new_api_url",
    "mapped_errors",
    "refusal",
]

DEFAULT_ENDPOINT = "wss://ws.derivws.com/websockets/v3"
MAX_FRAME = 16 * 1024 * 1024
#: The longest a closing handshake may take before the socket is simply dropped.
CLOSE_TIMEOUT = 0.5

#: One received frame: text, bytes, or a view of bytes valid only during the call it is passed to.
Frame = str | bytes | memoryview
#: Takes each received frame; a true result says that the frame woke a caller who is likely to
#: send at once (a transport may then gather what is sent until the end of the loop iteration).
FrameSink = Callable[[Frame], object]


class Transport(Protocol):
    """A message-oriented duplex channel of text frames."""

    async def send(self, data: bytes) -> None:
        """Send one text frame (``data`` is UTF-8 JSON)."""
        ...

    async def recv(self) -> str | bytes:
        """The next frame (only the client's reader task calls this)."""
        ...

    async def close(self, on_frame: FrameSink | None = None) -> None:
        """Close within :data:`CLOSE_TIMEOUT` seconds; frames still arriving go to ``on_frame``."""
        ...

    def abort(self) -> None:
        """Drop the connection now, without a closing handshake (the link is dead)."""
        ...

    # Optional, found with getattr (PicowsTransport has both):
    #   def send_nowait(self, data: bytes) -> bool: send at once if the socket takes it, else
    #       return False (then ``send`` is awaited); raises ConnectionLost like ``send``.
    #   async def run(self, on_frame: FrameSink) -> NoReturn: push every frame to ``on_frame``
    #       until the connection ends, then raise ConnectionLost (instead of ``recv`` calls).


class TransportFactory(Protocol):
    """Opens one :class:`Transport` per connection attempt (a transport class, or a mock)."""

    async def open(self, url: str, *, open_timeout: float = 10.0) -> Transport:
        """Connect to ``url``.

        Raises:
            HandshakeRejected: the server refused the handshake with an HTTP 4xx status.
            ConnectionLost: the server cannot be reached (worth another try later).
            UsageError: the URL is not a WebSocket URL.
        """
        ...


#: Path prefix of the new Deriv API's sockets (public, demo, real), which take no app_id or l.
NEW_API_SOCKETS = "/trading/v1/options/ws/"


def is_new_api_url(url: str) -> bool:
    return urlsplit(url).path.startswith(NEW_API_SOCKETS)


def build_url(endpoint: str | None, app_id: int, lang: str) -> str:
    """The endpoint with ``app_id`` and ``l`` added unless it already carries them.

    A socket of the new API (``/trading/v1/options/ws/...``) is left as it is: it wants neither.
    """
    url = endpoint or DEFAULT_ENDPOINT
    parts = urlsplit(url)
    if parts.scheme not in ("ws", "wss") or not parts.netloc:
        raise UsageError(f"endpoint must be a ws:// or wss:// URL, got {url!r}")
    if parts.path.startswith(NEW_API_SOCKETS):
        return url
    query = dict(parse_qsl(parts.query))
    query.setdefault("app_id", str(app_id))
    query.setdefault("l", lang)
    return urlunsplit(parts._replace(query=urlencode(query)))


#: HTTP statuses of a refused handshake that another try may cure (websockets' own policy, plus
#: 408 and 429, which say "later").
RETRYABLE_STATUSES = frozenset({408, 429, 500, 502, 503, 504})


def refusal(status: int, detail: str = "") -> ConnectionLost:
    """The error for a handshake answered with HTTP ``status`` instead of 101."""
    text = f"the server refused the connection: HTTP {status}" + (f" ({detail})" if detail else "")
    if 400 <= status < 500 and status not in RETRYABLE_STATUSES:
        return HandshakeRejected(text, status)
    return ConnectionLost(text)


def _mapped(exc: Exception, action: str) -> Exception:
    """The derivkit error for a transport failure (the one mapping of library errors)."""
    if isinstance(exc, websockets.exceptions.InvalidStatus):
        return refusal(exc.response.status_code, _body_excerpt(exc.response.body))
    if isinstance(exc, websockets.exceptions.ConnectionClosed):
        return ConnectionLost(f"connection closed while trying to {action} ({exc})")
    if isinstance(exc, websockets.exceptions.InvalidURI):
        return UsageError(f"invalid endpoint URL ({exc})")
    # EOFError: websockets 14 raises it bare when the peer hangs up during the handshake.
    if isinstance(
        exc, OSError | websockets.exceptions.WebSocketException | TimeoutError | EOFError
    ):
        return ConnectionLost(f"cannot {action}: {exc}")
    return exc


def _body_excerpt(body: bytes | bytearray | None) -> str:
    """The start of a refusal's body (the new API explains itself in JSON there)."""
    if not body:
        return ""
    text = bytes(body[:200]).decode("utf-8", "replace").strip()
    return " ".join(text.split())


@asynccontextmanager
async def mapped_errors(action: str) -> AsyncIterator[None]:
    """Translate transport failures into derivkit errors (``raise ... from exc``)."""
    try:
        yield
    except Exception as exc:
        mapped = _mapped(exc, action)
        if mapped is exc:
            raise
        raise mapped from exc


class WebsocketsTransport:
    """A :class:`Transport` over one ``websockets`` client connection (permessage-deflate on)."""

    def __init__(self, connection: ClientConnection) -> None:
        self._connection = connection

    @classmethod
    async def open(cls, url: str, *, open_timeout: float = 10.0) -> Transport:
        async with mapped_errors("connect"):
            connection = await ws_connect(
                url, open_timeout=open_timeout, close_timeout=CLOSE_TIMEOUT, max_size=MAX_FRAME
            )
        return cls(connection)

    async def send(self, data: bytes) -> None:
        try:
            await self._connection.send(data, text=True)
        except Exception as exc:  # the hot path: no context manager per frame
            raise _mapped(exc, "send") from exc

    async def recv(self) -> str | bytes:
        try:
            return await self._connection.recv(decode=False)
        except Exception as exc:
            raise _mapped(exc, "receive") from exc

    async def close(self, on_frame: FrameSink | None = None) -> None:
        """The closing handshake, bounded by :data:`CLOSE_TIMEOUT`, then the socket is dropped.

        Frames that arrive meanwhile are read (and handed to ``on_frame``): left unread, they
        would fill the receive buffer, stop the reading, and hide the peer's close frame.
        """
        connection = self._connection
        reading = asyncio.create_task(self._read_until_closed(on_frame), name="derivkit-closing")
        try:
            async with asyncio.timeout(CLOSE_TIMEOUT):
                await connection.close()
                await reading
        except (TimeoutError, OSError, websockets.exceptions.WebSocketException):
            pass
        finally:
            if not reading.done():
                reading.cancel()
            if connection.state is not State.CLOSED:
                self.abort()

    async def _read_until_closed(self, on_frame: FrameSink | None) -> None:
        with suppress(websockets.exceptions.WebSocketException, RuntimeError, OSError):
            while True:
                frame = await self._connection.recv(decode=False)
                if on_frame is not None:
                    on_frame(frame)

    def abort(self) -> None:
        transport = self._connection.transport
        if transport is not None:
            transport.abort()

    def __repr__(self) -> str:
        return f"<WebsocketsTransport {self._connection.remote_address!r}>"
