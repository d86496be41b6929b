"""Users' authorized Deriv connections: one per account, opened lazily, closed when idle.

In multi-user mode each connected Telegram user gets their own :class:`AccountSession` (one
authorized :class:`~derivkit.core.DerivClient`, its own rate budget), opened on first use from
the encrypted token in the storage, closed after ``idle`` seconds without use unless it follows
open contracts, and never more than ``max_sessions`` at once (the least recently used idle one
makes room). In personal mode every allowed user shares the owner's one session, which the bot
does not own and never closes.

Each session follows its account: a ``transaction`` stream tells it of every buy (whoever made
it) and each open contract is watched to settlement (:class:`ContractWatchers`).

New connections, and reconnects after an outage, are spread by one :class:`ConnectSchedule`: at
most ``rate`` a second with jitter, so a dropped link does not make hundreds of sessions hit
Deriv in the same instant. In a fleet each user's connections across every instance stay under
a cap: an instance takes one of the user's slots (a lease in PostgreSQL) before it connects for
them and frees it when their session closes. Use from the bot's event loop;
:meth:`AccountSessions.close` closes every session it owns.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any

from derivkit.bot.watchers import ContractWatchers
from derivkit.coalesce import Coalescer
from derivkit.core import (
    AccountInfo,
    DerivClient,
    DerivError,
    InvalidToken,
    OpenContract,
    RetryPolicy,
    Transaction,
)
from derivkit.storage import Storage

__all__ = [
    "AccountSession",
    "AccountSessions",
    "AtCapacity",
    "ConnectSchedule",
    "NotConnected",
    "StaggeredRetry",
    "TokenRefused",
]

logger = logging.getLogger("derivkit.bot.sessions")

OWNER = 0  # the personal-mode session's key


class NotConnected(Exception):
    """The user has not connected a Deriv account (``/connect``)."""


class TokenRefused(Exception):
    """Deriv refused the user's stored token (revoked?); it has been wiped."""


class AtCapacity(Exception):
    """Every session slot is in use by accounts with open contracts."""


class ConnectSchedule:
    """Slots for new connections: at most ``rate`` per second, each a little jittered.

    :meth:`reserve` books the next free slot and says how long to wait for it. Synchronous, so
    it can also serve the core's reconnect backoff (:class:`StaggeredRetry`).
    """

    def __init__(
        self,
        rate: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        rng: Callable[[], float] = random.random,
    ) -> None:
        if not rate > 0:
            raise ValueError("rate must be positive")
        self.gap = 1.0 / rate
        self._clock = clock
        self._rng = rng
        self._next = 0.0

    def reserve(self) -> float:
        now = self._clock()
        slot = max(now, self._next)
        self._next = slot + self.gap
        return slot - now + self.gap * self._rng()


@dataclass(frozen=True, slots=True)
class StaggeredRetry(RetryPolicy):
    """The core's reconnect backoff, each attempt also waiting for a :class:`ConnectSchedule`
    slot shared by every session."""

    schedule: ConnectSchedule | None = None

    def reconnect_delays(self) -> Iterator[float]:
        for delay in RetryPolicy.reconnect_delays(self):
            slot = self.schedule.reserve() if self.schedule is not None else 0.0
            yield max(delay, slot)


class AccountSession:
    """One account's connection, the contracts it follows, and when it was last used."""

    def __init__(
        self,
        key: int,
        client: DerivClient,
        on_settled: Callable[[AccountSession, OpenContract], Awaitable[None]],
        *,
        owned: bool,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.key = key
        self.client = client
        self.owned = owned
        self._clock = clock
        self.last_used = clock()
        self.pins = 0  # background work (an outcome being resolved) keeps the session open
        self.watchers = ContractWatchers(client, lambda contract: on_settled(self, contract))
        self._transactions: asyncio.Task[None] | None = None
        self.following = asyncio.Event()  # set once the transaction stream and portfolio are read

    def __repr__(self) -> str:
        return f"<AccountSession {self.key} {self.loginid} {self.client.state}>"

    @property
    def account(self) -> AccountInfo | None:
        return self.client.account

    @property
    def loginid(self) -> str:
        return self.account.loginid if self.account else ""

    @property
    def currency(self) -> str:
        account = self.account
        return account.currency if account and account.currency else "USD"

    @property
    def real_money(self) -> bool:
        return self.account is not None and not self.account.is_virtual

    @property
    def idle_since(self) -> float:
        return self.last_used

    def touch(self) -> None:
        self.last_used = self._clock()

    @property
    def evictable(self) -> bool:
        return self.owned and not len(self.watchers) and not self.pins

    def start_following(self) -> None:
        if self._transactions is None:
            self._transactions = asyncio.create_task(
                self._follow(), name=f"transactions-{self.key}"
            )

    async def _follow(self) -> None:
        """Watch every open contract now, and every one bought from now on."""
        try:
            async with await self.client.transactions() as stream:
                for contract in await self.client.portfolio():
                    self.watchers.watch(contract.contract_id, contract.buy_price)
                self.following.set()
                async for transaction in stream:
                    self._on_transaction(transaction)
        except DerivError as error:
            logger.warning("account %s: transaction stream ended: %s", self.key, error)
        except Exception:
            logger.exception("account %s: following transactions failed", self.key)
        finally:
            self.following.set()

    def _on_transaction(self, transaction: Transaction) -> None:
        if transaction.action == "buy" and transaction.contract_id:
            self.watchers.watch(transaction.contract_id, abs(transaction.amount))

    async def close(self) -> None:
        """Stop following (and close the connection if the session owns it)."""
        if self._transactions is not None:
            self._transactions.cancel()
            await asyncio.gather(self._transactions, return_exceptions=True)
        await self.watchers.close()
        if self.owned:
            await self.client.close()


SessionHook = Callable[[AccountSession], Awaitable[None]]
SettledHook = Callable[[AccountSession, OpenContract], Awaitable[None]]


class AccountSessions:
    """Every open :class:`AccountSession`, by Telegram user id (see the module docstring)."""

    def __init__(
        self,
        storage: Storage,
        *,
        endpoint: str | None,
        app_id: int,
        on_settled: SettledHook,
        on_open: SessionHook | None = None,
        on_state: Callable[[int, str], None] | None = None,
        owner_client: DerivClient | None = None,
        idle: float = 600.0,
        max_sessions: int = 1000,
        connect_rate: float = 20.0,
        request_timeout: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.storage = storage
        self.endpoint = endpoint
        self.app_id = app_id
        self.idle = idle
        self.max_sessions = max_sessions
        self.request_timeout = request_timeout
        self.schedule = ConnectSchedule(connect_rate)
        self._on_settled = on_settled
        self._on_open = on_open
        self._on_state = on_state
        self._clock = clock
        self._sessions: dict[int, AccountSession] = {}
        self._opening = Coalescer()
        self._sweeper: asyncio.Task[None] | None = None
        self.opened = 0  # connections opened (for tests and benchmarks)
        self.fleet: Any = None  # a Fleet: per-user connection slots across the instances
        self.owner: AccountSession | None = None
        if owner_client is not None:
            self.owner = AccountSession(OWNER, owner_client, on_settled, owned=False, clock=clock)

    @property
    def personal(self) -> bool:
        return self.owner is not None

    def __len__(self) -> int:
        return len(self._sessions) + (1 if self.owner is not None else 0)

    def sessions(self) -> list[AccountSession]:
        found = list(self._sessions.values())
        return [self.owner, *found] if self.owner is not None else found

    def peek(self, user_id: int) -> AccountSession | None:
        """The user's session if it is open now (nothing is opened)."""
        if self.owner is not None:
            return self.owner
        return self._sessions.get(user_id)

    async def start(self) -> None:
        """Start following the owner's account (personal mode) and sweeping idle sessions."""
        if self.owner is not None:
            self.owner.start_following()
            if self._on_open is not None:
                await self._on_open(self.owner)
        if self._sweeper is None:
            self._sweeper = asyncio.create_task(self._sweep_forever(), name="session-sweeper")

    async def get(self, user_id: int) -> AccountSession:
        """The user's session, opened if needed.

        Raises:
            NotConnected: no token stored for the user.
            TokenRefused: Deriv refused the stored token (it has been wiped).
            AtCapacity: no session slot can be freed.
            ConnectionLost, RequestTimeout: Deriv cannot be reached.
        """
        if self.owner is not None:
            self.owner.touch()
            return self.owner
        session = self._sessions.get(user_id)
        if session is not None and session.client.state != "closed":
            session.touch()
            return session
        return await self._opening.run(user_id, lambda: self._open(user_id))

    async def _open(self, user_id: int) -> AccountSession:
        stale = self._sessions.pop(user_id, None)
        if stale is not None:
            await stale.close()
        token = await self.storage.token_of(user_id)
        if token is None:
            raise NotConnected
        try:
            client = await self.connect(token, user_id)
        except InvalidToken:
            await self.storage.forget_token(user_id)
            raise TokenRefused from None
        return await self.adopt(user_id, client)

    async def connect(self, token: str, user_id: int | None = None) -> DerivClient:
        """A new authorized client for ``token``, opened in its schedule slot (``user_id``:
        whose, for the connection notices).

        Raises:
            InvalidToken: Deriv refused the token.
            ConnectionLost: Deriv cannot be reached.
            AtCapacity: the user has as many connections as the fleet allows.
        """
        if (
            self.fleet is not None
            and user_id is not None
            and not await self.fleet.open_slot(user_id)
        ):
            raise AtCapacity
        await asyncio.sleep(self.schedule.reserve())
        client = DerivClient(
            self.endpoint,
            app_id=self.app_id,
            token=token,
            request_timeout=self.request_timeout,
            retry=StaggeredRetry(schedule=self.schedule),
            on_state_change=self._state_hook(user_id),
        )
        await client.connect()
        self.opened += 1
        return client

    def _state_hook(self, user_id: int | None) -> Callable[[str], None] | None:
        hook = self._on_state
        if hook is None or user_id is None:
            return None
        return lambda state: hook(user_id, state)

    async def adopt(self, user_id: int, client: DerivClient) -> AccountSession:
        """Make an authorized client the user's session (closing any earlier one)."""
        old = self._sessions.pop(user_id, None)
        if old is not None:
            await old.close()
        await self._make_room()
        session = AccountSession(user_id, client, self._on_settled, owned=True, clock=self._clock)
        self._sessions[user_id] = session
        session.start_following()
        if self._on_open is not None:
            try:
                await self._on_open(session)
            except Exception:
                logger.exception("resuming the work of account %s failed", user_id)
        return session

    async def _make_room(self) -> None:
        while len(self._sessions) >= self.max_sessions:
            idle = [s for s in self._sessions.values() if s.evictable]
            if not idle:
                raise AtCapacity
            oldest = min(idle, key=lambda s: s.last_used)
            self._sessions.pop(oldest.key, None)
            await oldest.close()
            await self._slot_freed(oldest.key)

    async def drop(self, user_id: int) -> bool:
        """Close the user's session (after /disconnect); True if one was open."""
        session = self._sessions.pop(user_id, None)
        if session is None:
            return False
        await session.close()
        await self._slot_freed(user_id)
        return True

    async def _slot_freed(self, user_id: int) -> None:
        if self.fleet is not None and user_id not in self._sessions:
            await self.fleet.close_slot(user_id)

    def open_users(self) -> set[int]:
        """The users with a session open here."""
        return set(self._sessions)

    async def sweep(self) -> int:
        """Close the sessions idle for longer than ``idle``; returns how many."""
        now = self._clock()
        idle = [s for s in self._sessions.values() if s.evictable and now - s.last_used > self.idle]
        for session in idle:
            if self._sessions.get(session.key) is session:
                del self._sessions[session.key]
            await session.close()
            await self._slot_freed(session.key)
        return len(idle)

    async def _sweep_forever(self) -> None:
        interval = max(1.0, min(self.idle / 4, 30.0))
        while True:
            await asyncio.sleep(interval)
            try:
                await self.sweep()
            except Exception:
                logger.exception("closing idle sessions failed")

    async def close(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper
            self._sweeper = None
        sessions = self.sessions()
        self._sessions.clear()
        await asyncio.gather(*(s.close() for s in sessions), return_exceptions=True)
