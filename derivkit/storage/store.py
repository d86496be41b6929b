"""The storage: users (with encrypted tokens), notification levels, alerts and the trade journal.

One :class:`Storage` over an SQLAlchemy async engine. SQLite (through aiosqlite) is the embedded
default; PostgreSQL (``postgresql://...``, through asyncpg) serves a fleet of bot instances with
the same code and the same Alembic migrations (:meth:`Storage.open` upgrades the schema to the
newest revision; instances starting at once on PostgreSQL migrate one after another). Only
SQLAlchemy Core and portable types are used; rows two instances may create at once are inserted
with ``ON CONFLICT`` (both dialects have it).

Concurrency: every method is a coroutine running one short transaction; any number may run at
once from one event loop (SQLite serializes the writes). Tokens are encrypted with the
:class:`~derivkit.storage.crypto.TokenCipher` before they reach the database and decrypted only
by :meth:`Storage.token_of`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from sqlalchemy import Table, delete, event, insert, or_, select, text, update
from sqlalchemy.engine import Connection, Row
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import AsyncAdaptedQueuePool
from sqlalchemy.sql.dml import Update

from derivkit.storage.crypto import TokenCipher
from derivkit.storage.records import (
    NOTIFICATION_EVENTS,
    NOTIFICATION_LEVELS,
    AlertRecord,
    ConnectedAccount,
    JournalEntry,
    JournalStatus,
    NewAlert,
    NewTrade,
    UserRecord,
)
from derivkit.storage.schema import alerts, journal, notification_settings, users

__all__ = ["DATABASE_FILE", "Storage", "alert_firing", "default_url"]

DATABASE_FILE = "derivkit.db"
_UNSET: Any = object()


def default_url(directory: Path) -> str:
    """The embedded SQLite database in ``directory`` (the data dir)."""
    return f"sqlite+aiosqlite:///{directory / DATABASE_FILE}"


def _async_url(url: str) -> str:
    """A plain URL gets its async driver: ``sqlite:///x.db`` -> ``sqlite+aiosqlite:///x.db``,
    ``postgresql://...`` (or ``postgres://``) -> ``postgresql+asyncpg://...``; a URL naming
    its driver is used as given."""
    if url.startswith("sqlite://"):
        return "sqlite+aiosqlite://" + url.removeprefix("sqlite://")
    for plain in ("postgresql://", "postgres://"):
        if url.startswith(plain):
            return "postgresql+asyncpg://" + url.removeprefix(plain)
    return url


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


#: The advisory lock (an arbitrary 64-bit key) that makes instances starting at once migrate one
#: after another on PostgreSQL.
MIGRATION_LOCK = 0x6465_7269_766B_0001


def _upgrade(connection: Connection) -> None:
    from alembic import command
    from alembic.config import Config

    if connection.dialect.name == "postgresql":  # held until this transaction ends
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})

    config = Config()
    config.set_main_option("script_location", "derivkit.storage:migrations")
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


def alert_firing(
    alert_id: int, at: float, *, active: bool, reference: float | None = None
) -> Update:
    """The conditional ``UPDATE`` that records an alert's firing (see
    :meth:`Storage.alert_fired`): it matches no row once the alert is no longer active."""
    values: dict[str, Any] = {"last_fired_at": at, "active": active}
    if reference is not None:
        values["reference"] = reference
    return update(alerts).where(alerts.c.id == alert_id, alerts.c.active.is_(True)).values(values)


class Storage:
    """Async access to derivkit's database. Open with :meth:`open`, end with :meth:`close`."""

    def __init__(
        self,
        engine: AsyncEngine,
        cipher: TokenCipher,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._engine = engine
        self._cipher = cipher
        self._clock = clock

    def __repr__(self) -> str:
        return f"<Storage {self._engine.url.render_as_string(hide_password=True)}>"

    @classmethod
    async def open(
        cls,
        url: str,
        cipher: TokenCipher,
        *,
        clock: Callable[[], float] = time.time,
        pool_size: int = 10,
    ) -> Storage:
        """Connect and migrate the schema to the newest revision (creating the file if new).

        ``pool_size``: PostgreSQL connections kept open (as many again may be opened at peaks).
        """
        url = _async_url(url)
        if url.startswith("sqlite+aiosqlite:///"):
            path = url.removeprefix("sqlite+aiosqlite:///")
            if path and path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        if url.startswith("sqlite"):
            # SQLite runs one writer at a time anyway: two connections (each a thread with its
            # own page cache under aiosqlite) serve any number of concurrent callers.
            engine = create_async_engine(
                url,
                poolclass=AsyncAdaptedQueuePool,  # explicit: older SQLAlchemy picks NullPool
                pool_size=2,
                max_overflow=0,
                pool_timeout=60,
            )
        else:
            # PostgreSQL: a pool per instance; pre-ping so a restarted server costs no error.
            engine = create_async_engine(
                url,
                pool_size=pool_size,
                max_overflow=pool_size,
                pool_pre_ping=True,
                connect_args={"server_settings": dict(DEAD_PEER_SETTINGS)},
            )
        if engine.dialect.name == "sqlite":
            event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        try:
            async with engine.begin() as connection:
                await connection.run_sync(_upgrade)
        except BaseException:
            await engine.dispose()
            raise
        return cls(engine, cipher, clock)

    async def close(self) -> None:
        await self._engine.dispose()

    @property
    def cipher(self) -> TokenCipher:
        """The storage key's cipher (also for other secrets at rest: a fleet's inbox)."""
        return self._cipher

    @property
    def dialect(self) -> str:
        """``"sqlite"`` or ``"postgresql"`` (or another SQLAlchemy dialect's name)."""
        return str(self._engine.dialect.name)

    @property
    def engine(self) -> AsyncEngine:
        return self._engine

    def _insert_new(self, table: Table, keys: list[str]) -> Any:
        """``INSERT`` that does nothing when a row with the same ``keys`` exists (two
        instances creating the same row at once both succeed)."""
        return self._dialect_insert(table).on_conflict_do_nothing(index_elements=keys)

    def _upsert(self, table: Table, keys: list[str], changes: Mapping[str, Any]) -> Any:
        """``INSERT`` that updates ``changes`` when a row with the same ``keys`` exists."""
        return self._dialect_insert(table).on_conflict_do_update(index_elements=keys, set_=changes)

    def _dialect_insert(self, table: Table) -> Any:
        if self.dialect == "postgresql":
            from sqlalchemy.dialects import postgresql

            return postgresql.insert(table)
        if self.dialect == "sqlite":
            from sqlalchemy.dialects import sqlite

            return sqlite.insert(table)
        raise NotImplementedError(f"no upsert for {self.dialect}")

    async def __aenter__(self) -> Storage:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def schema_revision(self) -> str | None:
        """The Alembic revision the database is at."""
        async with self._engine.connect() as connection:
            row = (
                await connection.execute(text("SELECT version_num FROM alembic_version"))
            ).first()
        return None if row is None else str(row[0])

    # -- users ---------------------------------------------------------------------------

    async def get_user(self, telegram_id: int) -> UserRecord | None:
        async with self._engine.connect() as connection:
            row = (
                await connection.execute(select(users).where(users.c.telegram_id == telegram_id))
            ).first()
        return None if row is None else _user(row)

    async def ensure_user(self, telegram_id: int) -> UserRecord:
        """The user's record, created (role ``user``, nothing connected) if new."""
        found = await self.get_user(telegram_id)
        if found is not None:
            return found
        async with self._engine.begin() as connection:
            await connection.execute(
                self._insert_new(users, ["telegram_id"]).values(
                    telegram_id=telegram_id, created_at=self._clock()
                )
            )
        user = await self.get_user(telegram_id)
        assert user is not None
        return user

    async def users_with_tokens(self) -> list[UserRecord]:
        async with self._engine.connect() as connection:
            rows = await connection.execute(
                select(users)
                .where(users.c.token_ciphertext.is_not(None))
                .order_by(users.c.telegram_id)
            )
            return [_user(row) for row in rows]

    async def store_token(
        self, telegram_id: int, token: str, account: ConnectedAccount
    ) -> UserRecord:
        """Encrypt and keep ``token`` for the user (replacing any earlier one)."""
        await self.ensure_user(telegram_id)
        await self._update_user(
            telegram_id,
            token_ciphertext=self._cipher.encrypt(token),
            loginid=account.loginid,
            is_virtual=account.is_virtual,
            currency=account.currency,
            scopes=" ".join(account.scopes),
            connected_at=self._clock(),
        )
        return await self._user_or_fail(telegram_id)

    async def token_of(self, telegram_id: int) -> str | None:
        """The user's Deriv token in plaintext, or None (none stored, or not readable with
        this key)."""
        async with self._engine.connect() as connection:
            row = (
                await connection.execute(
                    select(users.c.token_ciphertext).where(users.c.telegram_id == telegram_id)
                )
            ).first()
        if row is None or row[0] is None:
            return None
        return self._cipher.decrypt(bytes(row[0]))

    async def forget_token(self, telegram_id: int) -> bool:
        """Wipe the user's token and account; True if one was stored."""
        user = await self.get_user(telegram_id)
        if user is None or not user.has_token:
            return False
        await self._update_user(
            telegram_id,
            token_ciphertext=None,
            loginid=None,
            is_virtual=None,
            currency=None,
            scopes=None,
            connected_at=None,
        )
        return True

    async def set_paused(self, telegram_id: int, paused: bool) -> UserRecord:
        await self.ensure_user(telegram_id)
        await self._update_user(telegram_id, paused=paused)
        return await self._user_or_fail(telegram_id)

    async def set_limits(
        self,
        telegram_id: int,
        *,
        max_stake: float | None = _UNSET,
        max_open: int | None = _UNSET,
        daily_loss: float | None = _UNSET,
    ) -> UserRecord:
        """Set the user's own limits (None clears one; a limit left out is unchanged)."""
        await self.ensure_user(telegram_id)
        values = {
            name: value
            for name, value in (
                ("max_stake", max_stake),
                ("max_open", max_open),
                ("daily_loss", daily_loss),
            )
            if value is not _UNSET
        }
        if values:
            await self._update_user(telegram_id, **values)
        return await self._user_or_fail(telegram_id)

    async def set_role(self, telegram_id: int, role: str) -> UserRecord:
        await self.ensure_user(telegram_id)
        await self._update_user(telegram_id, role=role)
        return await self._user_or_fail(telegram_id)

    async def _update_user(self, telegram_id: int, **values: Any) -> None:
        async with self._engine.begin() as connection:
            await connection.execute(
                update(users).where(users.c.telegram_id == telegram_id).values(**values)
            )

    async def _user_or_fail(self, telegram_id: int) -> UserRecord:
        user = await self.get_user(telegram_id)
        if user is None:
            raise LookupError(f"no user {telegram_id}")
        return user

    # -- notification levels -------------------------------------------------------------

    async def notification_levels(self, telegram_id: int) -> dict[str, str]:
        """Each event's level for the user: stored ones over the defaults."""
        levels = dict(DEFAULT_LEVELS)
        async with self._engine.connect() as connection:
            rows = await connection.execute(
                select(notification_settings.c.event, notification_settings.c.level).where(
                    notification_settings.c.telegram_id == telegram_id
                )
            )
            levels.update({row.event: row.level for row in rows})
        return levels

    async def set_notification(self, telegram_id: int, event_name: str, level: str) -> None:
        if event_name not in NOTIFICATION_EVENTS:
            raise ValueError(f"unknown event {event_name!r}")
        if level not in NOTIFICATION_LEVELS:
            raise ValueError(f"unknown level {level!r}")
        await self.ensure_user(telegram_id)
        table = notification_settings
        upsert = self._upsert(table, ["telegram_id", "event"], {"level": level})
        async with self._engine.begin() as connection:
            await connection.execute(
                upsert.values(telegram_id=telegram_id, event=event_name, level=level)
            )

    # -- alerts --------------------------------------------------------------------------

    async def add_alert(self, alert: NewAlert) -> AlertRecord:
        now = self._clock()
        async with self._engine.begin() as connection:
            result = await connection.execute(
                insert(alerts).values(**_fields(alert), created_at=now, active=True)
            )
            alert_id = _new_id(result)
        found = await self.alert(alert_id)
        assert found is not None
        return found

    async def alert(self, alert_id: int) -> AlertRecord | None:
        async with self._engine.connect() as connection:
            row = (await connection.execute(select(alerts).where(alerts.c.id == alert_id))).first()
        return None if row is None else _alert(row)

    async def active_alerts(self, telegram_id: int | None = None) -> list[AlertRecord]:
        query = select(alerts).where(alerts.c.active.is_(True)).order_by(alerts.c.id)
        if telegram_id is not None:
            query = query.where(alerts.c.telegram_id == telegram_id)
        async with self._engine.connect() as connection:
            return [_alert(row) for row in await connection.execute(query)]

    async def delete_alert(self, alert_id: int, telegram_id: int) -> AlertRecord | None:
        """Remove one of the user's active alerts; None if it is not theirs or gone."""
        async with self._engine.begin() as connection:
            row = (
                await connection.execute(
                    select(alerts).where(
                        alerts.c.id == alert_id,
                        alerts.c.telegram_id == telegram_id,
                        alerts.c.active.is_(True),
                    )
                )
            ).first()
            if row is None:
                return None
            await connection.execute(delete(alerts).where(alerts.c.id == alert_id))
        return _alert(row)

    async def alert_fired(
        self, alert_id: int, at: float, *, active: bool, reference: float | None = None
    ) -> bool:
        """Record a firing: a one-shot alert ends (``active=False``); a repeating one notes the
        time (and a "move" alert its new reference price). One conditional ``UPDATE``: False
        when the alert is no longer active (fired or deleted meanwhile, by any instance), so
        whoever gets True is the one who tells the user."""
        async with self._engine.begin() as connection:
            result = await connection.execute(
                alert_firing(alert_id, at, active=active, reference=reference)
            )
        return bool(result.rowcount)

    async def alert_symbols(self) -> set[str]:
        """The symbols with at least one active alert."""
        async with self._engine.connect() as connection:
            rows = await connection.execute(
                select(alerts.c.symbol).where(alerts.c.active.is_(True)).distinct()
            )
            return {str(row[0]) for row in rows}

    async def symbol_alerts(self, symbols: Iterable[str]) -> list[AlertRecord]:
        """The active alerts on ``symbols``."""
        query = (
            select(alerts)
            .where(alerts.c.active.is_(True), alerts.c.symbol.in_(list(symbols)))
            .order_by(alerts.c.id)
        )
        async with self._engine.connect() as connection:
            return [_alert(row) for row in await connection.execute(query)]

    # -- the trade journal ---------------------------------------------------------------

    async def journal_open(self, trade: NewTrade) -> JournalEntry:
        """Record a buy before it is sent (status ``sending``)."""
        async with self._engine.begin() as connection:
            result = await connection.execute(
                insert(journal).values(
                    **_fields(trade), status="sending", requested_at=self._clock()
                )
            )
            entry_id = _new_id(result)
        return await self._entry_or_fail(entry_id)

    async def journal_bought(self, entry_id: int, receipt: Mapping[str, Any]) -> JournalEntry:
        """The buy went through: ``receipt`` is the ``buy`` reply's payload."""
        await self._update_entry(entry_id, **_bought_values(receipt, self._clock()))
        return await self._entry_or_fail(entry_id)

    async def journal_found(self, entry_id: int, receipt: Mapping[str, Any]) -> JournalEntry:
        """An unknown outcome resolved: the account shows the buy (``receipt``: the purchase as
        a ``buy`` reply's fields). Only an entry still sending or unknown changes (the buy's own
        reply, or another resolver's find, recorded meanwhile, wins); the entry as it now is is
        returned."""
        values = _bought_values(receipt, self._clock())
        async with self._engine.begin() as connection:
            await connection.execute(
                update(journal)
                .where(journal.c.id == entry_id, journal.c.status.in_(["sending", "unknown"]))
                .values(values)
            )
        return await self._entry_or_fail(entry_id)

    async def journal_failed(self, entry_id: int, error: str) -> JournalEntry:
        """Deriv refused the buy: nothing was bought."""
        await self._update_entry(entry_id, status="failed", error=error)
        return await self._entry_or_fail(entry_id)

    async def journal_unknown(self, entry_id: int, error: str) -> JournalEntry:
        """The reply was lost: the buy may or may not have happened."""
        await self._update_entry(entry_id, status="unknown", error=error)
        return await self._entry_or_fail(entry_id)

    async def journal_not_bought(self, entry_id: int, reason: str) -> JournalEntry:
        """An unknown outcome resolved: the account shows no such buy. Only an entry still
        sending or unknown changes (the buy's own reply, recorded meanwhile, wins); the entry
        as it now is is returned."""
        async with self._engine.begin() as connection:
            await connection.execute(
                update(journal)
                .where(journal.c.id == entry_id, journal.c.status.in_(["sending", "unknown"]))
                .values(status="not_bought", error=reason)
            )
        return await self._entry_or_fail(entry_id)

    async def journal_settled(
        self, contract_id: int, *, sell_price: float, profit: float, settled_at: float
    ) -> JournalEntry | None:
        """The contract was sold or expired; None if the journal does not know the contract."""
        entry = await self.journal_for_contract(contract_id)
        if entry is None:
            return None
        if entry.status != "settled":
            await self._update_entry(
                entry.id,
                status="settled",
                sell_price=sell_price,
                profit=profit,
                settled_at=settled_at,
            )
        return await self._entry_or_fail(entry.id)

    async def journal_notified(self, entry_id: int) -> None:
        """The user has been told how the contract settled."""
        await self._update_entry(entry_id, notified=True)

    async def journal_contract_ids(self, loginid: str) -> set[int]:
        """Every contract id the journal knows for the account."""
        async with self._engine.connect() as connection:
            rows = await connection.execute(
                select(journal.c.contract_id).where(
                    journal.c.loginid == loginid, journal.c.contract_id.is_not(None)
                )
            )
            return {int(row[0]) for row in rows}

    async def journal_for_contract(self, contract_id: int) -> JournalEntry | None:
        async with self._engine.connect() as connection:
            row = (
                await connection.execute(
                    select(journal).where(journal.c.contract_id == contract_id).limit(1)
                )
            ).first()
        return None if row is None else _entry(row)

    async def journal_for_order(self, nonce: str) -> JournalEntry | None:
        """The buy the bot's pending order ``nonce`` (a Confirm card) sent, if it got that far."""
        async with self._engine.connect() as connection:
            row = (
                await connection.execute(
                    select(journal).where(journal.c.order_nonce == nonce).limit(1)
                )
            ).first()
        return None if row is None else _entry(row)

    async def journal_entry(self, entry_id: int) -> JournalEntry | None:
        async with self._engine.connect() as connection:
            row = (
                await connection.execute(select(journal).where(journal.c.id == entry_id))
            ).first()
        return None if row is None else _entry(row)

    async def journal_entries(
        self,
        *,
        telegram_id: int | None = None,
        loginid: str | None = None,
        since: float | None = None,
        statuses: Iterable[JournalStatus] | None = None,
        origin: str | None = None,
        strategy: str | None = None,
        run_id: str | None = None,
        limit: int | None = None,
        newest_first: bool = True,
    ) -> list[JournalEntry]:
        """Journal entries matching every filter given, newest first unless told otherwise."""
        query = select(journal)
        if origin is not None:
            query = query.where(journal.c.origin == origin)
        if strategy is not None:
            query = query.where(journal.c.strategy == strategy)
        if run_id is not None:
            query = query.where(journal.c.run_id == run_id)
        if telegram_id is not None:
            query = query.where(journal.c.telegram_id == telegram_id)
        if loginid is not None:
            query = query.where(journal.c.loginid == loginid)
        if since is not None:
            query = query.where(journal.c.requested_at >= since)
        if statuses is not None:
            query = query.where(journal.c.status.in_(list(statuses)))
        order = journal.c.id.desc() if newest_first else journal.c.id.asc()
        query = query.order_by(order)
        if limit is not None:
            query = query.limit(limit)
        async with self._engine.connect() as connection:
            return [_entry(row) for row in await connection.execute(query)]

    async def journal_to_follow(
        self,
        *,
        loginid: str | None = None,
        telegram_id: int | None = None,
        origin: str | None = None,
    ) -> list[JournalEntry]:
        """Entries whose story is not over: sending or unknown outcomes, open contracts, and
        settlements not yet told to the user (what a restart must pick up); ``origin`` "bot"
        leaves out the trades of strategy runs, which their own run follows."""
        query = select(journal).where(
            or_(
                journal.c.status.in_(["sending", "unknown", "bought"]),
                (journal.c.status == "settled") & journal.c.notified.is_(False),
            )
        )
        if loginid is not None:
            query = query.where(journal.c.loginid == loginid)
        if telegram_id is not None:
            query = query.where(journal.c.telegram_id == telegram_id)
        if origin is not None:
            query = query.where(journal.c.origin == origin)
        async with self._engine.connect() as connection:
            return [_entry(row) for row in await connection.execute(query.order_by(journal.c.id))]

    async def users_to_follow(self) -> set[int]:
        """The users whose journal has an unfinished story (see :meth:`journal_to_follow`)."""
        query = (
            select(journal.c.telegram_id)
            .where(
                journal.c.telegram_id.is_not(None),
                or_(
                    journal.c.status.in_(["sending", "unknown", "bought"]),
                    (journal.c.status == "settled") & journal.c.notified.is_(False),
                ),
            )
            .distinct()
        )
        async with self._engine.connect() as connection:
            return {int(row[0]) for row in await connection.execute(query)}

    async def _update_entry(self, entry_id: int, **values: Any) -> None:
        async with self._engine.begin() as connection:
            await connection.execute(update(journal).where(journal.c.id == entry_id).values(values))

    async def _entry_or_fail(self, entry_id: int) -> JournalEntry:
        entry = await self.journal_entry(entry_id)
        if entry is None:
            raise LookupError(f"no journal entry {entry_id}")
        return entry


#: PostgreSQL session settings of every connection: the server probes an idle client socket
#: after 5 s, every 2 s, and gives up after 3 unanswered probes. An instance whose machine dies
#: (or whose network is cut) sends no FIN, and without these the server keeps its sessions (a
#: user's advisory lock, a transaction's row locks on leases) for the kernel's default of over
#: two hours; with them, about 11 s. A killed process on a live machine is seen at once.
DEAD_PEER_SETTINGS = {
    "tcp_keepalives_idle": "5",
    "tcp_keepalives_interval": "2",
    "tcp_keepalives_count": "3",
}

DEFAULT_LEVELS = {"settlement": "on", "alert": "on", "connection": "off"}


def _fields(record: object) -> dict[str, Any]:
    from dataclasses import asdict

    return asdict(record)  # type: ignore[call-overload,no-any-return]


def _bought_values(receipt: Mapping[str, Any], now: float) -> dict[str, Any]:
    """A journal entry's columns for a buy that happened (``receipt``: a ``buy`` reply)."""
    return {
        "status": "bought",
        "contract_id": _int(receipt.get("contract_id")),
        "transaction_id": _int(receipt.get("transaction_id")),
        "buy_price": _float(receipt.get("buy_price")),
        "payout": _float(receipt.get("payout")),
        "reply": dict(receipt),
        "bought_at": _float(receipt.get("purchase_time")) or now,
        "error": None,
    }


def _new_id(result: Any) -> int:
    """The primary key an INSERT made."""
    return int(result.inserted_primary_key[0])


def _int(value: Any) -> int | None:
    try:
        return None if value is None else int(value)
    except (TypeError, ValueError):
        return None


def _float(value: Any) -> float | None:
    try:
        return None if value is None else float(value)
    except (TypeError, ValueError):
        return None


def _user(row: Row[Any]) -> UserRecord:
    data = row._mapping
    account = None
    if data["token_ciphertext"] is not None:
        account = ConnectedAccount(
            loginid=data["loginid"] or "",
            is_virtual=bool(data["is_virtual"]),
            currency=data["currency"] or "",
            scopes=tuple((data["scopes"] or "").split()),
        )
    return UserRecord(
        telegram_id=int(data["telegram_id"]),
        role=data["role"],
        created_at=float(data["created_at"]),
        account=account,
        connected_at=data["connected_at"],
        paused=bool(data["paused"]),
        max_stake=data["max_stake"],
        max_open=data["max_open"],
        daily_loss=data["daily_loss"],
        settings=dict(data["settings"] or {}),
    )


def _alert(row: Row[Any]) -> AlertRecord:
    data = dict(row._mapping)
    data["repeat"] = bool(data["repeat"])
    data["active"] = bool(data["active"])
    return AlertRecord(**data)


def _entry(row: Row[Any]) -> JournalEntry:
    data = dict(row._mapping)
    data["is_virtual"] = bool(data["is_virtual"])
    data["notified"] = bool(data["notified"])
    return JournalEntry(**data)
