"""Confirms that did not finish: what their trade came to, told on the order's card.

A Confirm consumes its order (leaving a tombstone: :mod:`derivkit.storage.tombstones`), shows
"Sending…" without buttons, sends the trade, and replaces the card with the outcome. If its
process stops anywhere in between, the card would say "Sending…" for ever. Two paths finish it:

* :func:`claimed_outcome`, for a Confirm that finds its order consumed (run again: a fleet
  instance took over the update of one that died, or a second tap);
* :func:`finish_interrupted`, at the start of a process that is not in a fleet: every
  tombstone without an outcome was left by a stopped process (one process has no other live
  claimer), and no one will run that Confirm again.

Either way the truth is looked up: a buy in the journal (resolved if its reply was lost), an
order never sent is "Not sent", a sent sale, update or cancellation is checked with Deriv (how
its contract stands now); only when Deriv cannot say in time is the outcome "unknown", with
where to look. Nothing is ever sent again. Runs on the bot's event loop.
"""

from __future__ import annotations

import logging
from html import escape
from typing import Any

from derivkit.bot.runtime import BotRuntime
from derivkit.storage.records import JournalEntry
from derivkit.storage.tombstones import ConsumedOrder

__all__ = ["NOT_SENT", "UNKNOWN_OUTCOME", "claimed_outcome", "final_card", "finish_interrupted"]

logger = logging.getLogger("derivkit.bot.interrupted")

#: What a consumed order that sent nothing tells, by kind (its card's last words).
NOT_SENT = {
    "buy": "✖️ Not sent: nothing was bought. /buy again if you still want it.",
    "sell": "✖️ Not sent: nothing was sold. /sell again if you still want to.",
    "sellall": "✖️ Not sent: nothing was sold. /sellall again if you still want to.",
    "update": "✖️ Not sent: nothing was changed. /update again if you still want to.",
    "cancel": "✖️ Not sent: nothing was cancelled. /cancel again if you still want to.",
}
UNKNOWN_OUTCOME = (
    "⚠️ This was being sent when the bot instance handling it stopped: it may or may not "
    "have happened, and it was not sent again. /portfolio and /statement show what Deriv has."
)


async def claimed_outcome(
    rt: BotRuntime, user_id: int, consumed: ConsumedOrder | None, entry: JournalEntry | None
) -> str:
    """What the user's consumed order came to (HTML, for its card). ``consumed``: its
    tombstone, if any; ``entry``: the journal's entry of its buy, if any. The order's claimer
    is not at work on it any more (the caller holds the user's turn, or no update has run yet
    in this process)."""
    order = consumed.order if consumed is not None else {}
    kind = order.get("kind", "buy")
    if consumed is not None and consumed.outcome is not None:
        return str(consumed.outcome)  # finished: the card tells it again
    if entry is not None:
        return await rt.desk.outcome_of(await rt.session(user_id), entry.id)
    if consumed is None or kind == "buy" or consumed.sent_at is None:
        return NOT_SENT.get(kind, NOT_SENT["buy"])  # a buy is journaled before it is sent
    checked = await rt.desk.checked_with_deriv(await rt.session(user_id), order)
    return checked or UNKNOWN_OUTCOME


def final_card(order: Any, entry: JournalEntry | None, result: str) -> str:
    """The card's last words: the order's summary (or the journal's), then ``result``."""
    summary = order.get("summary") or (
        f"<b>{escape(entry.contract_type)}</b> on {escape(entry.symbol)}" if entry else ""
    )
    return f"{summary}\n\n{result}" if summary else result


async def finish_interrupted(rt: BotRuntime) -> int:
    """At the start of a process outside a fleet: finish the card of every Confirm a stopped
    process left unfinished, each in a task of its own (the lookups may wait for Deriv), and
    forget tombstones older than a day. Returns how many cards it started finishing.

    Call before updates are processed: the list read here is then only the stopped
    process's. A card whose lookup fails (the user's account cannot be opened) is told that
    the outcome is unknown, and where to look."""
    tombstones = rt.orders.tombstones
    if tombstones is None or rt.fleet is not None:
        return 0
    unfinished = await tombstones.unfinished_orders()  # however old: a card is still waiting
    await tombstones.prune_orders()
    for consumed in unfinished:
        rt.desk.spawn(_finish(rt, consumed), f"interrupted-{consumed.nonce}")
    return len(unfinished)


async def _finish(rt: BotRuntime, consumed: ConsumedOrder) -> None:
    entry = None
    try:
        entry = await rt.storage.journal_for_order(consumed.nonce)
        result = await claimed_outcome(rt, consumed.telegram_id, consumed, entry)
    except Exception as error:  # e.g. the user's account cannot be opened (any more)
        logger.warning(
            "the outcome of an order of user %s cannot be looked up: %s",
            consumed.telegram_id,
            type(error).__name__,
        )
        result = UNKNOWN_OUTCOME
    order = consumed.order
    text = final_card(order, entry, result)
    await rt.delivery.final(
        int(order.get("chat_id") or consumed.telegram_id), order.get("message_id"), text
    )
    await rt.orders.finished(consumed.nonce, result)
