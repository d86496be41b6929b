"""derivkit benchmark client: ``python derivkit_client.py URL SCENARIO [options]``.

Prints one JSON result line (see ``_common.py`` for the scenarios).
"""

from __future__ import annotations

import os
import sys
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _common import Adapter, main  # noqa: E402

from derivkit.core import DerivClient  # noqa: E402

BUFFER_SIZE = int(os.environ.get("BENCH_DERIVKIT_BUFFER", "1024"))
#: ``websockets`` or ``picows``; unset: the client's default (and the only choice of a derivkit
#: from before the transport seam, which ``bench_core.py`` runs as "derivkit (main)").
TRANSPORT = os.environ.get("BENCH_DERIVKIT_TRANSPORT", "")


#: ``off``: consumers skip the stream de-duplication of issue 9 (``bench_core_dedup.py`` measures
#: what it costs per tick); anything else: derivkit as shipped.
DEDUP = os.environ.get("BENCH_DERIVKIT_DEDUP", "on")


def _without_dedup() -> None:
    """Make every stream consumer buffer each message as it comes (no ``Seen.admit``)."""
    from derivkit.core.protocol import Consumer

    def push(self: Consumer, message: dict[str, Any]) -> None:
        buffer = self._buffer
        if buffer.maxlen is not None and len(buffer) == buffer.maxlen:
            self.dropped += 1
        buffer.append(message)
        self.notify()

    Consumer.push = push  # type: ignore[method-assign]


if DEDUP == "off":
    _without_dedup()


def _transport_option() -> dict[str, Any]:
    if TRANSPORT == "picows":
        from derivkit.core.picows_transport import PicowsTransport

        return {"transport": PicowsTransport}
    if TRANSPORT == "websockets":
        from derivkit.core.transport import WebsocketsTransport

        return {"transport": WebsocketsTransport}
    return {}


class DerivkitAdapter(Adapter):
    name = "derivkit"

    def __init__(self) -> None:
        self.api: DerivClient | None = None

    async def connect(self, url: str, *, hold: bool = False) -> None:
        self.api = DerivClient(
            url.rstrip("/") + "/websockets/v3",
            respect_rate_limits=False,
            keepalive_interval=3600,
            request_timeout=600,
            buffer_size=BUFFER_SIZE,
            **_transport_option(),
        )
        await self.api.connect()

    async def close(self) -> None:
        if self.api is not None:
            await self.api.close()

    async def ping(self) -> None:
        assert self.api is not None
        reply = await self.api.request({"ping": 1})
        if reply["ping"] != "pong":
            raise AssertionError(f"bad reply {reply!r}")

    async def held(self) -> int:
        assert self.api is not None
        return int((await self.api.request({"time": 1}))["held"])

    async def stream(self, symbol: str, count: int) -> tuple[int, int]:
        assert self.api is not None
        sub = await self.api.subscribe(
            {"ticks": symbol, "passthrough": {"flood": count}}, timeout=600
        )
        consumed = 0
        last = count - 1
        message: dict[str, Any]
        async for message in sub:
            consumed += 1
            if message["tick"]["epoch"] == last:
                break
        dropped = sub.dropped
        await sub.aclose()
        return consumed, dropped

    def pending_calls(self) -> int | None:
        return None if self.api is None else self.api.pending_calls


if __name__ == "__main__":
    main(DerivkitAdapter())
