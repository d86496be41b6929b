"""Getting messages to users: outcomes that must arrive, and notifications at each user's level.

* :meth:`Delivery.final` shows the result of a trade: it edits the trade's card, re-trying a
  failed edit, and when the card cannot be edited sends the result as a new message (also
  re-tried). A result is never silently lost; if Telegram stays unreachable the failure is
  logged with the user id.
* :meth:`Delivery.notify` sends a notification (settlement, alert, connection) at the level the
  user chose: ``on``, ``silent`` (no sound) or ``off``. A user who blocked the bot (403) gets no
  more notifications until they write again (:meth:`Delivery.unblock`).

Telegram's 429s are waited out by PTB's rate limiter below this layer. Use from the bot's event
loop; every method may run concurrently.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from telegram import Bot, InlineKeyboardMarkup
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut

from derivkit.storage import Storage

__all__ = ["Delivery"]

logger = logging.getLogger("derivkit.bot.delivery")

#: Pauses between attempts of a result that must arrive (seconds).
RETRY_DELAYS = (0.5, 1.0, 2.0, 4.0)


def _not_modified(error: BadRequest) -> bool:
    return "not modified" in error.message.lower()


class Delivery:
    """Sends to users on behalf of the bot's background work and trades."""

    def __init__(
        self,
        bot: Bot,
        storage: Storage,
        *,
        retry_delays: Sequence[float] = RETRY_DELAYS,
    ) -> None:
        self.bot = bot
        self.storage = storage
        self.retry_delays = tuple(retry_delays)
        self._levels: dict[int, dict[str, str]] = {}
        self._blocked: set[int] = set()
        #: Off in a fleet: another instance may change a user's levels at any time.
        self.cache_levels = True

    async def _retried(self, what: str, user: int, send: Callable[[], Awaitable[Any]]) -> Any:
        """``send()`` with re-tries on network errors, Telegram's 5xx and a 429 the rate
        limiter gave up on; BadRequest and Forbidden are final and raised."""
        delays = iter(self.retry_delays)
        while True:
            try:
                return await send()
            except (BadRequest, Forbidden):
                raise
            except (NetworkError, TimedOut, RetryAfter) as error:
                delay = next(delays, None)
                if delay is None:
                    logger.warning("%s for user %s failed for good: %s", what, user, error)
                    raise
                if isinstance(error, RetryAfter):
                    wait = error.retry_after
                    seconds = wait.total_seconds() if hasattr(wait, "total_seconds") else wait
                    delay = max(delay, float(seconds))
            await asyncio.sleep(delay)

    async def final(
        self,
        chat_id: int,
        message_id: int | None,
        text: str,
        *,
        reply_markup: InlineKeyboardMarkup | None = None,
    ) -> int | None:
        """Show ``text`` in place of message ``message_id`` or, failing that, as a new
        message. Returns the id of the message that shows it (None if nothing got through)."""
        if message_id is not None:
            try:
                await self._retried(
                    "result edit",
                    chat_id,
                    lambda: self.bot.edit_message_text(
                        text, chat_id=chat_id, message_id=message_id, reply_markup=reply_markup
                    ),
                )
                return message_id
            except BadRequest as error:
                if _not_modified(error):
                    return message_id
                logger.info("result edit refused (%s); sending it anew", error.message)
            except (NetworkError, Forbidden, RetryAfter) as error:
                logger.info("result edit failed (%s); sending it anew", type(error).__name__)
        try:
            sent = await self._retried(
                "result message",
                chat_id,
                lambda: self.bot.send_message(chat_id, text, reply_markup=reply_markup),
            )
        except (NetworkError, Forbidden, RetryAfter) as error:
            logger.error("could not deliver a result to chat %s: %s", chat_id, type(error).__name__)
            return None
        return int(sent.message_id)

    async def edit(self, chat_id: int, message_id: int, text: str, **kwargs: Any) -> bool:
        """A best-effort edit (progress such as "Sending…"): False if it did not work."""
        try:
            await self.bot.edit_message_text(text, chat_id=chat_id, message_id=message_id, **kwargs)
        except BadRequest as error:
            return _not_modified(error)
        except (NetworkError, Forbidden, RetryAfter) as error:
            logger.info("edit for chat %s failed: %s", chat_id, type(error).__name__)
            return False
        return True

    # -- notifications --------------------------------------------------------------------

    async def level(self, user_id: int, event: str) -> str:
        levels = self._levels.get(user_id)
        if levels is None:
            levels = await self.storage.notification_levels(user_id)
            if self.cache_levels:
                self._levels[user_id] = levels
        return levels.get(event, "on")

    def forget_levels(self, user_id: int) -> None:
        """Drop the cached levels after the user changed them."""
        self._levels.pop(user_id, None)

    def unblock(self, user_id: int) -> None:
        """The user wrote to the bot: notifications may reach them again."""
        self._blocked.discard(user_id)

    async def notify(
        self,
        user_id: int,
        chat_id: int,
        event: str,
        text: str,
        *,
        must_arrive: bool = False,
    ) -> str:
        """Send a notification at the user's level for ``event``: ``"sent"``, ``"off"`` (the
        user does not want it, or blocked the bot) or ``"failed"``.

        ``must_arrive`` (settlements) re-tries like a trade result does.
        """
        level = await self.level(user_id, event)
        if level == "off" or user_id in self._blocked:
            return "off"
        silent = level == "silent"

        async def send() -> Any:
            return await self.bot.send_message(chat_id, text, disable_notification=silent)

        try:
            if must_arrive:
                await self._retried(f"{event} notice", user_id, send)
            else:
                await send()
        except Forbidden:
            logger.info("user %s blocked the bot; notifications paused", user_id)
            self._blocked.add(user_id)
            return "off"
        except (BadRequest, NetworkError, RetryAfter) as error:
            logger.warning("%s notice for user %s failed: %s", event, user_id, error)
            return "failed"
        return "sent"


#: How long a sender's claim on a notice lasts, and the bound on its send within the claim.
NOTICE_LEASE = 20.0
NOTICE_SEND_BOUND = 15.0
#: A failed send (Telegram unreachable after the re-tries) is tried again after this pause.
NOTICE_RETRY_AFTER = 10.0
#: How often each instance looks for notices whose sender died.
NOTICE_SWEEP = 1.0
#: Added to a notice sent again after its earlier sender died during the sendMessage.
MAY_REPEAT = "\n\n<i>(Sent again after a restart: you may have seen this already.)</i>"


class Outbox:
    """Notices that must reach users: queued in the database with the change that causes them
    (:class:`~derivkit.storage.notices.NoticeStore`), then sent here through :class:`Delivery`.

    The only window left is Telegram's: ``sendMessage`` has no idempotency key, so a sender
    that dies during that one request leaves it unknown whether the user got the notice. The
    notice is then sent again by whichever instance claims it next (at least once: an outcome
    is never hidden), marked as possibly repeated; the window is that request and the
    ``UPDATE`` that marks it sent. A sender that dies before the request costs a delay of one
    claim (:data:`NOTICE_LEASE`) and no duplicate. Each instance sweeps for such notices every
    :data:`NOTICE_SWEEP` s. Use from the bot's event loop; :meth:`close` stops the sweeps.
    """

    def __init__(
        self,
        delivery: Delivery,
        store: Any,
        holder: str,
        *,
        lease: float = NOTICE_LEASE,
        send_bound: float = NOTICE_SEND_BOUND,
        retry_after: float = NOTICE_RETRY_AFTER,
        sweep_every: float = NOTICE_SWEEP,
    ) -> None:
        self.delivery = delivery
        self.store = store  # a NoticeStore
        self.holder = holder
        self.lease = lease
        self.send_bound = min(send_bound, lease * 0.75)
        self.retry_after = retry_after
        self.sweep_every = sweep_every
        self._sweeper: asyncio.Task[None] | None = None
        self._sending: set[int] = set()

    def __repr__(self) -> str:
        return f"<Outbox {self.holder}>"

    async def send(self, notice: Any) -> str:
        """Send one claimed notice: ``"sent"``, ``"off"``, ``"failed"`` (tried again later),
        ``"unknown"`` (no answer within the bound: sent again once the claim runs out) or
        ``"lost claim"`` (another sender has it now)."""
        if notice.id in self._sending:
            return "lost claim"
        self._sending.add(notice.id)
        try:
            text = notice.text if notice.attempted_at is None else notice.text + MAY_REPEAT
            if not await self.store.attempted(notice.id, self.holder):
                return "lost claim"
            try:
                async with asyncio.timeout(self.send_bound):
                    result = await self.delivery.notify(
                        notice.telegram_id, notice.chat_id, notice.event, text, must_arrive=True
                    )
            except TimeoutError:
                logger.warning("notice %s: no answer from Telegram in time", notice.id)
                return "unknown"
            if result == "failed":
                await self.store.retry_later(notice.id, self.holder, self.retry_after)
            else:
                await self.store.sent(notice.id, self.holder)
            return result
        finally:
            self._sending.discard(notice.id)

    async def sweep(self) -> int:
        """Claim and send the notices whose sender died (or whose pause after a failure is
        over); returns how many were sent."""
        sent = 0
        for notice in await self.store.claim_due(self.holder, self.lease):
            logger.info("%s sends notice %s left unsent", self.holder, notice.id)
            if await self.send(notice) == "sent":
                sent += 1
        return sent

    def start(self) -> None:
        if self._sweeper is None:
            self._sweeper = asyncio.create_task(self._sweep_forever(), name="outbox-sweep")

    async def _sweep_forever(self) -> None:
        while True:
            try:
                await self.sweep()
            except asyncio.CancelledError:
                raise
            except Exception as error:
                logger.warning("outbox sweep failed: %s", type(error).__name__)
            await asyncio.sleep(self.sweep_every)

    async def close(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            await asyncio.gather(self._sweeper, return_exceptions=True)
            self._sweeper = None
