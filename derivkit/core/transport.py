"""The socket under the client: a small Transport protocol and its websockets implementation.

Every error of the websockets library or the OS is mapped to derivkit's tree in one place,
:func:`mapped_errors`. ``recv`` is only ever called by the client's single reader task.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from typing import Protocol
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import websockets
from websockets.asyncio.client import ClientConnection
from websockets.asyncio.client import connect as ws_connect

from derivkit.core.exceptions import ConnectionLost, UsageError

__all__ = [
    "DEFAULT_ENDPOINT",
    "Transport",
    "WebsocketsTransport",
    "build_url",
    "mapped_errors",
]

DEFAULT_ENDPOINT = "wss://ws.derivws.com/websockets/v3"
MAX_FRAME = 16 * 1024 * 1024


class Transport(Protocol):
    """A message-oriented duplex channel of text frames."""

    async def send(self, data: str) -> None: ...

    async def recv(self) -> str | bytes: ...

    async def close(self) -> None: ...


def build_url(endpoint: str | None, app_id: int, lang: str) -> str:
    """The endpoint with ``app_id`` and ``l`` added unless it already carries them."""
    url = endpoint or DEFAULT_ENDPOINT
    parts = urlsplit(url)
    if parts.scheme not in ("ws", "wss") or not parts.netloc:
        raise UsageError(f"endpoint must be a ws:// or wss:// URL, got {url!r}")
    query = dict(parse_qsl(parts.query))
    query.setdefault("app_id", str(app_id))
    query.setdefault("l", lang)
    return urlunsplit(parts._replace(query=urlencode(query)))


@asynccontextmanager
async def mapped_errors(action: str) -> AsyncIterator[None]:
    """Translate transport failures into :class:`ConnectionLost` (``raise ... from exc``)."""
    try:
        yield
    except websockets.exceptions.ConnectionClosed as exc:
        raise ConnectionLost(f"connection closed while trying to {action} ({exc})") from exc
    except websockets.exceptions.InvalidURI as exc:
        raise UsageError(f"invalid endpoint URL ({exc})") from exc
    except (OSError, websockets.exceptions.WebSocketException, TimeoutError) as exc:
        raise ConnectionLost(f"cannot {action}: {exc}") from exc


class WebsocketsTransport:
    """A :class:`Transport` over one ``websockets`` client connection (permessage-deflate on)."""

    def __init__(self, connection: ClientConnection) -> None:
        self._connection = connection

    @classmethod
    async def open(cls, url: str, *, open_timeout: float = 10.0) -> WebsocketsTransport:
        async with mapped_errors("connect"):
            connection = await ws_connect(url, open_timeout=open_timeout, max_size=MAX_FRAME)
        return cls(connection)

    async def send(self, data: str) -> None:
        async with mapped_errors("send"):
            await self._connection.send(data)

    async def recv(self) -> str | bytes:
        async with mapped_errors("receive"):
            return await self._connection.recv()

    async def close(self) -> None:
        with suppress(OSError, websockets.exceptions.WebSocketException):
            await self._connection.close()

    def __repr__(self) -> str:
        return f"<WebsocketsTransport {self._connection.remote_address!r}>"
