"""What a fleet of bot instances sharing one PostgreSQL database coordinates through it.

* Updates (the durable inbox): :meth:`FleetStore.accept_update` commits an update, encrypted,
  the first time any instance gets it (a second delivery is refused), before the webhook
  answers 200; an update whose holder died unfinished is taken over
  (:meth:`FleetStore.reclaim_updates`), and marked done once processed
  (:meth:`FleetStore.update_done`); :meth:`FleetStore.user_turn` holds the user's advisory lock
  (``pg_advisory_lock(telegram_id)``) on a connection of its own for as long as one update of
  theirs runs, anywhere in the fleet, and lets earlier updates of the user go first.
* Confirmations: pending orders are rows; :meth:`FleetStore.claim_order` consumes one with a
  single conditional ``UPDATE ... RETURNING``, so of two instances handed the same tap, one
  gets the order. The consumed row stays as a tombstone (:meth:`FleetStore.consumed_order`):
  who claimed it, whether the trade was sent, what the user was told.
* Users' per-update state (live buttons, "the next message is a token"): one JSON row each.
* Leases with heartbeats (:meth:`acquire`, :meth:`renew`, :meth:`release`): each background duty
  is one named row, held by one instance until it stops renewing it; Deriv connection slots
  (``conn:<user>:<instance>``) are leases too, counted against a per-user cap.

Times of leases are the database's clock (``clock_timestamp()``), so instances on machines
whose clocks differ agree on expiry. PostgreSQL only: :meth:`FleetStore.supported` says whether
a storage can serve a fleet. Every method is a coroutine running short statements; any number
may run at once.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterable, Mapping
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import delete, select, text, update
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from derivkit.storage.schema import pending_orders, processed_updates, user_state, users
from derivkit.storage.store import DEAD_PEER_SETTINGS, Storage
from derivkit.storage.tombstones import PRUNE_AFTER, ConsumedOrder, OrderTombstones, consumed_from

__all__ = ["ConsumedOrder", "FleetStore", "UserState"]

_NOW = "EXTRACT(EPOCH FROM clock_timestamp())"
#: How long a user's update waits for an earlier one of theirs still running elsewhere.
ORDER_WAIT = 3.0
#: An update not marked done after this long is taken as lost (its instance died).
STALE_UPDATE = 30.0


class UserState:
    """A user's per-update state as stored: ``cards`` (JSON) and ``token_until`` (epoch)."""

    __slots__ = ("cards", "token_until")

    def __init__(self, cards: Any = None, token_until: float | None = None) -> None:
        self.cards = cards
        self.token_until = token_until


class FleetStore(OrderTombstones):
    """Fleet coordination over a PostgreSQL :class:`~derivkit.storage.Storage`.

    The tombstones' marks are :class:`~derivkit.storage.tombstones.OrderTombstones`' (a fleet
    claims with :meth:`claim_order`, and :meth:`consumed_order` also says whether the claimer
    lives; ``record_claim`` and ``unfinished_orders`` are one process's, unused here).

    ``lock_connections`` bounds how many users' locks this instance holds at once (each needs a
    connection of its own, kept apart from the storage's pool so the work under a lock never
    waits for a connection a lock holds).
    """

    def __init__(self, storage: Storage, *, lock_connections: int = 16) -> None:
        if not self.supported(storage):
            raise ValueError("a fleet needs PostgreSQL storage")
        super().__init__(storage.engine)
        self.storage = storage
        self._locks: AsyncEngine = create_async_engine(
            storage.engine.url,
            pool_size=lock_connections,
            max_overflow=0,
            pool_pre_ping=True,
            connect_args={"server_settings": dict(DEAD_PEER_SETTINGS)},
        )
        self._lock_slots = asyncio.Semaphore(lock_connections)

    @staticmethod
    def supported(storage: Storage) -> bool:
        return storage.dialect == "postgresql"

    def __repr__(self) -> str:
        return f"<FleetStore {self.storage!r}>"

    async def close(self) -> None:
        await self._locks.dispose()

    # -- updates: the durable inbox ---------------------------------------------------------

    async def accept_update(
        self, update_id: int, telegram_id: int | None, body: str, holder: str
    ) -> bool:
        """Commit a delivered update to the inbox (its body encrypted), held by ``holder``:
        False if any instance got it already (a duplicate). Committed before the webhook
        answers 200, so a holder that dies leaves it to :meth:`reclaim_updates`."""
        statement = (
            postgresql.insert(processed_updates)
            .values(
                update_id=update_id,
                telegram_id=telegram_id,
                received_at=time.time(),
                holder=holder,
                body=self.storage.cipher.encrypt(body),
            )
            .on_conflict_do_nothing(index_elements=["update_id"])
            .returning(processed_updates.c.update_id)
        )
        async with self._engine.begin() as connection:
            return (await connection.execute(statement)).first() is not None

    async def take_update(self, update_id: int, telegram_id: int | None, holder: str) -> bool:
        """Whether ``holder`` is to process the update now: one it accepted or reclaimed and
        nobody finished, or (polling: no inbox) a new one, recorded here. False for a
        duplicate, a finished update, or one another instance holds."""
        insert = postgresql.insert(processed_updates).values(
            update_id=update_id, telegram_id=telegram_id, received_at=time.time(), holder=holder
        )
        statement = insert.on_conflict_do_update(
            index_elements=["update_id"],
            set_={"holder": insert.excluded.holder},
            where=(processed_updates.c.holder == insert.excluded.holder)
            & processed_updates.c.done.is_(False),
        ).returning(processed_updates.c.update_id)
        async with self._engine.begin() as connection:
            return (await connection.execute(statement)).first() is not None

    async def still_mine(self, update_id: int, holder: str) -> bool:
        """Under the user's lock: the update is still unfinished and ``holder``'s (another
        instance may have taken it over, and finished it, while this one was stalled)."""
        async with self._engine.connect() as connection:
            row = (
                await connection.execute(
                    select(processed_updates.c.update_id).where(
                        processed_updates.c.update_id == update_id,
                        processed_updates.c.holder == holder,
                        processed_updates.c.done.is_(False),
                    )
                )
            ).first()
        return row is not None

    async def reclaim_updates(
        self,
        holder: str,
        *,
        telegram_id: int | None = None,
        before: int | None = None,
        limit: int = 200,
    ) -> list[tuple[int, str]]:
        """Take over unfinished inbox updates whose holder is dead (its ``instance:`` lease
        expired): ``(update_id, body)`` in arrival order. ``telegram_id``/``before``: only
        that user's, earlier than update ``before``. Rows are claimed with ``SKIP LOCKED``, so
        of two instances reclaiming at once each update goes to one."""
        conditions = ""
        params: dict[str, Any] = {"holder": holder, "limit": limit}
        if telegram_id is not None:
            conditions += " AND p.telegram_id = :user"
            params["user"] = telegram_id
        if before is not None:
            conditions += " AND p.update_id < :before"
            params["before"] = before
        statement = text(
            f"""
            UPDATE processed_updates SET holder = :holder
             WHERE update_id IN (
                SELECT p.update_id FROM processed_updates p
                 WHERE NOT p.done AND p.body IS NOT NULL{conditions}
                   AND (p.holder IS NULL OR NOT EXISTS (
                        SELECT 1 FROM leases l
                         WHERE l.name = 'instance:' || p.holder AND l.expires_at >= {_NOW}))
                 ORDER BY p.update_id LIMIT :limit
                 FOR UPDATE OF p SKIP LOCKED)
            RETURNING update_id, body
            """
        )
        async with self._engine.begin() as connection:
            rows = (await connection.execute(statement, params)).all()
        return await self._readable(rows)

    async def held_updates(self, holder: str) -> list[tuple[int, str]]:
        """The unfinished inbox updates ``holder`` holds (a restart under the same name)."""
        async with self._engine.connect() as connection:
            rows = (
                await connection.execute(
                    select(processed_updates.c.update_id, processed_updates.c.body)
                    .where(
                        processed_updates.c.holder == holder,
                        processed_updates.c.done.is_(False),
                        processed_updates.c.body.is_not(None),
                    )
                    .order_by(processed_updates.c.update_id)
                )
            ).all()
        return await self._readable(rows)

    async def _readable(self, rows: Iterable[Any]) -> list[tuple[int, str]]:
        taken = []
        for update_id, body in sorted(rows):
            plain = self.storage.cipher.decrypt(bytes(body))
            if plain is None:  # another storage key: it can never be read here
                await self.update_done(int(update_id))
                continue
            taken.append((int(update_id), plain))
        return taken

    async def update_done(self, update_id: int) -> None:
        """The finished mark: never processed again (and its body dropped)."""
        async with self._engine.begin() as connection:
            await connection.execute(
                update(processed_updates)
                .where(processed_updates.c.update_id == update_id)
                .values(done=True, body=None)
            )

    async def prune_updates(self, older_than: float = PRUNE_AFTER) -> int:
        async with self._engine.begin() as connection:
            result = await connection.execute(
                delete(processed_updates).where(
                    processed_updates.c.received_at < time.time() - older_than
                )
            )
        return int(result.rowcount or 0)

    @asynccontextmanager
    async def user_turn(self, telegram_id: int, update_id: int | None) -> AsyncIterator[None]:
        """Hold the user's fleet-wide lock for the body; earlier updates of theirs (by update
        id, unfinished on a live instance, for at most :data:`ORDER_WAIT` s) go first (those
        of a dead instance are the caller's to reclaim: :meth:`reclaim_updates`).

        The lock lives on a connection of its own: if this instance dies, PostgreSQL ends the
        session and the lock with it. Cancellation releases it.
        """
        async with self._lock_slots:
            deadline = time.monotonic() + ORDER_WAIT
            while True:
                connection = await self._locks.connect()
                try:
                    await connection.execute(
                        text("SELECT pg_advisory_lock(:key)"), {"key": telegram_id}
                    )
                    await connection.commit()
                    if update_id is None or time.monotonic() > deadline:
                        break
                    if not await self._earlier_pending(connection, telegram_id, update_id):
                        break
                except BaseException:
                    await connection.invalidate()  # the session ends: so does its lock
                    await connection.close()
                    raise
                await self._unlock(connection, telegram_id)
                await asyncio.sleep(0.02)
            try:
                yield
            finally:
                await self._unlock(connection, telegram_id)

    async def _earlier_pending(self, connection: Any, telegram_id: int, update_id: int) -> bool:
        found = (
            await connection.execute(
                select(processed_updates.c.update_id)
                .where(
                    processed_updates.c.telegram_id == telegram_id,
                    processed_updates.c.update_id < update_id,
                    processed_updates.c.done.is_(False),
                    processed_updates.c.received_at > time.time() - STALE_UPDATE,
                    text(
                        "EXISTS (SELECT 1 FROM leases WHERE leases.name = 'instance:' || "
                        f"processed_updates.holder AND leases.expires_at >= {_NOW})"
                    ),
                )
                .limit(1)
            )
        ).first()
        await connection.commit()
        return found is not None

    async def _unlock(self, connection: Any, telegram_id: int) -> None:
        try:
            await asyncio.shield(
                connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": telegram_id})
            )
            await connection.commit()
        except BaseException:
            await connection.invalidate()
            raise
        finally:
            await connection.close()

    # -- users' per-update state ------------------------------------------------------------

    async def load_state(self, telegram_id: int) -> UserState:
        async with self._engine.connect() as connection:
            row = (
                await connection.execute(
                    select(user_state.c.cards, user_state.c.token_until).where(
                        user_state.c.telegram_id == telegram_id
                    )
                )
            ).first()
        return UserState() if row is None else UserState(row.cards, row.token_until)

    async def save_state(self, telegram_id: int, state: UserState) -> None:
        values = {"cards": state.cards, "token_until": state.token_until}
        async with self._engine.begin() as connection:
            await connection.execute(
                postgresql.insert(users)
                .values(telegram_id=telegram_id, created_at=time.time())
                .on_conflict_do_nothing(index_elements=["telegram_id"])
            )
            await connection.execute(
                postgresql.insert(user_state)
                .values(telegram_id=telegram_id, **values)
                .on_conflict_do_update(index_elements=["telegram_id"], set_=values)
            )

    # -- pending orders ---------------------------------------------------------------------

    async def put_orders(self, telegram_id: int, orders: Mapping[str, tuple[float, Any]]) -> None:
        """Store the user's pending orders (``nonce -> (expires_at epoch, order JSON)``);
        rows already there are updated, none is resurrected once consumed elsewhere (a
        consumed order's expiry has passed or its nonce is never reused)."""
        if not orders:
            return
        rows = [
            {"nonce": nonce, "telegram_id": telegram_id, "expires_at": expires, "order": body}
            for nonce, (expires, body) in orders.items()
        ]
        statement = postgresql.insert(pending_orders)
        statement = statement.on_conflict_do_update(
            index_elements=["nonce"],
            set_={"order": statement.excluded.order, "expires_at": statement.excluded.expires_at},
            where=pending_orders.c.claimed_by.is_(None),  # a consumed order stays consumed
        )
        async with self._engine.begin() as connection:
            await connection.execute(statement, rows)

    async def orders_of(self, telegram_id: int) -> dict[str, tuple[float, Any]]:
        async with self._engine.connect() as connection:
            rows = await connection.execute(
                select(pending_orders).where(
                    pending_orders.c.telegram_id == telegram_id,
                    pending_orders.c.expires_at > time.time(),
                    pending_orders.c.claimed_by.is_(None),
                )
            )
            return {row.nonce: (row.expires_at, row.order) for row in rows}

    async def claim_order(self, nonce: str, telegram_id: int, holder: str = "") -> Any | None:
        """Consume the user's unexpired order (one conditional ``UPDATE ... RETURNING``, which
        marks it claimed by ``holder``): its JSON, or None when it is not theirs, expired, or
        consumed already (by any instance). The row stays, as a tombstone: see
        :meth:`consumed_order`."""
        statement = (
            update(pending_orders)
            .where(
                pending_orders.c.nonce == nonce,
                pending_orders.c.telegram_id == telegram_id,
                pending_orders.c.expires_at > time.time(),
                pending_orders.c.claimed_by.is_(None),
            )
            .values(claimed_by=holder, claimed_at=time.time())
            .returning(pending_orders.c.order)
        )
        async with self._engine.begin() as connection:
            row = (await connection.execute(statement)).first()
        return None if row is None else row[0]

    async def consumed_order(self, nonce: str, telegram_id: int) -> ConsumedOrder | None:
        """The user's order ``nonce`` as its claim left it (None if no Confirm consumed it:
        pending, expired, cancelled, or long gone), and whether its claimer is alive (its
        ``instance:`` lease unexpired)."""
        statement = text(
            f"""
            SELECT p.nonce, p.telegram_id, p."order", p.claimed_by, p.claimed_at, p.sent_at,
                   p.outcome,
                   EXISTS (SELECT 1 FROM leases l WHERE l.name = 'instance:' || p.claimed_by
                            AND l.expires_at >= {_NOW}) AS alive
              FROM pending_orders p
             WHERE p.nonce = :nonce AND p.telegram_id = :user AND p.claimed_by IS NOT NULL
            """
        )
        async with self._engine.connect() as connection:
            params = {"nonce": nonce, "user": telegram_id}
            row = (await connection.execute(statement, params)).first()
        if row is None:
            return None
        return consumed_from(row, alive=bool(row.alive))

    async def drop_order(self, nonce: str) -> Any | None:
        """Consume an order whoever owns it, expired or not (its time ran out), unless a
        Confirm consumed it first."""
        statement = (
            delete(pending_orders)
            .where(pending_orders.c.nonce == nonce, pending_orders.c.claimed_by.is_(None))
            .returning(pending_orders.c.order)
        )
        async with self._engine.begin() as connection:
            row = (await connection.execute(statement)).first()
        return None if row is None else row[0]

    async def drop_orders_except(self, telegram_id: int, keep: Iterable[str]) -> int:
        """Consume every order of the user but ``keep`` (those the user cancelled, /stop);
        the tombstones of confirmed ones stay."""
        kept = list(keep)
        statement = delete(pending_orders).where(
            pending_orders.c.telegram_id == telegram_id, pending_orders.c.claimed_by.is_(None)
        )
        if kept:
            statement = statement.where(pending_orders.c.nonce.not_in(kept))
        async with self._engine.begin() as connection:
            result = await connection.execute(statement)
        return int(result.rowcount or 0)

    # -- leases -----------------------------------------------------------------------------

    async def acquire(self, name: str, holder: str, ttl: float) -> bool:
        """Take the lease if it is free or expired (or renew it if ``holder`` has it)."""
        return name in await self.acquire_many([name], holder, ttl)

    async def acquire_many(self, names: Iterable[str], holder: str, ttl: float) -> set[str]:
        """:meth:`acquire` for many leases in one statement; returns those now held. Rows are
        locked in name order, so two instances taking overlapping sets never deadlock."""
        wanted = sorted(set(names))
        if not wanted:
            return set()
        statement = text(
            f"""
            INSERT INTO leases (name, holder, expires_at, acquired_at)
            SELECT wanted.name, :holder, {_NOW} + :ttl, {_NOW}
              FROM unnest(CAST(:names AS VARCHAR[])) WITH ORDINALITY AS wanted(name, position)
             ORDER BY wanted.position
            ON CONFLICT (name) DO UPDATE
              SET holder = EXCLUDED.holder, expires_at = EXCLUDED.expires_at,
                  acquired_at = CASE WHEN leases.holder = EXCLUDED.holder
                                     THEN leases.acquired_at ELSE EXCLUDED.acquired_at END
              WHERE leases.expires_at < {_NOW} OR leases.holder = EXCLUDED.holder
            RETURNING name
            """
        )
        async with self._engine.begin() as connection:
            rows = await connection.execute(
                statement, {"names": wanted, "holder": holder, "ttl": ttl}
            )
            return {str(row[0]) for row in rows}

    async def renew(self, holder: str, ttl: float) -> set[str]:
        """Extend every unexpired lease of ``holder``; returns the names still held (a lease
        that expired first may be another instance's now: its duty must stop)."""
        statement = text(
            f"UPDATE leases SET expires_at = {_NOW} + :ttl "
            f"WHERE holder = :holder AND expires_at >= {_NOW} RETURNING name"
        )
        async with self._engine.begin() as connection:
            rows = await connection.execute(statement, {"holder": holder, "ttl": ttl})
            return {str(row[0]) for row in rows}

    async def release(self, name: str, holder: str) -> None:
        async with self._engine.begin() as connection:
            await connection.execute(
                text("DELETE FROM leases WHERE name = :name AND holder = :holder"),
                {"name": name, "holder": holder},
            )

    async def release_all(self, holder: str) -> None:
        async with self._engine.begin() as connection:
            await connection.execute(
                text("DELETE FROM leases WHERE holder = :holder"), {"holder": holder}
            )

    async def holders(self, prefix: str) -> dict[str, str]:
        """Every unexpired lease whose name starts with ``prefix``: name -> holder."""
        async with self._engine.connect() as connection:
            rows = await connection.execute(
                text(
                    f"SELECT name, holder FROM leases WHERE name LIKE :prefix "
                    f"AND expires_at >= {_NOW}"
                ),
                {"prefix": prefix.replace("%", r"\%") + "%"},
            )
            return {str(row[0]): str(row[1]) for row in rows}

    # -- Deriv connection slots --------------------------------------------------------------

    async def open_slot(self, telegram_id: int, holder: str, cap: int, ttl: float) -> bool:
        """A Deriv connection slot of the user for ``holder``: False when ``cap`` instances
        hold one already. The user's slots are counted under a transaction lock, so two
        instances cannot both take the last one."""
        name = f"conn:{telegram_id}:{holder}"
        async with self._engine.begin() as connection:
            await connection.execute(
                text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": f"conn:{telegram_id}"}
            )
            others = (
                await connection.execute(
                    text(
                        f"SELECT count(*) FROM leases WHERE name LIKE :prefix "
                        f"AND holder <> :holder AND expires_at >= {_NOW}"
                    ),
                    {"prefix": f"conn:{telegram_id}:%", "holder": holder},
                )
            ).scalar_one()
            if int(others) >= cap:
                return False
            await connection.execute(
                text(
                    f"""
                    INSERT INTO leases (name, holder, expires_at, acquired_at)
                    VALUES (:name, :holder, {_NOW} + :ttl, {_NOW})
                    ON CONFLICT (name) DO UPDATE
                      SET holder = EXCLUDED.holder, expires_at = EXCLUDED.expires_at
                    """
                ),
                {"name": name, "holder": holder, "ttl": ttl},
            )
        return True

    async def close_slot(self, telegram_id: int, holder: str) -> None:
        await self.release(f"conn:{telegram_id}:{holder}", holder)
