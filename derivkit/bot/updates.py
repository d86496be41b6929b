"""Updates processed concurrently across users and in arrival order for each user.

PTB hands every update to :meth:`PerUserUpdateProcessor.do_process_update` in its own task, in
the order it fetched them. Each update first takes its sender's lock (asyncio locks are FIFO,
so one user's updates run one after another, in order), then a slot of ``running`` (a bound on
updates executing at once across all users). A user waiting for their own earlier command holds
no slot, so one user's slow Deriv reply or flood never delays anybody else.

In a fleet, ``turn`` (:meth:`derivkit.bot.fleet.Fleet.turn`) wraps each update once its local
turn has come: a duplicate delivery is dropped there, and the user's fleet-wide lock is held
while the update runs, so their updates run one at a time across every instance.

Updates without a sender (e.g. channel posts) share the key ``None``. Use from the bot's event
loop only.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

__all__ = ["PerUserUpdateProcessor"]

#: Updates PTB may hand over at once (queued here, waiting for their user's turn).
MAX_QUEUED = 100_000


class PerUserUpdateProcessor(BaseUpdateProcessor):
    """Concurrent across users (at most ``running`` at once), sequential per user."""

    def __init__(self, running: int = 256) -> None:
        super().__init__(MAX_QUEUED)
        self._running = asyncio.Semaphore(running)
        self._locks: dict[int | None, tuple[asyncio.Lock, list[int]]] = {}
        #: A fleet's wrapper: ``async with turn(update) as go:`` (go False: drop the update).
        self.turn: Callable[[object], AbstractAsyncContextManager[bool]] | None = None

    @property
    def users_waiting(self) -> int:
        """Users with an update running or queued (for tests and monitoring)."""
        return len(self._locks)

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        key = _sender(update)
        entry = self._locks.get(key)
        if entry is None:
            entry = (asyncio.Lock(), [0])
            self._locks[key] = entry
        lock, users = entry
        users[0] += 1
        try:
            async with lock, self._running:
                if self.turn is None:
                    await coroutine
                else:
                    ran = False
                    try:
                        async with self.turn(update) as go:
                            if go:
                                ran = True
                                await coroutine
                    finally:
                        if not ran:  # a duplicate, or the fleet's database failed
                            _discard(coroutine)
        finally:
            users[0] -= 1
            if users[0] == 0 and self._locks.get(key) is entry:
                del self._locks[key]

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None


def _discard(coroutine: Awaitable[Any]) -> None:
    close = getattr(coroutine, "close", None)
    if close is not None:
        close()  # never awaited: a dropped duplicate


def _sender(update: object) -> int | None:
    if isinstance(update, Update) and update.effective_user is not None:
        return update.effective_user.id
    return None
