"""python-deriv-api 0.1.6 benchmark client (run it with ``benchmarks/.venv-pda/bin/python``).

``python pda_client.py URL SCENARIO [options]``; prints one JSON result line.

python-deriv-api builds its URL as ``endpoint + "/websockets/v3?app_id=..&l=..&brand="`` (see
``DerivAPI.__set_api_url``), so it is given the bare ``ws://127.0.0.1:PORT``. Calls go through
its public API: ``api.ping()`` / ``api.send()``, and ``api.subscribe()`` which returns a
reactivex Observable that is consumed with an ``on_next`` callback.
"""

from __future__ import annotations

import asyncio
import os
import sys
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _common import Adapter, main  # noqa: E402
from deriv_api import DerivAPI  # noqa: E402


class PdaAdapter(Adapter):
    name = "python-deriv-api"

    def __init__(self) -> None:
        self.api: Any = None

    async def connect(self, url: str, *, hold: bool = False) -> None:
        self.api = DerivAPI(endpoint=url.rstrip("/"), app_id=1089)
        await self.api.send({"time": 1})  # the constructor connects in a background task

    async def close(self) -> None:
        if self.api is not None:
            await self.api.clear()

    async def ping(self) -> None:
        reply = await self.api.ping()
        if reply["ping"] != "pong":
            raise AssertionError(f"bad reply {reply!r}")

    async def held(self) -> int:
        return int((await self.api.send({"time": 1}))["held"])

    async def stream(self, symbol: str, count: int) -> tuple[int, int]:
        source = await self.api.subscribe({"ticks": symbol, "passthrough": {"flood": count}})
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        last = count - 1
        consumed = 0

        def on_next(message: dict[str, Any]) -> None:
            nonlocal consumed
            consumed += 1
            if message["tick"]["epoch"] == last and not done.done():
                done.set_result(None)

        def on_error(error: Exception) -> None:
            if not done.done():
                done.set_exception(error)

        subscription = source.subscribe(on_next=on_next, on_error=on_error)
        try:
            await done
        finally:
            subscription.dispose()  # the last observer leaving makes the library send forget
        return consumed, 0

    def pending_calls(self) -> int | None:
        return None if self.api is None else len(self.api.pending_requests)

    def tracked_entries(self) -> int | None:
        if self.api is None:
            return None
        return len(self.api.pending_requests) + len(self.api.cache.storage.store)


if __name__ == "__main__":
    main(PdaAdapter())
