"""Tombstones of consumed orders: what a Confirm claimed, whether it was sent, what it came to.

A Confirm consumes its pending order before anything goes to Deriv; the tombstone it leaves in
``pending_orders`` (who claimed it and when, ``sent_at`` once the trade is about to be sent,
``outcome`` once the card says how it ended) is how a process started after a crash learns what
its predecessor left half done. :class:`OrderTombstones` is the one-process version, on either
dialect: :meth:`OrderTombstones.record_claim` writes the row at the claim (in a fleet the row
was already there and the claim marks it: :class:`~derivkit.storage.fleet.FleetStore`, which
shares the other methods). Every method is a coroutine running one short statement; any number
may run at once.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from derivkit.storage.schema import pending_orders

__all__ = ["PRUNE_AFTER", "ConsumedOrder", "OrderTombstones", "consumed_from"]

#: Tombstones older than this (seconds) are forgotten.
PRUNE_AFTER = 86_400.0


@dataclass(frozen=True)
class ConsumedOrder:
    """A pending order a Confirm consumed (its tombstone): the ``order`` JSON, the instance
    that claimed it and when, when its trade was sent (None: not yet), what the card was told
    in the end (None: the claimer has not finished), whether the claimer is alive, and the
    order's ``nonce`` and user."""

    order: Any
    claimed_by: str
    claimed_at: float
    sent_at: float | None
    outcome: str | None
    claimer_alive: bool
    nonce: str = ""
    telegram_id: int = 0


class OrderTombstones:
    """Consumed orders of one bot process, in its storage's ``pending_orders`` table."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def record_claim(
        self, nonce: str, telegram_id: int, order: Any, holder: str = ""
    ) -> None:
        """The Confirm of ``nonce`` consumed its order (``order``: its JSON, no secrets)."""
        now = time.time()
        async with self._engine.begin() as connection:
            await connection.execute(
                insert(pending_orders).values(
                    nonce=nonce,
                    telegram_id=telegram_id,
                    expires_at=now,
                    order=order,
                    claimed_by=holder,
                    claimed_at=now,
                )
            )

    async def order_sending(self, nonce: str) -> None:
        """The claimed order's trade is about to be sent (from here on, a claimer that dies
        leaves an outcome that is not known)."""
        await self._mark_order(nonce, sent_at=time.time())

    async def order_finished(self, nonce: str, outcome: str) -> None:
        """What the claimed order's card says in the end (``outcome``: HTML, no secrets)."""
        await self._mark_order(nonce, outcome=outcome)

    async def _mark_order(self, nonce: str, **values: Any) -> None:
        async with self._engine.begin() as connection:
            await connection.execute(
                update(pending_orders)
                .where(pending_orders.c.nonce == nonce, pending_orders.c.claimed_by.is_not(None))
                .values(values)
            )

    async def consumed_order(self, nonce: str, telegram_id: int) -> ConsumedOrder | None:
        """The user's order ``nonce`` as its claim left it (None if no Confirm consumed it).
        One process: its claimer is this process or a stopped one, never another live one."""
        async with self._engine.connect() as connection:
            row = (
                await connection.execute(
                    select(pending_orders).where(
                        pending_orders.c.nonce == nonce,
                        pending_orders.c.telegram_id == telegram_id,
                        pending_orders.c.claimed_by.is_not(None),
                    )
                )
            ).first()
        return None if row is None else consumed_from(row)

    async def unfinished_orders(self) -> list[ConsumedOrder]:
        """Every consumed order whose card was never told how it ended, oldest first (at a
        start: what a stopped process left half done)."""
        async with self._engine.connect() as connection:
            rows = await connection.execute(
                select(pending_orders)
                .where(pending_orders.c.claimed_by.is_not(None), pending_orders.c.outcome.is_(None))
                .order_by(pending_orders.c.claimed_at)
            )
            return [consumed_from(row) for row in rows]

    async def prune_orders(self, older_than: float = PRUNE_AFTER) -> int:
        """Forget the tombstones of orders consumed more than ``older_than`` seconds ago."""
        async with self._engine.begin() as connection:
            result = await connection.execute(
                delete(pending_orders).where(
                    pending_orders.c.claimed_by.is_not(None),
                    pending_orders.c.claimed_at < time.time() - older_than,
                )
            )
        return int(result.rowcount or 0)


def consumed_from(row: Any, *, alive: bool = False) -> ConsumedOrder:
    """The tombstone of a ``pending_orders`` row (``alive``: its claimer is known to live)."""
    order = row.order if not isinstance(row.order, str) else json.loads(row.order)
    return ConsumedOrder(
        order=order,
        claimed_by=str(row.claimed_by),
        claimed_at=float(row.claimed_at or 0.0),
        sent_at=None if row.sent_at is None else float(row.sent_at),
        outcome=row.outcome,
        claimer_alive=alive,
        nonce=row.nonce,
        telegram_id=int(row.telegram_id),
    )
