"""The notice outbox: notices that must reach users, queued with the change that causes them.

* An alert's firing and its notice are one transaction (:meth:`NoticeStore.alert_fired`): the
  conditional ``UPDATE`` that ends (or re-arms) the alert, then the notice row. Two instances
  firing the same alert queue one notice; a sender that dies after the commit leaves the notice
  to another.
* A settlement's notice likewise (:meth:`NoticeStore.settlement_told`): the journal entry's
  ``notified`` flag is set by a conditional ``UPDATE`` in the transaction that queues it, so
  the entry is marked told in the step that claims it.
* A queued notice is claimed by one sender at a time (``holder``, ``claimed_until``; the
  creator holds it from the start). The sender marks it ``attempted`` just before its
  sendMessage and ``sent`` just after; a claim that runs out (its sender died) is taken by
  :meth:`NoticeStore.claim_due`, with ``UPDATE ... RETURNING`` (and ``SKIP LOCKED`` on
  PostgreSQL), so each notice has one sender at a time.

Times are epoch seconds of each instance's clock (keep the machines' clocks within a few seconds
of each other: a claim lasts 20 s). SQLite and PostgreSQL alike; every method is a coroutine
running one short transaction.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select, update

from derivkit.storage.schema import journal, outbox
from derivkit.storage.store import Storage, alert_firing

__all__ = ["NewNotice", "Notice", "NoticeStore"]


@dataclass(frozen=True)
class NewNotice:
    telegram_id: int
    chat_id: int
    event: str  # a notification event: "settlement", "alert"
    text: str


@dataclass(frozen=True)
class Notice(NewNotice):
    id: int
    #: Set when an earlier sender may have sent it already (it died during its sendMessage).
    attempted_at: float | None = None


def _notice(row: Any) -> Notice:
    return Notice(
        telegram_id=int(row.telegram_id),
        chat_id=int(row.chat_id),
        event=str(row.event),
        text=str(row.text),
        id=int(row.id),
        attempted_at=row.attempted_at,
    )


class NoticeStore:
    """The outbox of one :class:`~derivkit.storage.Storage`."""

    def __init__(self, storage: Storage, *, clock: Any = time.time) -> None:
        self.storage = storage
        self._engine = storage.engine
        self._clock = clock

    def __repr__(self) -> str:
        return f"<NoticeStore {self.storage!r}>"

    async def _queue(
        self, connection: Any, notices: Iterable[NewNotice], holder: str, lease: float
    ) -> list[Notice]:
        now = self._clock()
        queued = []
        for notice in notices:
            row = (
                await connection.execute(
                    insert(outbox)
                    .values(
                        telegram_id=notice.telegram_id,
                        chat_id=notice.chat_id,
                        event=notice.event,
                        text=notice.text,
                        created_at=now,
                        holder=holder,
                        claimed_until=now + lease,
                    )
                    .returning(outbox.c.id)
                )
            ).one()
            queued.append(Notice(**vars(notice), id=int(row[0])))
        return queued

    async def alert_fired(
        self,
        alert_id: int,
        at: float,
        *,
        active: bool,
        reference: float | None,
        notice: NewNotice,
        holder: str,
        lease: float,
    ) -> Notice | None:
        """Record a firing (as :meth:`Storage.alert_fired`) and queue its notice, claimed by
        ``holder``, in one transaction: None when the alert is no longer active (fired or
        deleted meanwhile, by any instance): then nothing is queued."""
        async with self._engine.begin() as connection:
            result = await connection.execute(
                alert_firing(alert_id, at, active=active, reference=reference)
            )
            if not result.rowcount:
                return None
            (queued,) = await self._queue(connection, [notice], holder, lease)
        return queued

    async def settlement_told(
        self, entry_id: int, notices: Iterable[NewNotice], *, holder: str, lease: float
    ) -> list[Notice]:
        """Mark the journal entry told and queue its notices (claimed by ``holder``) in one
        transaction; empty when it was told (queued) already, by any instance."""
        async with self._engine.begin() as connection:
            row = (
                await connection.execute(
                    update(journal)
                    .where(journal.c.id == entry_id, journal.c.notified.is_(False))
                    .values(notified=True)
                    .returning(journal.c.id)
                )
            ).first()
            if row is None:
                return []
            return await self._queue(connection, notices, holder, lease)

    async def claim_due(self, holder: str, lease: float, limit: int = 50) -> list[Notice]:
        """Claim the unsent notices whose claim ran out (their sender died, or a send failed
        and its pause is over), oldest first."""
        now = self._clock()
        due = (
            select(outbox.c.id)
            .where(outbox.c.sent_at.is_(None), outbox.c.claimed_until < now)
            .order_by(outbox.c.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        statement = (
            update(outbox)
            .where(outbox.c.id.in_(due.scalar_subquery()), outbox.c.claimed_until < now)
            .values(holder=holder, claimed_until=now + lease)
            .returning(*outbox.c)
        )
        async with self._engine.begin() as connection:
            rows = (await connection.execute(statement)).all()
        return sorted((_notice(row) for row in rows), key=lambda notice: notice.id)

    async def attempted(self, notice_id: int, holder: str) -> bool:
        """Just before the sendMessage: False if ``holder`` no longer holds the claim."""
        return await self._mark(notice_id, holder, attempted_at=self._clock())

    async def sent(self, notice_id: int, holder: str) -> None:
        """Just after the sendMessage (or when the user does not want it)."""
        await self._mark(notice_id, holder, sent_at=self._clock())

    async def retry_later(self, notice_id: int, holder: str, pause: float) -> None:
        """The send failed: any sender may try again after ``pause`` seconds."""
        await self._mark(notice_id, holder, claimed_until=self._clock() + pause)

    async def _mark(self, notice_id: int, holder: str, **values: Any) -> bool:
        async with self._engine.begin() as connection:
            result = await connection.execute(
                update(outbox)
                .where(
                    outbox.c.id == notice_id,
                    outbox.c.holder == holder,
                    outbox.c.sent_at.is_(None),
                )
                .values(**values)
            )
        return bool(result.rowcount)

    async def unsent(self) -> list[Notice]:
        """Every notice not sent yet (for tests and monitoring)."""
        async with self._engine.connect() as connection:
            rows = await connection.execute(
                select(outbox).where(outbox.c.sent_at.is_(None)).order_by(outbox.c.id)
            )
            return [_notice(row) for row in rows]
