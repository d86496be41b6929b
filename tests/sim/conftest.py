"""Simulator test fixtures: a running Simulator and a tiny JSON client over a real socket."""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect

from derivkit.sim import RateLimits, Simulator

Msg = dict[str, Any]
TIMEOUT = 5.0


class Client:
    """Sends requests with ids and waits for matching replies; keeps unmatched messages."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.backlog: list[Msg] = []
        self._ids = iter(range(1, 10**9))

    async def send(self, req: Msg) -> None:
        await self.ws.send(json.dumps(req))

    async def next(self, pred: Callable[[Msg], bool], timeout: float = TIMEOUT) -> Msg:
        for i, m in enumerate(self.backlog):
            if pred(m):
                return self.backlog.pop(i)
        async with asyncio.timeout(timeout):
            while True:
                m = json.loads(await self.ws.recv())
                if pred(m):
                    return m
                self.backlog.append(m)

    async def call(self, req: Msg, timeout: float = TIMEOUT) -> Msg:
        req = dict(req)
        req.setdefault("req_id", next(self._ids))
        await self.send(req)
        rid = req["req_id"]
        return await self.next(lambda m: m.get("req_id") == rid, timeout)

    async def ok(self, req: Msg, timeout: float = TIMEOUT) -> Msg:
        m = await self.call(req, timeout)
        assert "error" not in m, m
        return m

    async def stream(self, sub_id: str, timeout: float = TIMEOUT) -> Msg:
        return await self.next(lambda m: m.get("subscription", {}).get("id") == sub_id, timeout)

    async def authorize(self, token: str) -> Msg:
        return await self.ok({"authorize": token})


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    async with Simulator(
        seed=7, speed=50, rate_limits=RateLimits.unlimited(), idle_timeout=100_000
    ) as s:
        yield s


@pytest.fixture
async def client(sim: Simulator) -> AsyncIterator[Client]:
    async with connect(sim.url + "?app_id=1089&l=EN") as ws:
        yield Client(ws)


@pytest.fixture
async def authed(sim: Simulator, client: Client) -> Client:
    await client.authorize(sim.token)
    return client


def approx_money(a: float, b: float) -> bool:
    return math.isclose(a, b, abs_tol=0.005)
