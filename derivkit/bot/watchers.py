"""Settlement notices: follow each bought contract until it is sold, then tell its chat.

Each watch is one task reading a ``proposal_open_contract`` stream over the shared connection.
:meth:`ContractWatchers.close` cancels them all (their ``async with`` forgets the streams); call
it before the Telegram application stops. A reconnect does not end a watch: the core re-issues
the stream.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from derivkit.core import DerivClient, DerivError, OpenContract

__all__ = ["ContractWatchers"]

logger = logging.getLogger("derivkit.bot.watchers")

Notify = Callable[[int, OpenContract], Awaitable[None]]


class ContractWatchers:
    """One task per watched contract; ``notify(chat_id, contract)`` once it is sold."""

    def __init__(self, client: DerivClient, notify: Notify) -> None:
        self._client = client
        self._notify = notify
        self._tasks: dict[int, asyncio.Task[None]] = {}

    def __len__(self) -> int:
        return len(self._tasks)

    def watch(self, chat_id: int, contract_id: int) -> None:
        """Start following ``contract_id`` (a second call for the same contract is ignored)."""
        if contract_id in self._tasks:
            return
        task = asyncio.create_task(self._follow(chat_id, contract_id), name=f"watch-{contract_id}")
        self._tasks[contract_id] = task
        task.add_done_callback(lambda _: self._tasks.pop(contract_id, None))

    async def _follow(self, chat_id: int, contract_id: int) -> None:
        try:
            async with await self._client.open_contract(contract_id) as updates:
                async for contract in updates:
                    if contract.is_sold:
                        await self._notify(chat_id, contract)
                        return
        except DerivError as error:
            logger.warning("stopped following contract %s: %s", contract_id, error)
        except Exception:
            logger.exception("settlement notice for contract %s failed", contract_id)

    async def close(self) -> None:
        """Cancel every watch and wait for them to end."""
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
