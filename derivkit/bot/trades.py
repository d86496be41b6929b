"""Buying and selling for users, with every outcome journaled and told.

:class:`TradeDesk` sends each buy exactly once, after recording it in the journal; the reply (or
its loss) is recorded too. A buy whose reply was lost (``OutcomeUnknown``, or no reply in time)
is resolved in the background once the account's connection answers again, with the resolver
every front-end shares (:func:`derivkit.purchases.find_purchase`: the account's statement's
matching buy made since the quote, not already journaled). Found, it is journaled, followed to
settlement and reported; not found (twice, a few seconds apart), it is reported as not bought.

Every settlement of a followed contract is journaled and told to the user who bought it (or, for
a contract bought elsewhere, to the account's user) exactly once per process, with what it made
in money (fees included) and, for a product, how it ended (take profit, stop out, knock-out,
deal cancellation); a settlement the bot did not get to tell before it stopped is told after the
restart (:meth:`TradeDesk.resume`).

A multiplier's (or turbos') take profit / stop loss update and a deal cancellation are sent once
too; one whose reply was lost is checked with Deriv (the contract's state) once the link is back,
and the user is told whether it happened.

In a fleet (``fleet`` set) the settlement watch of each user is a leased duty
(``account:USER``): only the lease holder announces a settlement, resolves an unknown outcome
or tells an untold settlement; an instance that sees a settlement while nobody holds the lease
takes it first. The journal's ``notified`` flag and the takeover's :meth:`TradeDesk.resume`
make the new holder finish what a dead one left.

Use from the bot's event loop; background work runs in tasks that :meth:`close` cancels.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable, Coroutine, Iterable, Mapping
from contextlib import asynccontextmanager
from html import escape
from typing import Any

from derivkit.bot.delivery import Delivery
from derivkit.bot.errors import BUY, CANCELLATION, SALE, UPDATE, outcome_unknown, sending_failed
from derivkit.bot.render import (
    bought,
    cancelled,
    resolved_bought,
    settled_entry,
    settlement,
    sold,
    updated,
)
from derivkit.bot.sessions import AccountSession
from derivkit.core import (
    KEEP,
    AnySpec,
    APIError,
    ConnectionLost,
    DerivError,
    OpenContract,
    Proposal,
    RequestTimeout,
)
from derivkit.formatting import money
from derivkit.products import net_result, order_text
from derivkit.purchases import LostBuy, Purchase, find_purchase
from derivkit.storage import JournalEntry, NewTrade, Storage
from derivkit.storage.notices import NewNotice

__all__ = ["TradeDesk"]

logger = logging.getLogger("derivkit.bot.trades")

NOT_BOUGHT = (
    "✅ Checked with Deriv: the buy of <b>{what}</b> did <b>not</b> happen; nothing was bought."
)
#: How long the resolution of an unknown outcome keeps trying to reach Deriv (seconds).
RESOLVE_FOR = 600.0
SECOND_LOOK_AFTER = 3.0
#: In a fleet, a buy still "sending" for less than this long may be in flight on another live
#: instance (a buy waits at most its request timeout, 30 s by default, then turns "unknown"), so
#: the account's duty leaves it alone until then.
IN_FLIGHT_FOR = 60.0


#: A buy whose outcome is still to be found out.
PENDING = ("sending", "unknown")
#: How long a Confirm run again waits for the outcome of its buy before it says it is unknown.
OUTCOME_WAIT = 30.0


def outcome_text(entry: JournalEntry) -> str:
    """What became of a journal entry's buy, as its card tells it (HTML)."""
    what = escape(f"{entry.contract_type} on {entry.symbol}")
    if entry.status in ("bought", "settled"):
        text = (
            f"✅ Bought: contract <code>{entry.contract_id}</code> ({what}) for "
            f"{money(entry.buy_price, entry.currency)}."
        )
        if entry.status == "settled":
            return text + " It has settled since: /statement shows how."
        return text + " I will tell you when it settles."
    if entry.status == "not_bought":
        return NOT_BOUGHT.format(what=what)
    if entry.status == "failed":
        return f"❌ Not done: {escape(entry.error or 'refused')}. Nothing was bought."
    return (
        f"⚠️ The buy of <b>{what}</b> was sent and its outcome is not known yet: I will check "
        "with Deriv and tell you. Meanwhile /portfolio and /statement show what Deriv has."
    )


class TradeDesk:
    """Buys, sells, outcome resolution and settlement notices (see the module docstring).

    ``owners()`` lists who hears of a settlement of a contract bought outside the bot in
    personal mode (the allowed users); in multi-user mode it is the account's user.
    """

    def __init__(
        self,
        storage: Storage,
        delivery: Delivery,
        *,
        owners: Callable[[], Iterable[int]] = tuple,
        clock: Callable[[], float] = time.time,
        second_look_after: float = SECOND_LOOK_AFTER,
    ) -> None:
        self.storage = storage
        self.delivery = delivery
        self._owners = owners
        self._clock = clock
        self.second_look_after = second_look_after
        self._tasks: set[asyncio.Task[Any]] = set()
        self._announced: set[int] = set()
        self._resolving: dict[int, asyncio.Event] = {}  # set once the resolution ends
        self._telling: set[int] = set()  # journal entries whose settlement is being told here
        self._looking: dict[str, asyncio.Lock] = {}  # by loginid: one lost-buy look at a time
        self.fleet: Any = None  # a Fleet: announcements belong to the account's lease holder
        #: An Outbox: a settlement's notice is queued as the entry is marked told, then sent.
        self.outbox: Any = None

    async def _owns(self, user_id: int) -> bool:
        """Whether this instance does the account's duties (always, outside a fleet)."""
        return self.fleet is None or await self.fleet.own_account(user_id)

    # -- buying and selling ---------------------------------------------------------------

    async def buy(
        self,
        session: AccountSession,
        *,
        user_id: int,
        chat_id: int,
        spec: AnySpec,
        proposal: Proposal,
        max_price: float,
        message_id: int | None = None,
        order_nonce: str | None = None,
    ) -> str:
        """Send one buy and describe what happened (HTML). ``order_nonce``: the pending order
        (Confirm card) it is for, journaled with it (:meth:`outcome_of` finds it by that)."""
        account = session.account
        entry = await self.storage.journal_open(
            NewTrade(
                loginid=session.loginid,
                is_virtual=bool(account.is_virtual) if account else True,
                currency=spec.currency,
                symbol=spec.symbol,
                contract_type=spec.contract_type,
                stake=spec.amount,
                max_price=max_price,
                request=spec.parameters(),
                quote={
                    "ask_price": proposal.ask_price,
                    "payout": proposal.payout,
                    "spot": proposal.spot,
                    "spot_time": proposal.spot_time,
                    "longcode": proposal.longcode,
                    "message_id": message_id,
                },
                telegram_id=user_id,
                chat_id=chat_id,
                order_nonce=order_nonce,
            )
        )
        try:
            receipt = await session.client.buy(spec, price=max_price)
        except DerivError as error:
            if outcome_unknown(error):
                await self.storage.journal_unknown(entry.id, type(error).__name__)
                if await self._owns(user_id):  # else the account's lease holder resolves it
                    self.spawn(self.resolve(session, entry.id), f"resolve-{entry.id}")
            elif isinstance(error, APIError):
                await self.storage.journal_failed(entry.id, f"{error.code}: {error.message}")
            else:  # not sent at all
                await self.storage.journal_failed(entry.id, str(error))
            return sending_failed(error, BUY)
        receipt_fields = dict(receipt.raw) or {
            "contract_id": receipt.contract_id,
            "buy_price": receipt.buy_price,
        }
        await self.storage.journal_bought(entry.id, receipt_fields)
        session.watchers.watch(receipt.contract_id, receipt.buy_price)
        return bought(receipt, spec.currency, spec)

    async def sell(self, session: AccountSession, contract_id: int, price: float = 0.0) -> str:
        """Send one sell and describe what happened (HTML)."""
        try:
            sale = await session.client.sell(contract_id, price=price)
        except DerivError as error:
            if outcome_unknown(error):
                session.watchers.watch(contract_id)  # its settlement tells what happened
            return sending_failed(error, SALE)
        return sold(sale, session.currency)

    async def update(
        self,
        session: AccountSession,
        contract_id: int,
        changes: dict[str, float | None],
        *,
        chat_id: int,
        turbos: bool = False,
    ) -> str:
        """Send one ``contract_update`` (``changes``: take_profit / stop_loss, None removes)
        and describe what happened (HTML)."""
        try:
            reply = await session.client.update_contract(
                contract_id,
                take_profit=changes.get("take_profit", KEEP),
                stop_loss=changes.get("stop_loss", KEEP),
            )
        except DerivError as error:
            if outcome_unknown(error):
                self.spawn(
                    self._check_update(session, contract_id, changes, chat_id),
                    f"check-update-{contract_id}",
                )
            return sending_failed(error, UPDATE)
        return updated(contract_id, reply, session.currency, turbos)

    async def cancel(self, session: AccountSession, contract_id: int, *, chat_id: int) -> str:
        """Send one ``cancel`` (deal cancellation) and describe what happened (HTML)."""
        try:
            receipt = await session.client.cancel_contract(contract_id)
        except DerivError as error:
            if outcome_unknown(error):
                session.watchers.watch(contract_id)
                self.spawn(
                    self._check_cancel(session, contract_id, chat_id), f"check-cancel-{contract_id}"
                )
            return sending_failed(error, CANCELLATION)
        return cancelled(receipt, session.currency)

    async def _contract_when_reachable(
        self, session: AccountSession, contract_id: int
    ) -> OpenContract:
        async def read() -> OpenContract:
            async with await session.client.contract_states(contract_id) as states:
                return await anext(states)

        state: OpenContract = await self._when_reachable(session, read)
        return state

    async def _check_after_lost_reply(
        self,
        session: AccountSession,
        contract_id: int,
        chat_id: int,
        what: str,
        verdict: Callable[[OpenContract, str], str],
    ) -> None:
        """After a lost reply to ``what`` (an update, a cancellation) of ``contract_id``: read
        the contract once Deriv is reachable and tell the user ``verdict(state, currency)``.
        Runs as a background task; failures are logged, cancellation propagates."""
        session.pins += 1
        try:
            state = await self._contract_when_reachable(session, contract_id)
            text = verdict(state, state.currency or session.currency)
            await self.delivery.final(chat_id, None, text)
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("checking the %s of contract %s failed", what, contract_id)
        finally:
            session.pins -= 1

    def _check_update(
        self,
        session: AccountSession,
        contract_id: int,
        changes: dict[str, float | None],
        chat_id: int,
    ) -> Coroutine[Any, Any, None]:
        """After a lost ``contract_update`` reply: tell whether the orders are as asked."""
        verdict = update_verdict(contract_id, changes)
        return self._check_after_lost_reply(session, contract_id, chat_id, "update", verdict)

    def _check_cancel(
        self, session: AccountSession, contract_id: int, chat_id: int
    ) -> Coroutine[Any, Any, None]:
        """After a lost ``cancel`` reply: tell whether the contract was cancelled."""
        verdict = cancel_verdict(contract_id)
        return self._check_after_lost_reply(session, contract_id, chat_id, "cancellation", verdict)

    async def checked_with_deriv(
        self, session: AccountSession, order: Mapping[str, Any], *, wait: float = OUTCOME_WAIT
    ) -> str | None:
        """What a sale, update or cancellation sent by a process that stopped before its
        reply came to, as Deriv has its contract(s) now (HTML; ``order``: the order's JSON).
        None when Deriv does not answer within ``wait`` seconds or cannot say (an error), or
        the order names no contract. Each contract is followed from here (its settlement is
        told). Cancellation propagates."""
        kind = order.get("kind")
        contract_ids = [
            int(c) for c in order.get("contract_ids") or [order.get("contract_id")] if c
        ]
        if (kind != "update" and kind not in VERDICTS) or not contract_ids:
            return None
        lines = []
        session.pins += 1
        try:
            async with asyncio.timeout(wait):
                for contract_id in contract_ids:
                    state = await self._contract_when_reachable(session, contract_id)
                    session.watchers.watch(contract_id)  # its settlement is told, once
                    if kind == "update":
                        verdict = update_verdict(contract_id, order.get("changes") or {})
                    else:
                        verdict = VERDICTS[kind](contract_id)
                    lines.append(verdict(state, state.currency or session.currency))
        except TimeoutError:
            return None
        except DerivError as error:  # e.g. the contract is not this account's (any more)
            logger.info("checking order %s with Deriv failed: %s", kind, type(error).__name__)
            return None
        finally:
            session.pins -= 1
        return "\n".join(lines)

    # -- unknown outcomes -----------------------------------------------------------------

    async def resolve(self, session: AccountSession, entry_id: int) -> None:
        """Find out whether an unknown buy happened; journal it and tell the user."""
        if entry_id in self._resolving:
            return
        self._resolving[entry_id] = asyncio.Event()
        session.pins += 1
        try:
            entry = await self.storage.journal_entry(entry_id)
            if entry is None or entry.status not in PENDING:
                return
            # "sending": its sender never learned anything, so its card still says "Sending…"
            # (a stopped process, or a dead instance whose Confirm was not run again): the
            # answer replaces the card
            card = (entry.quote or {}).get("message_id") if entry.status == "sending" else None
            text = await self._look_up(session, entry, last_look=False)
            if text is None:
                await asyncio.sleep(self.second_look_after)
                text = await self._look_up(session, entry, last_look=True)
            if text and entry.chat_id is not None:
                await self.delivery.final(entry.chat_id, card, text)
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("resolving journal entry %s failed", entry_id)
        finally:
            session.pins -= 1
            self._resolved(entry_id)

    async def outcome_of(
        self, session: AccountSession, entry_id: int, *, wait: float = OUTCOME_WAIT
    ) -> str:
        """What the buy of journal entry ``entry_id`` came to (HTML, for its card), for a
        Confirm that finds its order consumed by a run that did not finish (its instance died).

        A buy still sending or unknown is resolved here and now with the shared resolver (as
        :meth:`resolve` does, one look at a time per account; a resolution already running in
        this process is waited for), for at most ``wait`` seconds: then the outcome is said to
        be unknown yet, and :meth:`resolve` goes on in the background and tells it. The caller
        holds the user's lock, so no live instance is sending this buy. Cancellation stops the
        look (what it journaled stays)."""
        entry = await self._entry(entry_id)
        if entry.status in PENDING:
            try:
                async with asyncio.timeout(wait):
                    while (running := self._resolving.get(entry_id)) is not None:
                        await running.wait()  # this process resolves it already
                    entry = await self._entry(entry_id)
                    if entry.status in PENDING:
                        await self._resolve_here(session, entry)
            except TimeoutError:
                self.spawn(self.resolve(session, entry_id), f"resolve-{entry_id}")
            entry = await self._entry(entry_id)
        return outcome_text(entry)

    async def _resolve_here(self, session: AccountSession, entry: JournalEntry) -> None:
        """Both looks of :meth:`resolve`, journaled, nothing told."""
        self._resolving[entry.id] = asyncio.Event()
        session.pins += 1
        try:
            if await self._look_up(session, entry, last_look=False) is None:
                await asyncio.sleep(self.second_look_after)
                await self._look_up(session, entry, last_look=True)
        finally:
            session.pins -= 1
            self._resolved(entry.id)

    def _resolved(self, entry_id: int) -> None:
        running = self._resolving.pop(entry_id, None)
        if running is not None:
            running.set()

    async def _entry(self, entry_id: int) -> JournalEntry:
        entry = await self.storage.journal_entry(entry_id)
        if entry is None:
            raise LookupError(f"no journal entry {entry_id}")
        return entry

    async def _find_buy(self, session: AccountSession, entry: JournalEntry) -> Purchase | None:
        """The contract the lost buy of ``entry`` bought (:func:`derivkit.purchases.find_purchase`),
        once the account answers. The lower time bound is the earlier of the quote's server time
        and the local time the buy was journaled: a local clock running ahead of Deriv's must
        not make a buy that happened look as if it had not."""
        quoted = (entry.quote or {}).get("spot_time")
        sent_at = min(entry.requested_at, float(quoted)) if quoted else entry.requested_at
        lost = LostBuy(entry.contract_type, entry.symbol, entry.max_price, sent_at)
        known = await self.storage.journal_contract_ids(entry.loginid)
        found: Purchase | None = await self._when_reachable(
            session, lambda: find_purchase(session.client, lost, known=known)
        )
        return found

    async def _when_reachable(
        self, session: AccountSession, call: Callable[[], Coroutine[Any, Any, Any]]
    ) -> Any:
        """``call()`` once the account's connection answers, trying for up to RESOLVE_FOR."""
        deadline = self._clock() + RESOLVE_FOR
        while True:
            try:
                await session.client.ping()
                return await call()
            except (ConnectionLost, RequestTimeout) as error:
                if self._clock() > deadline or session.client.state == "closed":
                    raise
                logger.info("account %s not reachable yet (%s)", session.key, type(error).__name__)
                await asyncio.sleep(1.0)

    async def _look_up(
        self, session: AccountSession, entry: JournalEntry, *, last_look: bool
    ) -> str | None:
        """Look for the lost buy of ``entry`` once and journal what was found: the text to
        tell ("" when nothing is to be told), or None when nothing was found and this is not
        the ``last_look`` (nothing journaled then).

        One look at a time per account: a look reads which contracts the journal knows, then
        the statement, then journals its find, so two lost buys of one shape resolved at once
        (two users of a shared account) would otherwise both take the same contract, and the
        other buy would go untold and unfollowed.
        """
        async with self._looking.setdefault(entry.loginid, asyncio.Lock()):
            found = await self._find_buy(session, entry)
            if found is not None:
                receipt = found.receipt() | {"resolved": True}
                entry = await self.storage.journal_found(entry.id, receipt)
                if entry.status == "bought" and entry.contract_id is not None:
                    session.watchers.watch(entry.contract_id, entry.buy_price)
                if entry.contract_id != found.contract_id:
                    return ""  # its own reply, or another resolver's find, came first: told there
                return resolved_bought(entry)
            if not last_look:
                return None
            entry = await self.storage.journal_not_bought(
                entry.id, "not in the account's statement"
            )
        if entry.status != "not_bought":
            return ""  # the buy's own reply came meanwhile: that is what the user was told
        return NOT_BOUGHT.format(what=escape(f"{entry.contract_type} on {entry.symbol}"))

    # -- settlements ----------------------------------------------------------------------

    async def settled(self, session: AccountSession, contract: OpenContract) -> None:
        """A followed contract was sold or expired: journal it and tell its user once."""
        contract_id = contract.contract_id
        if contract_id in self._announced:
            return
        if not await self._owns(session.key):
            return  # the account's lease holder announces it
        if contract_id in self._announced:
            return
        self._announced.add(contract_id)
        profit = net_result(contract)  # what it made in money, a cancellation fee included
        entry = await self.storage.journal_settled(
            contract_id,
            sell_price=contract.sell_price or 0.0,
            profit=profit,
            settled_at=float(contract.sell_time or self._clock()),
        )
        if entry is not None and entry.notified:
            return
        text = settlement(contract)
        if entry is not None and entry.telegram_id is not None and entry.chat_id is not None:
            recipients = [(entry.telegram_id, entry.chat_id)]
        elif session.owned:
            recipients = [(session.key, session.key)]
        else:
            recipients = [(user, user) for user in self._owners()]
        if entry is None:
            for user, chat in recipients:
                await self.delivery.notify(user, chat, "settlement", text, must_arrive=True)
            return
        if self.outbox is not None:
            await self._tell_queued(entry.id, recipients, text)
            return
        async with self._telling_of(entry.id) as told_here:
            if not told_here:
                return
            results = [
                await self.delivery.notify(user, chat, "settlement", text, must_arrive=True)
                for user, chat in recipients
            ]
            if all(result != "failed" for result in results):
                await self.storage.journal_notified(entry.id)

    async def _tell_queued(
        self, entry_id: int, recipients: list[tuple[int, int]], text: str
    ) -> None:
        """Mark the entry told and queue its notices in one transaction (whoever does it
        first, in the fleet), then send them from the outbox (see :class:`Outbox`)."""
        outbox = self.outbox
        assert outbox is not None
        notices = await outbox.store.settlement_told(
            entry_id,
            [NewNotice(user, chat, "settlement", text) for user, chat in recipients],
            holder=outbox.holder,
            lease=outbox.lease,
        )
        for notice in notices:
            await outbox.send(notice)

    @asynccontextmanager
    async def _telling_of(self, entry_id: int) -> AsyncIterator[bool]:
        """Whether the body tells the settlement of journal entry ``entry_id`` (and marks it
        told): not while another task of this process tells it; in a fleet, only under its
        ``tell:ENTRY`` lease and only if it is still untold once the lease is held, so two
        instances that both believe they hold the account cannot both tell it."""
        if entry_id in self._telling:
            yield False
            return
        self._telling.add(entry_id)
        lease = f"tell:{entry_id}"
        claimed = False
        try:
            if self.fleet is not None:
                claimed = await self.fleet.claim(lease)
                fresh = await self.storage.journal_entry(entry_id) if claimed else None
                if fresh is None or fresh.notified:
                    yield False
                    return
            yield True
        finally:
            self._telling.discard(entry_id)
            if claimed:
                await self.fleet.give_up(lease)

    # -- after a restart ------------------------------------------------------------------

    async def resume(self, session: AccountSession) -> None:
        """Pick up the journal's unfinished stories of the session's account."""
        if not session.loginid:
            return
        for entry in await self.storage.journal_to_follow(loginid=session.loginid, origin="bot"):
            if entry.status == "bought" and entry.contract_id is not None:
                session.watchers.watch(entry.contract_id, entry.buy_price)
            elif entry.status in ("sending", "unknown"):
                if self._may_be_in_flight(entry):
                    continue  # its sender may still get the reply; a later resume looks again
                self.spawn(self.resolve(session, entry.id), f"resolve-{entry.id}")
            elif entry.status == "settled" and entry.chat_id is not None:
                assert entry.telegram_id is not None
                if self.outbox is not None:
                    recipient = (entry.telegram_id, entry.chat_id)
                    await self._tell_queued(entry.id, [recipient], settled_entry(entry))
                    continue
                async with self._telling_of(entry.id) as told_here:
                    if not told_here:
                        continue
                    result = await self.delivery.notify(
                        entry.telegram_id,
                        entry.chat_id,
                        "settlement",
                        settled_entry(entry),
                        must_arrive=True,
                    )
                    if result != "failed":
                        await self.storage.journal_notified(entry.id)

    def _may_be_in_flight(self, entry: JournalEntry) -> bool:
        """A fleet's "sending" entry young enough that another instance may still be sending
        it (one process: whatever is "sending" at a resume was left by a stopped process)."""
        return (
            self.fleet is not None
            and entry.status == "sending"
            and self._clock() - entry.requested_at < IN_FLIGHT_FOR
        )

    # -- tasks ----------------------------------------------------------------------------

    def spawn(self, work: Coroutine[Any, Any, Any], name: str) -> None:
        task = asyncio.create_task(work, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def close(self) -> None:
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


# -- what Deriv says a contract came to ---------------------------------------------------

Verdict = Callable[[OpenContract, str], str]


def update_verdict(contract_id: int, changes: Mapping[str, float | None]) -> Verdict:
    """Whether ``contract_id``'s take profit / stop loss are as ``changes`` asked."""

    def verdict(state: OpenContract, currency: str) -> str:
        now = {kind: getattr(state, kind, None) for kind in changes}

        def as_asked(kind: str) -> bool:
            order, wanted = now[kind], changes[kind]
            amount = abs(order.amount) if order is not None and order.amount else None
            if wanted is None:
                return amount is None
            return amount is not None and abs(amount - wanted) < 0.005

        shown = ", ".join(
            f"{kind.replace('_', ' ')} {order_text(now[kind], currency)}" for kind in changes
        )
        asked = [as_asked(kind) for kind in changes]
        if all(asked):
            said = "✅ Checked with Deriv: the update <b>did</b> happen"
        elif not any(asked):
            said = "✅ Checked with Deriv: the update did <b>not</b> happen"
        else:
            said = "Checked with Deriv: only part of the update is in place"
        return f"{said} for contract <code>{contract_id}</code>. Now: {escape(shown)}."

    return verdict


def cancel_verdict(contract_id: int) -> Verdict:
    """Whether ``contract_id`` was cancelled (deal cancellation)."""

    def verdict(state: OpenContract, currency: str) -> str:
        if state.status == "cancelled":
            return (
                f"✅ Checked with Deriv: contract <code>{contract_id}</code> <b>was</b> "
                f"cancelled; {money(state.sell_price, currency)} came back."
            )
        if not state.is_sold:
            return (
                f"✅ Checked with Deriv: contract <code>{contract_id}</code> was <b>not</b> "
                f"cancelled; it is still open (/cancel {contract_id} to try again)."
            )
        return (
            f"Checked with Deriv: contract <code>{contract_id}</code> was not cancelled "
            "but closed otherwise; its settlement follows."
        )

    return verdict


def sale_verdict(contract_id: int) -> Verdict:
    """Whether ``contract_id`` was sold before its expiry."""

    def verdict(state: OpenContract, currency: str) -> str:
        if state.status == "sold":
            return (
                f"✅ Checked with Deriv: contract <code>{contract_id}</code> <b>was</b> sold, "
                f"for {money(state.sell_price, currency)}; its settlement follows."
            )
        if not state.is_sold:
            return (
                f"✅ Checked with Deriv: contract <code>{contract_id}</code> was <b>not</b> "
                f"sold; it is still open (/sell {contract_id} to try again)."
            )
        return (
            f"Checked with Deriv: contract <code>{contract_id}</code> was not sold but closed "
            "otherwise; its settlement follows."
        )

    return verdict


#: The verdict of each kind of order that names its contract(s), but "update" (which also
#: needs the changes asked: :func:`update_verdict`).
VERDICTS: dict[str, Callable[[int], Verdict]] = {
    "sell": sale_verdict,
    "sellall": sale_verdict,
    "cancel": cancel_verdict,
}
