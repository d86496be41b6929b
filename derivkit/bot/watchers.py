"""Following one account's open contracts until they settle.

Each watch is one task reading a ``proposal_open_contract`` stream over the account's
connection; it keeps the contract's latest state (for ``/portfolio``'s live value and P/L) and
calls ``on_settled(contract)`` once, when the contract is sold or expired. A reconnect does not
end a watch: the core re-issues the stream. :meth:`ContractWatchers.close` cancels every watch
(the streams are forgotten).

The set of watched contracts is also the account's open positions: ``open_stakes()`` and
``len()`` serve the open-contract and daily-loss limits without asking Deriv.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from derivkit.core import DerivClient, DerivError, OpenContract

__all__ = ["ContractWatchers"]

logger = logging.getLogger("derivkit.bot.watchers")

Settled = Callable[[OpenContract], Awaitable[None]]


class ContractWatchers:
    """One task per open contract of one account."""

    def __init__(self, client: DerivClient, on_settled: Settled) -> None:
        self._client = client
        self._on_settled = on_settled
        self._tasks: dict[int, asyncio.Task[None]] = {}
        self._stakes: dict[int, float] = {}
        self._latest: dict[int, OpenContract] = {}
        self._changed = asyncio.Event()
        self._closed = False

    def __len__(self) -> int:
        return len(self._tasks)

    def __contains__(self, contract_id: object) -> bool:
        return contract_id in self._tasks

    def contract_ids(self) -> list[int]:
        return sorted(self._tasks)

    def latest(self, contract_id: int) -> OpenContract | None:
        """The contract's last known state, if a message arrived already."""
        return self._latest.get(contract_id)

    async def wait_for_states(self) -> None:
        """Until every watched contract has reported its state once (bound it with a timeout)."""
        while any(cid not in self._latest for cid in self._tasks):
            self._changed.clear()
            await self._changed.wait()

    def open_stakes(self) -> float:
        return sum(self._stakes.values())

    def watch(self, contract_id: int, stake: float | None = None) -> None:
        """Follow ``contract_id`` (a second call for the same contract only notes the stake)."""
        if stake is not None:
            self._stakes[contract_id] = stake
        if contract_id in self._tasks or self._closed:
            return
        self._stakes.setdefault(contract_id, 0.0)
        task = asyncio.create_task(self._follow(contract_id), name=f"watch-{contract_id}")
        self._tasks[contract_id] = task
        task.add_done_callback(lambda _: self._forget(contract_id))

    def _forget(self, contract_id: int) -> None:
        self._tasks.pop(contract_id, None)
        self._stakes.pop(contract_id, None)
        self._latest.pop(contract_id, None)

    async def _follow(self, contract_id: int) -> None:
        try:
            async with await self._client.open_contract(contract_id) as updates:
                async for contract in updates:
                    self._latest[contract_id] = contract
                    self._changed.set()
                    if contract.buy_price:
                        self._stakes[contract_id] = contract.buy_price
                    if contract.is_sold:
                        await self._on_settled(contract)
                        return
        except DerivError as error:
            logger.warning("stopped following contract %s: %s", contract_id, error)
        except Exception:
            logger.exception("settlement notice for contract %s failed", contract_id)

    async def close(self) -> None:
        """Cancel every watch and wait for them to end."""
        self._closed = True
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
