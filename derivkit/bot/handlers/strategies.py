"""/strategies: the strategies running on this machine (``derivkit run``), with Stop buttons.

Who may see and stop them: only the users of a **personal** bot. They are the machine's owner
and the people the owner allowed to trade the owner's account, and the runs are the owner's
(the same data dir). A multi-user bot serves people who are not its operator and has no notion
of an operator among its users, so there /strategies shows nothing and says why.

Stop asks a run to stop buying (SIGTERM, as ``derivkit stop`` does): it follows its open
contracts to settlement and then ends. Stopping moves no money, so it needs no confirmation; a
second tap asks again and changes nothing. The bot then watches the run's status file and tells
when the run has ended, with its results from the trade journal (each run records its trades
there) or, when the bot keeps another journal, the last totals the run reported. The run
registry is read in a worker thread (a few small files), never on the event loop.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence, Set
from html import escape

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import ContextTypes

from derivkit.bot.buttons import Button, Card
from derivkit.bot.handlers.common import Tap, action, reply
from derivkit.bot.runtime import BotRuntime, runtime
from derivkit.formatting import money, utc
from derivkit.strategy.registry import RunRecord

__all__ = ["MULTI_USER_REFUSAL", "strategies_command", "strategies_text"]

MULTI_USER_REFUSAL = (
    "Strategies run on the operator's machine; a multi-user bot shows them to nobody. "
    "The operator sees them with <code>derivkit strategies</code>."
)
MAX_BUTTONS = 8
#: How long the bot watches a run it asked to stop before it stops telling (seconds).
STOP_WATCH = 900.0
STOP_POLL = 0.2


def _totals(record: RunRecord) -> str:
    return (
        f"runs {record.runs} · won {record.won} · lost {record.lost} · "
        f"P/L <b>{record.profit:+.2f}</b> · stake {record.stake:.2f} · open {record.open}"
    )


def strategies_text(records: Sequence[RunRecord], asked: Set[str] = frozenset()) -> str:
    """The runs, one short paragraph each (HTML); ``asked``: runs just asked to stop (the run
    may not have said "stopping" yet)."""
    if not records:
        return "No strategy is running on this machine (start one with <code>derivkit run</code>)."
    lines = [f"<b>Strategies on this machine</b> ({len(records)})"]
    for number, record in enumerate(records, 1):
        account = f" · {escape(record.loginid)}" if record.loginid else ""
        state = record.state
        if state == "running" and record.run_id in asked:
            state = "asked to stop"
        lines.append(
            f"{number}. <b>{escape(record.strategy)}</b> on {escape(record.symbol)}{account} · "
            f"<i>{escape(state)}</i>\n"
            f"   {_totals(record)}\n"
            f"   run <code>{escape(record.run_id)}</code>, since {utc(int(record.started))[5:16]} "
            "UTC"
        )
    return "\n".join(lines)


async def _running(rt: BotRuntime) -> list[RunRecord]:
    return await asyncio.to_thread(rt.runs.running)


def _short(record: RunRecord) -> str:
    return record.run_id.rsplit("-", 1)[-1]


def _show(
    card: Card, records: list[RunRecord], note: str = "", asked: Set[str] = frozenset()
) -> tuple[str, InlineKeyboardMarkup]:
    """The listing's text and buttons for ``card``: a Stop button for each run still buying."""
    rows = [
        [card.button(f"⏹ Stop {record.strategy} {_short(record)}", "strategy.stop", record.run_id)]
        for record in records[:MAX_BUTTONS]
        if record.state == "running" and record.run_id not in asked
    ]
    if len(rows) > 1:
        rows.append([card.button("⏹ Stop all", "strategy.stop", "")])
    rows.append([card.button("Refresh", "strategy.refresh")])
    text = strategies_text(records, asked) + (f"\n\n{note}" if note else "")
    return text, card.markup(rows)


async def strategies_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The machine's running strategies (personal mode only), with a Stop button each."""
    rt = runtime(context)
    user = update.effective_user
    chat = update.effective_chat
    if user is None or chat is None:
        return
    if rt.settings.multi_user:
        await reply(update, MULTI_USER_REFUSAL)
        return
    records = await _running(rt)
    card = rt.buttons.card(user.id, chat.id, ttl=600)
    text, markup = _show(card, records)
    sent = await reply(update, text, reply_markup=markup)
    if sent is not None:
        card.bind(sent)


@action("strategy.refresh")
async def refresh_strategies(
    update: Update, context: ContextTypes.DEFAULT_TYPE, button: Button, tap: Tap
) -> None:
    rt = runtime(context)
    await tap.answer()
    text, markup = _show(button.card, await _running(rt))
    await rt.delivery.edit(button.card.chat_id, tap.message.message_id, text, reply_markup=markup)


@action("strategy.stop")
async def stop_strategy(
    update: Update, context: ContextTypes.DEFAULT_TYPE, button: Button, tap: Tap
) -> None:
    """Ask one run (or, with an empty id, every run) to stop buying."""
    rt = runtime(context)
    if rt.settings.multi_user:  # a card from before a restart in the other mode
        await tap.answer("Not on a multi-user bot.", alert=True)
        return
    (run_id,) = button.args
    asked = await asyncio.to_thread(rt.runs.request_stop, run_id or None)
    if not asked:
        await tap.answer("That strategy is no longer running.")
    else:
        await tap.answer("Asked to stop.")
    note = "\n".join(
        f"⏹ Asked <b>{escape(record.strategy)}</b> (<code>{escape(record.run_id)}</code>) to "
        "stop buying; it waits for its open contracts to settle, then ends."
        for record in asked
    )
    ids = {record.run_id for record in asked}
    text, markup = _show(button.card, await _running(rt), note, ids)
    await rt.delivery.edit(button.card.chat_id, tap.message.message_id, text, reply_markup=markup)
    for record in asked:
        rt.desk.spawn(_tell_when_ended(rt, button.card.chat_id, record), f"run-{record.run_id}")


async def _tell_when_ended(rt: BotRuntime, chat_id: int, record: RunRecord) -> None:
    """Watch a run asked to stop until its status file is gone; then tell how it did."""
    last = record
    deadline = time.monotonic() + STOP_WATCH
    while time.monotonic() < deadline:
        current = {r.run_id: r for r in await _running(rt)}.get(record.run_id)
        if current is None:
            name = f"<b>{escape(last.strategy)}</b> (<code>{escape(last.run_id)}</code>)"
            results = await _journal_results(rt, record.run_id)
            if results is None:
                results = f"Its last report: {_totals(last)}."
            await rt.delivery.final(chat_id, None, f"⏹ {name} has ended. {results}")
            return
        last = current
        await asyncio.sleep(STOP_POLL)
    await rt.delivery.final(
        chat_id,
        None,
        f"<b>{escape(last.strategy)}</b> (<code>{escape(last.run_id)}</code>) is still "
        f"finishing ({escape(last.state)}, {last.open} open); /strategies shows it.",
    )


async def _journal_results(rt: BotRuntime, run_id: str) -> str | None:
    """A run's results from the trade journal (each ``derivkit run`` records its trades there),
    or None when this bot's journal is not the one the run wrote to."""
    entries = await rt.storage.journal_entries(run_id=run_id)
    if not entries:
        return None
    settled = [entry for entry in entries if entry.status == "settled"]
    profit = sum(entry.profit or 0.0 for entry in settled)
    won = sum(1 for entry in settled if (entry.profit or 0.0) > 0)
    lost = sum(1 for entry in settled if (entry.profit or 0.0) < 0)
    still_open = sum(1 for entry in entries if entry.status == "bought")
    text = (
        f"From the trade journal: runs {len(settled)} · won {won} · lost {lost} · "
        f"P/L <b>{'+' if profit > 0 else ''}{money(profit, entries[0].currency)}</b>"
    )
    if still_open:
        text += f" · {still_open} contract(s) left open on the account"
    return text + "."
