"""Several bot instances behind one load balancer, sharing one PostgreSQL database.

Any instance handles any update (:meth:`Fleet.turn`, wrapped around every update by
:class:`~derivkit.bot.updates.PerUserUpdateProcessor`):

1. the webhook receiver (:mod:`derivkit.bot.inbox`) commits the update, by its Telegram
   update id, to the database before it answers 200 (:meth:`Fleet.accept`: the durable inbox);
   a second delivery (to this or another instance) is dropped. The instance holding an
   unfinished update keeps an ``instance:NAME`` lease alive; when it dies the others take its
   updates over (:meth:`Fleet.reclaim`, every scan) and process them, once: the finished
   mark is written when an update ends, and checked under the user's lock;
2. the user's fleet-wide advisory lock is taken (their earlier updates first: those on a live
   instance are waited for, those a dead one left are taken over and processed here), so one
   user's updates run one at a time across the fleet, in arrival order;
3. what the user's last update left (live buttons, pending orders, "the next message is a
   token", their alerts) is read from the database, and the caches of their record and
   notification levels are dropped;
4. the update runs; then that state is written back and the lock released.

Background duties are leases with heartbeats (:class:`~derivkit.storage.fleet.FleetStore`):
``alerts:SYMBOL`` (the tick stream behind a symbol's alerts) and ``account:USER`` (the
settlement watch of a user's contracts: following them, resolving unknown outcomes, telling
settlements). Every ``scan`` seconds each instance looks for duties nobody holds (a symbol with
active alerts, a user whose journal has an unfinished story) and takes the free ones; every
``heartbeat`` seconds it renews its leases, and stops any duty whose lease it lost. A dead
instance stops renewing: after at most ``ttl`` seconds its leases expire and the next scan of
another instance takes them over. Firing an alert and telling a settlement are also recorded
atomically (a conditional ``UPDATE``, the journal's ``notified``), so a duty that briefly has
two holders still tells once.

Deriv connections: a user's authorized connection lives on the instance serving them (opened on
use, closed when idle), and before connecting the instance takes one of the user's connection
slots (``conn:USER:INSTANCE`` leases, at most ``connection_cap`` per user across the fleet).

Use from the bot's event loop; :meth:`Fleet.close` stops the loops and releases every lease.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import secrets
import socket
import time
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from telegram import Update

from derivkit.storage.fleet import FleetStore, UserState

if TYPE_CHECKING:
    from derivkit.bot.runtime import BotRuntime

__all__ = ["Fleet", "instance_name"]

logger = logging.getLogger("derivkit.bot.fleet")

LEASE_TTL = 9.0
HEARTBEAT = 3.0
SCAN = 1.0
#: A held account duty re-reads the journal this often (a catch-all: a buy made by another
#: instance, an unknown outcome it left).
RESUME_EVERY = 5.0
PRUNE_EVERY = 3600.0
#: How many account duties one instance picks up at once (each may open a Deriv connection).
RESUMING_AT_ONCE = 8


def instance_name() -> str:
    """This instance's name in leases: ``DERIVKIT_BOT_INSTANCE``, else host-pid-random."""
    configured = os.environ.get("DERIVKIT_BOT_INSTANCE", "").strip()
    if configured:
        return configured[:40]
    return f"{socket.gethostname()[:20]}-{os.getpid()}-{secrets.token_hex(3)}"


class Fleet:
    """One instance's part in the fleet; see the module docstring."""

    def __init__(
        self,
        store: FleetStore,
        *,
        instance: str | None = None,
        connection_cap: int = 5,
        ttl: float = LEASE_TTL,
        heartbeat: float = HEARTBEAT,
        scan: float = SCAN,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.instance = instance or instance_name()
        self.connection_cap = connection_cap
        self.ttl = ttl
        self.heartbeat_every = heartbeat
        self.scan_every = scan
        self._wall = wall
        self.held: set[str] = set()
        self.taken_over: dict[str, float] = {}  # lease -> wall time this instance took it
        self._rt: BotRuntime | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._pruned = 0.0
        self._resumed: dict[int, float] = {}  # account duties: when last picked up
        self._resuming: set[int] = set()  # account duties being picked up now
        self._resume_slots = asyncio.Semaphore(RESUMING_AT_ONCE)
        self._duty_tasks: set[asyncio.Task[None]] = set()
        #: The PTB application (updates are queued into it, or processed by it when taken over).
        self.application: Any = None

    def __repr__(self) -> str:
        return f"<Fleet {self.instance} holding {len(self.held)}>"

    # -- lifetime ----------------------------------------------------------------------------

    @property
    def alive(self) -> str:
        """This instance's liveness lease: while it is held, its inbox updates are its own."""
        return f"instance:{self.instance}"

    async def start(self, rt: BotRuntime, application: Any = None) -> None:
        self._rt = rt
        self.application = application
        await self.own(self.alive)
        if application is not None:  # a restart under the same name: its last life's updates
            for update_id, body in await self.store.held_updates(self.instance):
                logger.info("%s resumes update %s", self.instance, update_id)
                await self._queue(body)
        self._tasks = [
            asyncio.create_task(self._every(self.heartbeat_every, self.beat), name="fleet-beat"),
            asyncio.create_task(self._every(self.scan_every, self.scan), name="fleet-scan"),
        ]

    async def close(self) -> None:
        tasks = [*self._tasks, *self._duty_tasks]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._tasks = []
        with contextlib.suppress(Exception):
            await self.store.release_all(self.instance)  # others may take over at once
        self.held.clear()
        await self.store.close()

    async def _every(self, seconds: float, work: Callable[[], Any]) -> None:
        while True:
            try:
                await work()
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("fleet %s failed", getattr(work, "__name__", "work"))
            await asyncio.sleep(seconds)

    # -- updates -----------------------------------------------------------------------------

    async def accept(self, data: dict[str, Any]) -> None:
        """The webhook receiver's step before its 200: commit the update to the inbox, then
        queue it here (a duplicate is dropped). Raises when the database fails (no 200:
        Telegram sends the update again)."""
        application = self.application
        assert application is not None
        update = Update.de_json(data, application.bot)
        user = update.effective_user
        body = json.dumps(data, separators=(",", ":"))
        if not await self.store.accept_update(
            update.update_id, None if user is None else user.id, body, self.instance
        ):
            logger.info("update %s delivered again; dropped", update.update_id)
            return
        await application.update_queue.put(update)

    async def reclaim(self) -> int:
        """Queue here the unfinished updates of dead instances (in arrival order)."""
        application = self.application
        if application is None:
            return 0
        taken = await self.store.reclaim_updates(self.instance)
        for update_id, body in taken:
            logger.info("%s took over update %s", self.instance, update_id)
            await self._queue(body)
        return len(taken)

    async def _queue(self, body: str) -> None:
        application = self.application
        await application.update_queue.put(Update.de_json(json.loads(body), application.bot))

    @asynccontextmanager
    async def turn(self, update: object) -> AsyncIterator[bool]:
        """Around one update: False for a duplicate, or one finished or held elsewhere; else
        the user's lock and state (their earlier updates left by a dead instance run first)."""
        user_id = None
        update_id = None
        if isinstance(update, Update):
            update_id = update.update_id
            if update.effective_user is not None:
                user_id = update.effective_user.id
        if update_id is not None and not await self.store.take_update(
            update_id, user_id, self.instance
        ):
            logger.info("update %s is done or someone else's; dropped", update_id)
            yield False
            return
        if user_id is None:
            try:
                yield True
            finally:
                if update_id is not None:
                    await asyncio.shield(self.store.update_done(update_id))
            return
        async with self.store.user_turn(user_id, update_id):
            if update_id is not None and not await self.store.still_mine(update_id, self.instance):
                yield False  # taken over (and finished) while this instance stalled
                return
            await self._load(user_id)
            if update_id is not None:
                await self._run_earlier(user_id, update_id)
            try:
                yield True
            finally:
                await asyncio.shield(self._save(user_id, update_id))

    async def _run_earlier(self, user_id: int, update_id: int) -> None:
        """Under the user's lock: their unfinished updates before ``update_id`` that a dead
        instance held are taken over and processed first, each marked done."""
        application = self.application
        if application is None:
            return
        earlier = await self.store.reclaim_updates(
            self.instance, telegram_id=user_id, before=update_id
        )
        for earlier_id, body in earlier:
            logger.info("%s took over update %s (before %s)", self.instance, earlier_id, update_id)
            try:
                await application.process_update(Update.de_json(json.loads(body), application.bot))
            except Exception:
                logger.exception("update %s taken over failed", earlier_id)
            await asyncio.shield(self._save(user_id, earlier_id))

    async def _load(self, user_id: int) -> None:
        rt = self._rt
        assert rt is not None
        rt.forget_user(user_id)
        state = await self.store.load_state(user_id)
        rt.buttons.load(user_id, state.cards)
        orders = await self.store.orders_of(user_id)
        rt.orders.load(user_id, orders, lambda card_id: rt.buttons.card_by_id(user_id, card_id))
        until = state.token_until
        if until is not None and until > self._wall():
            rt.awaiting_token[user_id] = time.monotonic() + (until - self._wall())
        else:
            rt.awaiting_token.pop(user_id, None)
        await rt.alerts.load_user(user_id)

    async def _save(self, user_id: int, update_id: int | None) -> None:
        rt = self._rt
        assert rt is not None
        try:
            waiting = rt.awaiting_token.get(user_id)
            token_until = None if waiting is None else self._wall() + waiting - time.monotonic()
            await self.store.save_state(user_id, UserState(rt.buttons.export(user_id), token_until))
            orders = rt.orders.export(user_id)
            await self.store.drop_orders_except(user_id, orders)
            await self.store.put_orders(user_id, orders)
            if update_id is not None:
                await self.store.update_done(update_id)
        except Exception:
            logger.exception("saving the state of user %s failed", user_id)

    # -- leases ------------------------------------------------------------------------------

    def holds(self, name: str) -> bool:
        return name in self.held

    async def own(self, name: str) -> bool:
        """Whether this instance holds the lease, taking it if it is free."""
        if name in self.held:
            return True
        if await self.store.acquire(name, self.instance, self.ttl):
            self.held.add(name)
            self.taken_over[name] = self._wall()
            logger.info("%s took %s", self.instance, name)
            return True
        return False

    async def own_free(self, names: Iterable[str]) -> set[str]:
        """Take every one of ``names`` that is free, in one statement (a takeover of many
        duties costs one round trip); returns those this instance now holds."""
        wanted = set(names) - self.held
        if not wanted:
            return set()
        taken = await self.store.acquire_many(wanted, self.instance, self.ttl)
        now = self._wall()
        for name in sorted(taken):
            self.held.add(name)
            self.taken_over[name] = now
            logger.info("%s took %s", self.instance, name)
        return taken

    async def claim(self, name: str) -> bool:
        """Take a short-lived lease (``tell:ENTRY``) for one piece of work; renewed by the
        heartbeat while held, freed with :meth:`give_up`. False when another instance has it."""
        if await self.store.acquire(name, self.instance, self.ttl):
            self.held.add(name)
            return True
        return False

    def holds_account(self, user_id: int) -> bool:
        return self.holds(f"account:{user_id}")

    async def own_account(self, user_id: int) -> bool:
        return await self.own(f"account:{user_id}")

    async def give_up(self, name: str) -> None:
        self.held.discard(name)
        await self.store.release(name, self.instance)

    async def open_slot(self, user_id: int) -> bool:
        return await self.store.open_slot(user_id, self.instance, self.connection_cap, self.ttl)

    async def close_slot(self, user_id: int) -> None:
        await self.store.close_slot(user_id, self.instance)

    # -- the loops ---------------------------------------------------------------------------

    async def beat(self) -> None:
        """Renew every lease; stop the duties whose lease was lost; free the connection slots
        of users with no session here."""
        rt = self._rt
        assert rt is not None
        before = set(self.held)
        still = await self.store.renew(self.instance, self.ttl)
        open_users = rt.sessions.open_users()
        for name in still:
            if name.startswith("conn:") and int(name.split(":")[1]) not in open_users:
                await self.store.release(name, self.instance)
        duties = {name for name in still if not name.startswith("conn:")}
        for lost in before - duties:
            if lost not in self.held:
                continue  # given up while the renewal ran
            logger.warning("%s lost the lease %s", self.instance, lost)
            self.held.discard(lost)
            if lost == self.alive:  # stalled past its ttl: others may have taken its updates
                await self.own(self.alive)
            if lost.startswith("alerts:"):
                rt.alerts.drop_symbol(lost.removeprefix("alerts:"))
        if self._wall() - self._pruned > PRUNE_EVERY:
            self._pruned = self._wall()
            await self.store.prune_updates()
            await self.store.prune_orders()

    async def scan(self) -> None:
        """Take the updates and duties of dead instances; give up duties with nothing left."""
        await self.reclaim()
        await self._scan_alerts()
        await self._scan_accounts()

    async def _scan_alerts(self) -> None:
        rt = self._rt
        assert rt is not None
        wanted = await rt.storage.alert_symbols()
        taken = {name.removeprefix("alerts:") for name in await self.store.holders("alerts:")}
        await self.own_free(f"alerts:{symbol}" for symbol in wanted if symbol not in taken)
        mine = {name.removeprefix("alerts:") for name in self.held if name.startswith("alerts:")}
        for symbol in mine - wanted:
            rt.alerts.drop_symbol(symbol)
            await self.give_up(f"alerts:{symbol}")
        for symbol in rt.alerts.symbols() - mine:
            rt.alerts.drop_symbol(symbol)
        await rt.alerts.refresh(mine & wanted)

    async def _resume(self, user_id: int) -> None:
        """Pick up the account's unfinished stories (a held ``account:USER`` duty)."""
        rt = self._rt
        assert rt is not None
        try:
            async with self._resume_slots:
                session = await rt.sessions.get(user_id)
                await rt.desk.resume(session)
        except Exception as error:
            logger.warning(
                "account duty of user %s not done now: %s", user_id, type(error).__name__
            )
        finally:
            self._resuming.discard(user_id)

    async def _scan_accounts(self) -> None:
        rt = self._rt
        assert rt is not None
        wanted = await rt.storage.users_to_follow()
        taken = await self.store.holders("account:")
        now = self._wall()
        await self.own_free(f"account:{u}" for u in wanted if f"account:{u}" not in taken)
        for user_id in sorted(wanted):
            if not self.holds_account(user_id):
                continue
            if now - self._resumed.get(user_id, 0.0) < RESUME_EVERY:
                continue
            self._resumed[user_id] = now
            if user_id not in self._resuming:  # in a task: the scan goes on to the next duty
                self._resuming.add(user_id)
                task = asyncio.create_task(self._resume(user_id), name=f"fleet-resume-{user_id}")
                self._duty_tasks.add(task)
                task.add_done_callback(self._duty_tasks.discard)
        for name in [n for n in self.held if n.startswith("account:")]:
            user_id = int(name.removeprefix("account:"))
            if user_id not in wanted:
                self._resumed.pop(user_id, None)
                await self.give_up(name)
