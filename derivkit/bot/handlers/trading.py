"""/quote, /buy (typed, or step by step with buttons), /sell and /sellall, behind Confirm /
Cancel buttons; the confirmation of /update and /cancel (:mod:`.contracts`) too.

A trade command only quotes and records a :class:`~derivkit.bot.orders.PendingOrder`; its card's
buttons stand for that order on the server (:mod:`derivkit.bot.buttons`). Confirm claims the order
(once, by its owner, before it expires; atomically in the database when a fleet shares it),
retires the card, and sends the trade exactly once
through the :class:`~derivkit.bot.trades.TradeDesk`, bounded by the quoted price. The result
replaces the card (re-tried; sent as a new message if the card cannot be edited). Trade commands
typed while the bot was away are refused.

Contract terms are parsed into :class:`TradeTerms`: symbol, type, stake, and a duration and
barrier, or a product's ``key=value`` options (``multiplier=100 tp=5 sl=3``, ``cancellation=60m``,
``growth=1%``, ``ppp=1.5``, ``strike=+0.00``), which :mod:`derivkit.products` turns into the
product's typed spec, as the CLI's options are. The terms are checked against what the symbol
offers, so a wrong contract type lists the valid ones, and a wrong option says what the product
takes, before anything is sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from dataclasses import dataclass, field, replace
from html import escape
from typing import Any

from telegram import Message, Update
from telegram.ext import ContextTypes

from derivkit.bot.buttons import Button, Card
from derivkit.bot.handlers.common import Tap, action, reply, trade_refusal
from derivkit.bot.interrupted import claimed_outcome, final_card
from derivkit.bot.orders import PendingOrder
from derivkit.bot.render import account_label, quote_card
from derivkit.bot.risk import buy_refusal
from derivkit.bot.runtime import BotRuntime, runtime
from derivkit.bot.sessions import AccountSession
from derivkit.core import AnySpec, APIError, OpenContract
from derivkit.formatting import PRODUCT_TYPES, contract_spec, money
from derivkit.products import ProductOptions, product_spec

__all__ = [
    "TradeTerms",
    "ask_confirmation",
    "buy_command",
    "expire_order",
    "parse_terms",
    "quote_command",
    "sell_command",
    "sellall_command",
]

BUY_USAGE = (
    "Usage: /buy SYMBOL TYPE STAKE DURATION [BARRIER]\n"
    "e.g. <code>/buy R_100 CALL 10 5t</code> or <code>/buy R_10 DIGITMATCH 5 1t 7</code>; "
    "/buy alone asks step by step.\n"
    "Multipliers: <code>/buy R_100 MULTUP 10 x100 tp=5 sl=3</code> (or <code>dc=60m</code>: "
    "deal cancellation); accumulators: <code>/buy R_100 ACCU 10 growth=1% tp=2</code>; "
    "turbos: <code>/buy R_100 TURBOSLONG 10 5t -3.08</code> (or <code>ppp=1.5</code>); "
    "vanillas: <code>/buy R_100 VANILLALONGCALL 10 5m +0.00</code>. "
    "/contracts R_100 lists the choices."
)
QUOTE_USAGE = BUY_USAGE.replace("/buy", "/quote").replace("; /quote alone asks step by step.", ".")
WIZARD_SYMBOLS = ("R_10", "R_25", "R_50", "R_75", "R_100", "1HZ100V")
WIZARD_TYPES = (
    "CALL",
    "PUT",
    "DIGITEVEN",
    "DIGITODD",
    "DIGITMATCH",
    "DIGITDIFF",
    "DIGITOVER",
    "DIGITUNDER",
    *PRODUCT_TYPES,
)
DIGIT_BARRIER = frozenset({"DIGITMATCH", "DIGITDIFF", "DIGITOVER", "DIGITUNDER"})
#: The products without expiry the step-by-step /buy offers, and the one option it asks for
#: (from the symbol's ``contracts_for`` choices) instead of a duration.
WIZARD_OPTION = {
    "MULTUP": ("multiplier", "Which multiplier? (take profit, stop loss: type /buy …)"),
    "MULTDOWN": ("multiplier", "Which multiplier? (take profit, stop loss: type /buy …)"),
    "ACCU": ("growth_rate", "Which growth rate a tick?"),
}
WIZARD_STAKES = (1, 5, 10, 25, 50)
WIZARD_DURATIONS = ("1t", "5t", "10t", "1m", "5m")
#: The durations the step-by-step /buy offers a product that has an expiry (turbos: 5-10
#: ticks or a time; vanillas: a time, never ticks), then the barrier it asks for (from the
#: symbol's ``contracts_for`` choices for that expiry type). A turbos' barrier is asked rather
#: than its payout per point, whose choices depend on the stake.
WIZARD_EXPIRING = {
    "TURBOSLONG": (("5t", "10t", "1m", "5m", "15m"), "Which barrier? (distance from the spot)"),
    "TURBOSSHORT": (("5t", "10t", "1m", "5m", "15m"), "Which barrier? (distance from the spot)"),
    "VANILLALONGCALL": (("1m", "5m", "15m", "1h"), "Which strike? (from the spot)"),
    "VANILLALONGPUT": (("1m", "5m", "15m", "1h"), "Which strike? (from the spot)"),
}

#: The ``key=value`` options of a product, by every name they may be typed with.
OPTION_KEYS = {
    "multiplier": "multiplier",
    "take_profit": "take_profit",
    "tp": "take_profit",
    "stop_loss": "stop_loss",
    "sl": "stop_loss",
    "cancellation": "cancellation",
    "dc": "cancellation",
    "growth_rate": "growth_rate",
    "growth": "growth_rate",
    "payout_per_point": "payout_per_point",
    "ppp": "payout_per_point",
    "strike": "strike",
    "barrier": "barrier",
}
_NUMBERS = frozenset({"multiplier", "take_profit", "stop_loss", "growth_rate", "payout_per_point"})
_SHORT = {"take_profit": "tp", "stop_loss": "sl", "growth_rate": "growth", "cancellation": "dc"}


def spell(name: str) -> str:
    """How an option is typed in the bot (for :func:`derivkit.products.product_spec`)."""
    if name in ("duration", "barrier"):
        return f"the {name}"
    short = _SHORT.get(name)
    return f"{name}= ({short}=)" if short else f"{name}="


@dataclass(frozen=True)
class TradeTerms:
    """A contract as the user asked for it, before it is checked against the symbol."""

    symbol: str
    contract_type: str
    stake: float
    duration: str | None
    barrier: str | None = None
    options: ProductOptions = field(default_factory=ProductOptions)

    def spec(self, currency: str) -> AnySpec:
        """The typed spec (a product's, or a binary ContractSpec). Raises ValueError (a
        readable reason) for a bad duration or option."""
        product = product_spec(
            self.symbol,
            self.contract_type,
            self.stake,
            duration=self.duration,
            barrier=self.barrier,
            currency=currency,
            options=self.options,
            spell=spell,
            see=f"see /contracts {self.symbol}",
        )
        if product is not None:
            return product
        if self.duration is None:
            raise ValueError(f"{self.contract_type} needs a duration, e.g. 5t or 5m")
        return contract_spec(
            self.symbol,
            self.contract_type,
            self.stake,
            self.duration,
            barrier=self.barrier,
            currency=currency,
        )


def _option_value(key: str, name: str, text: str) -> Any:
    if name not in _NUMBERS:
        return text
    percent = name == "growth_rate" and text.endswith("%")
    try:
        value = float(text[:-1] if percent else text)
    except ValueError:
        raise ValueError(f"{key}= must be a number, got {text!r}.") from None
    if not math.isfinite(value):
        raise ValueError(f"{key}= must be a number, got {text!r}.")
    return value / 100 if percent else value


def _options(pairs: list[tuple[str, str]], args: list[str]) -> dict[str, Any]:
    """The ``key=value`` options (and an ``x100`` multiplier) by their canonical names."""
    found: dict[str, Any] = {}
    for key, text in pairs:
        name = OPTION_KEYS.get(key.lower().replace("-", "_"))
        if name is None:
            known = ", ".join(f"{k}=" for k in OPTION_KEYS)
            raise ValueError(f"Unknown option {key}=. The options are: {known}.")
        if name in found:
            raise ValueError(f"{key}= is given twice.")
        found[name] = _option_value(key, name, text.strip())
    for arg in args:
        if "multiplier" in found:
            raise ValueError("The multiplier is given twice.")
        found["multiplier"] = _option_value("multiplier", "multiplier", arg[1:])
    return found


def parse_terms(args: list[str], usage: str = BUY_USAGE) -> TradeTerms:
    """``R_100 CALL 10 5t [barrier]`` or ``R_100 MULTUP 10 x100 tp=5`` as terms; ValueError
    (HTML) says what is wrong."""
    pairs = [(arg.split("=", 1)[0], arg.split("=", 1)[1]) for arg in args if "=" in arg]
    multipliers = [arg for arg in args if "=" not in arg and arg[:1] in "xX" and arg[1:2].isdigit()]
    plain = [arg for arg in args if "=" not in arg and arg not in multipliers]
    if len(plain) < 3 or len(plain) > 5:
        raise ValueError(usage)
    symbol, contract_type, stake_text, *rest = plain
    contract_type = contract_type.upper()
    if contract_type not in PRODUCT_TYPES and not rest:
        raise ValueError(usage)
    try:
        stake = float(stake_text)
    except ValueError:
        raise ValueError(f"The stake must be a number, got {escape(stake_text)}.") from None
    if not stake > 0 or not math.isfinite(stake):
        raise ValueError("The stake must be positive.")
    try:
        options = _options(pairs, multipliers)
    except ValueError as error:
        raise ValueError(escape(str(error))) from None
    barrier = rest[1] if len(rest) == 2 else None
    if "barrier" in options:
        if barrier is not None:
            raise ValueError("The barrier is given twice.")
        barrier = str(options.pop("barrier"))
    duration = rest[0] if rest else None
    return TradeTerms(symbol, contract_type, stake, duration, barrier, ProductOptions(**options))


async def _checked_spec(rt: BotRuntime, terms: TradeTerms, currency: str) -> AnySpec:
    """Terms with the server's spelling of the symbol, checked against what it offers.

    Raises:
        ValueError: a bad duration or option, or a contract type the symbol does not offer.
        UnknownSymbol, APIError.
    """
    symbol = await rt.market.resolve(terms.symbol)
    offered = sorted({offer.contract_type for offer in await rt.market.contracts(symbol, currency)})
    if offered and terms.contract_type not in offered:
        raise ValueError(
            f"{escape(terms.contract_type)} is not offered on {escape(symbol)}. "
            f"Valid types: {escape(', '.join(offered))}."
        )
    try:
        return replace(terms, symbol=symbol).spec(currency)
    except ValueError as error:  # ProductInputError, MissingBarrier, a bad duration
        text = str(error)
        raise ValueError(escape(text if text.endswith(".") else text + ".")) from None


async def quote_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A price only: nothing can be bought from it."""
    rt = runtime(context)
    user = update.effective_user
    if user is None:
        return
    try:
        terms = parse_terms(list(context.args or []), QUOTE_USAGE)
    except ValueError as error:
        await reply(update, str(error))
        return
    session = await rt.session(user.id)
    try:
        spec = await _checked_spec(rt, terms, session.currency)
    except ValueError as error:
        await reply(update, str(error))
        return
    proposal = await session.client.proposal(spec)
    await reply(
        update,
        quote_card(spec, proposal, session.account)
        + "\n\nTo buy it: /buy "
        + escape(" ".join(context.args or [])),
    )


async def buy_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Quote the contract and ask for confirmation; nothing is bought here."""
    rt = runtime(context)
    user = update.effective_user
    message = update.effective_message
    if user is None or message is None:
        return
    args = list(context.args or [])
    refusal = await trade_refusal(rt, user.id, None, message)
    if refusal:
        await message.reply_text(refusal)
        return
    if not args:
        session = await rt.session(user.id)
        refusal = await trade_refusal(rt, user.id, session, message, typed=False)
        if refusal:  # before the first step, not after the last
            await message.reply_text(refusal)
            return
        await _wizard_start(rt, user.id, message)
        return
    try:
        terms = parse_terms(args)
    except ValueError as error:
        await message.reply_text(str(error))
        return
    session = await rt.session(user.id)
    await _offer_buy(rt, session, user.id, message, terms)


async def _offer_buy(
    rt: BotRuntime,
    session: AccountSession,
    user_id: int,
    message: Message,
    terms: TradeTerms,
    *,
    edit: Card | None = None,
) -> None:
    """Check, quote and show the Confirm card (as a new message, or in place of ``edit``)."""

    async def say(text: str) -> None:
        if edit is not None and edit.message_id is not None:
            rt.buttons.retire(edit)
            await rt.delivery.edit(edit.chat_id, edit.message_id, text)
        else:
            await message.reply_text(text)

    refusal = await trade_refusal(rt, user_id, session, message, typed=edit is None)
    if refusal:
        await say(refusal)
        return
    try:
        spec = await _checked_spec(rt, terms, session.currency)
    except ValueError as error:
        await say(str(error))
        return
    refusal = await buy_refusal(rt, session, user_id, spec.amount)
    if refusal:
        await say(refusal)
        return
    try:
        proposal = await session.client.proposal(spec)
    except APIError as error:  # the server's reason: a multiplier not offered, a bad barrier...
        await say(f"❌ {escape(error.message)}")
        return
    limits = await rt.trading_limits(user_id)
    if proposal.ask_price > limits.max_stake:
        await say(
            f"Refused: the price asked, {money(proposal.ask_price, session.currency)}, is above "
            f"this bot's limit of {money(limits.max_stake, session.currency)}."
        )
        return
    order = rt.orders.add(
        "buy",
        user_id=user_id,
        chat_id=message.chat_id,
        summary=quote_card(spec, proposal, session.account),
        price=proposal.ask_price,
        spec=spec,
    )
    order.proposal = proposal
    await ask_confirmation(rt, message, order, "Buy", edit=edit)


async def ask_confirmation(
    rt: BotRuntime,
    message: Message,
    order: PendingOrder,
    verb: str,
    *,
    edit: Card | None = None,
    abort: str = "Cancel",
) -> None:
    """Show the order's card with ``verb`` (confirm) and ``abort`` buttons; it expires with
    the order."""
    card = rt.buttons.card(order.user_id, order.chat_id, ttl=rt.orders.ttl + 5)
    markup = card.markup(
        [
            [
                card.button(verb, "trade.confirm", order.nonce),
                card.button(abort, "trade.cancel", order.nonce),
            ]
        ]
    )
    text = f"{order.summary}\n\nConfirm within {rt.orders.ttl:g} s."
    if edit is not None and edit.message_id is not None:
        rt.buttons.retire(edit)
        await rt.delivery.edit(edit.chat_id, edit.message_id, text, reply_markup=markup)
        message_id = edit.message_id
    else:
        sent = await message.reply_text(text, reply_markup=markup)
        message_id = sent.message_id
    card.bind(message_id)
    order.message_id = message_id
    order.card = card
    if rt.job_queue is not None:
        rt.job_queue.run_once(expire_order, when=rt.orders.ttl, data=order.nonce)


@action("trade.confirm")
async def confirm_order(
    update: Update, context: ContextTypes.DEFAULT_TYPE, button: Button, tap: Tap
) -> None:
    rt = runtime(context)
    user_id = button.card.user_id
    (nonce,) = button.args
    if rt.orders.get(nonce, user_id) is None:
        await _consumed(rt, button, tap, nonce)
        return
    if not rt.limits.allow_trade(user_id):
        await tap.answer(f"One trade every {rt.limits.trade_gap:g} s; tap again in a moment.")
        return
    session = await rt.session(user_id)
    order = await rt.orders.claim(nonce, user_id)  # atomic: in a fleet too, one tap trades once
    if order is None:  # expired while the session opened, or consumed by another instance
        await _consumed(rt, button, tap, nonce)
        return
    rt.buttons.retire(button.card)
    await tap.answer("Sending…")
    chat_id, message_id = order.chat_id, tap.message.message_id
    await rt.delivery.edit(chat_id, message_id, f"{order.summary}\n\n⏳ Sending…")
    result = await _execute(rt, session, order, message_id)
    # the card first: if the process stops before its tombstone is marked, the next start
    # tells the card again (the truth, looked up); the other way round it would stay "Sending…"
    await rt.delivery.final(chat_id, message_id, f"{order.summary}\n\n{result}")
    await rt.orders.finished(nonce, result)


async def _consumed(rt: BotRuntime, button: Button, tap: Tap, nonce: str) -> None:
    """A Confirm whose order is gone: expired or cancelled (no longer valid), or consumed by a
    Confirm (this tap's own earlier run, on an instance that died mid-way, or an earlier tap).
    What was sent is looked up, and the card finished with the truth (:func:`claimed_outcome`:
    the journal's entry of the buy, resolved now if it was left pending, else the order's
    tombstone: not sent; sent, and checked with Deriv; or what its card was told). Runs under
    the user's lock, so no live instance is working on the order unless its tombstone says it
    is alive (a stalled instance that lost its lock): then the card is left to it."""
    user_id = button.card.user_id
    consumed = await rt.orders.consumed(nonce, user_id)
    entry = await rt.storage.journal_for_order(nonce)
    if consumed is None and entry is None:  # never confirmed: expired or cancelled
        await tap.answer("This confirmation is no longer valid.", alert=True)
        return
    working = (
        consumed is not None
        and consumed.outcome is None
        and consumed.claimer_alive
        and consumed.claimed_by != rt.orders.holder
    )
    if working:
        await tap.answer("Still being sent: the result will replace this card.", alert=True)
        return
    await tap.answer("Looking up what happened…")
    result = await claimed_outcome(rt, user_id, consumed, entry)
    rt.buttons.retire(button.card)
    order = consumed.order if consumed is not None else {}
    text = final_card(order, entry, result)
    await rt.delivery.final(tap.message.chat_id, tap.message.message_id, text)
    await rt.orders.finished(nonce, result)


async def _execute(
    rt: BotRuntime, session: AccountSession, order: PendingOrder, message_id: int
) -> str:
    if order.kind == "buy":
        assert order.spec is not None and order.proposal is not None
        refusal = await trade_refusal(rt, order.user_id, session, None, typed=False)
        refusal = refusal or await buy_refusal(rt, session, order.user_id, order.price)
        if refusal:
            return f"❌ {refusal}"
        return await rt.desk.buy(
            session,
            user_id=order.user_id,
            chat_id=order.chat_id,
            spec=order.spec,
            proposal=order.proposal,
            max_price=order.price,
            message_id=message_id,
            order_nonce=order.nonce,
        )
    if order.kind in ("update", "cancel"):
        assert order.contract_id is not None
        refusal = await trade_refusal(rt, order.user_id, session, None, typed=False)
        if refusal:
            return f"❌ {refusal}"
        await rt.orders.sending(order.nonce)
        if order.kind == "cancel":
            return await rt.desk.cancel(session, order.contract_id, chat_id=order.chat_id)
        turbos = order.contract_type.startswith("TURBOS")
        return await rt.desk.update(
            session, order.contract_id, order.changes, chat_id=order.chat_id, turbos=turbos
        )
    await rt.orders.sending(order.nonce)
    if order.kind == "sellall":
        results = await asyncio.gather(
            *(rt.desk.sell(session, contract_id) for contract_id in order.contract_ids)
        )
        return "\n".join(results) or "Nothing to sell."
    assert order.contract_id is not None
    return await rt.desk.sell(session, order.contract_id, order.price)


@action("trade.cancel")
async def cancel_order(
    update: Update, context: ContextTypes.DEFAULT_TYPE, button: Button, tap: Tap
) -> None:
    rt = runtime(context)
    (nonce,) = button.args
    order = await rt.orders.claim(nonce, button.card.user_id)
    if order is None:  # expired, or consumed by a Confirm (or this tap's run that died)
        await _consumed(rt, button, tap, nonce)
        return
    rt.buttons.retire(button.card)
    undone = "Kept" if order.kind == "cancel" else "Cancelled"  # "Keep it" under /cancel
    result = f"✖️ {undone}: nothing was sent."
    await rt.orders.finished(nonce, result)
    await tap.answer(f"{undone}.")
    await rt.delivery.final(order.chat_id, tap.message.message_id, f"{order.summary}\n\n{result}")


async def expire_order(context: ContextTypes.DEFAULT_TYPE) -> None:
    """JobQueue callback: an order nobody confirmed in time; its buttons go away."""
    job = context.job
    if job is None or not isinstance(job.data, str):
        return
    rt = runtime(context)
    order = await rt.orders.expire_now(job.data)
    if order is None or order.message_id is None:
        return
    if order.card is not None:
        rt.buttons.retire(order.card)
    await rt.delivery.edit(
        order.chat_id, order.message_id, f"{order.summary}\n\n⌛ Expired: nothing was sent."
    )


# -- selling -----------------------------------------------------------------------------


async def _offer_sale(
    rt: BotRuntime, session: AccountSession, message: Message, user_id: int, contract_id: int
) -> None:
    refusal = await trade_refusal(rt, user_id, session, message, typed=False)
    if refusal:
        await message.reply_text(refusal)
        return
    async with await session.client.open_contract(contract_id) as updates:
        contract = await anext(updates)
    if contract.is_sold:
        await message.reply_text(f"Contract <code>{contract_id}</code> is already settled.")
        return
    if not contract.is_valid_to_sell:
        await message.reply_text(
            f"Contract <code>{contract_id}</code> cannot be sold yet; try again in a moment."
        )
        return
    currency = contract.currency or session.currency
    summary = (
        f"Sell contract <code>{contract_id}</code> "
        f"(<b>{escape(contract.contract_type)}</b> on {escape(contract.underlying)})\n"
        f"Bought for {money(contract.buy_price, currency)}; "
        f"worth about <b>{money(contract.bid_price, currency)}</b> now "
        f"(sold at the market price when you confirm)\n"
        f"Account: {account_label(session.account)}"
    )
    order = rt.orders.add(
        "sell",
        user_id=user_id,
        chat_id=message.chat_id,
        summary=summary,
        price=0.0,
        contract_id=contract_id,
    )
    await ask_confirmation(rt, message, order, "Sell")


async def sell_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Show the contract's value and ask for confirmation; nothing is sold here."""
    rt = runtime(context)
    user = update.effective_user
    message = update.effective_message
    if user is None or message is None:
        return
    refusal = await trade_refusal(rt, user.id, None, message)
    if refusal:
        await message.reply_text(refusal)
        return
    args = context.args or []
    if len(args) != 1 or not args[0].isdigit():
        await message.reply_text("Usage: /sell CONTRACT_ID (see /portfolio)")
        return
    session = await rt.session(user.id)
    await _offer_sale(rt, session, message, user.id, int(args[0]))


@action("trade.sell")
async def sell_button(
    update: Update, context: ContextTypes.DEFAULT_TYPE, button: Button, tap: Tap
) -> None:
    """A Sell button under /portfolio: asks for confirmation like /sell."""
    rt = runtime(context)
    user_id = button.card.user_id
    (contract_id,) = button.args
    await tap.answer()
    session = await rt.session(user_id)
    await _offer_sale(rt, session, tap.message, user_id, int(contract_id))


def _sellable(session: AccountSession) -> list[OpenContract]:
    states = [session.watchers.latest(cid) for cid in session.watchers.contract_ids()]
    return [s for s in states if s is not None and s.is_valid_to_sell and not s.is_sold]


async def sellall_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """One confirmation for every open contract that can be sold now."""
    rt = runtime(context)
    user = update.effective_user
    message = update.effective_message
    if user is None or message is None:
        return
    refusal = await trade_refusal(rt, user.id, None, message)
    if refusal:
        await message.reply_text(refusal)
        return
    session = await rt.session(user.id)
    refusal = await trade_refusal(rt, user.id, session, message, typed=False)
    if refusal:
        await message.reply_text(refusal)
        return
    for contract in await session.client.portfolio():
        session.watchers.watch(contract.contract_id, contract.buy_price)
    await _settle_states(session)
    sellable = _sellable(session)
    if not sellable:
        await message.reply_text("Nothing can be sold now (no open contract past its entry tick).")
        return
    currency = session.currency
    worth = sum(contract.bid_price or 0.0 for contract in sellable)
    lines = [
        f"Sell <b>all {len(sellable)}</b> open contracts at the market price?",
        *(
            f"• <code>{c.contract_id}</code> {escape(c.contract_type)} {escape(c.underlying)}: "
            f"about {money(c.bid_price, currency)}"
            for c in sellable
        ),
        f"Worth about <b>{money(worth, currency)}</b> now. "
        f"Account: {account_label(session.account)}",
    ]
    order = rt.orders.add(
        "sellall", user_id=user.id, chat_id=message.chat_id, summary="\n".join(lines), price=0.0
    )
    order.contract_ids = [contract.contract_id for contract in sellable]
    await ask_confirmation(rt, message, order, "Sell all")


async def _settle_states(session: AccountSession, timeout: float = 5.0) -> None:
    """Wait (briefly) until every watched contract has reported its state once."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(timeout):
            await session.watchers.wait_for_states()


# -- the step-by-step /buy -----------------------------------------------------------------


def _draft_text(draft: dict[str, Any], ask: str) -> str:
    parts = [f"{key}: <b>{escape(str(value))}</b>" for key, value in draft.items()]
    return "🧾 New trade" + (" · " + " · ".join(parts) if parts else "") + f"\n{ask}"


async def _wizard_start(rt: BotRuntime, user_id: int, message: Message) -> None:
    card = rt.buttons.card(user_id, message.chat_id, ttl=600)
    rows = [
        [card.button(s, "buy.symbol", s) for s in WIZARD_SYMBOLS[i : i + 3]]
        for i in range(0, len(WIZARD_SYMBOLS), 3)
    ]
    rows.append([card.button("Cancel", "buy.cancel")])
    sent = await message.reply_text(
        _draft_text({}, "Which symbol? (any other: /buy SYMBOL TYPE STAKE DURATION)"),
        reply_markup=card.markup(rows),
    )
    card.bind(sent)


async def _wizard_step(
    tap: Tap, rt: BotRuntime, card: Card, text: str, rows: list[list[Any]]
) -> None:
    rows.append([card.button("Cancel", "buy.cancel")])
    await tap.answer()
    await rt.delivery.edit(
        card.chat_id, tap.message.message_id, text, reply_markup=card.markup(rows)
    )


@action("buy.symbol")
async def wizard_symbol(
    update: Update, context: ContextTypes.DEFAULT_TYPE, button: Button, tap: Tap
) -> None:
    rt = runtime(context)
    (symbol,) = button.args
    offered = {offer.contract_type for offer in await rt.market.contracts(symbol)}
    types = [t for t in WIZARD_TYPES if t in offered]
    card = button.card
    rows = [
        [card.button(t, "buy.type", symbol, t) for t in types[i : i + 2]]
        for i in range(0, len(types), 2)
    ]
    await _wizard_step(tap, rt, card, _draft_text({"symbol": symbol}, "Which contract?"), rows)


@action("buy.type")
async def wizard_type(
    update: Update, context: ContextTypes.DEFAULT_TYPE, button: Button, tap: Tap
) -> None:
    rt = runtime(context)
    symbol, contract_type = button.args
    card = button.card
    limits = await rt.trading_limits(card.user_id)
    stakes = [float(s) for s in WIZARD_STAKES if s <= limits.max_stake] or [limits.max_stake]
    rows = [[card.button(f"{s:g}", "buy.stake", symbol, contract_type, float(s)) for s in stakes]]
    draft = {"symbol": symbol, "type": contract_type}
    await _wizard_step(tap, rt, card, _draft_text(draft, "Which stake?"), rows)


@action("buy.stake")
async def wizard_stake(
    update: Update, context: ContextTypes.DEFAULT_TYPE, button: Button, tap: Tap
) -> None:
    rt = runtime(context)
    symbol, contract_type, stake = button.args
    card = button.card
    draft = {"symbol": symbol, "type": contract_type, "stake": f"{stake:g}"}
    if contract_type in WIZARD_OPTION:
        name, ask = WIZARD_OPTION[contract_type]
        offers = [o for o in await rt.market.contracts(symbol) if o.contract_type == contract_type]
        choices = offers[0].multiplier_range if offers and name == "multiplier" else []
        if offers and name == "growth_rate":
            choices = offers[0].growth_rate_range
        buttons = [
            card.button(
                _choice_label(name, value), "buy.option", symbol, contract_type, stake, value
            )
            for value in choices
        ]
        rows = [buttons[i : i + 5] for i in range(0, len(buttons), 5)]
        await _wizard_step(tap, rt, card, _draft_text(draft, ask), rows)
        return
    durations = WIZARD_EXPIRING[contract_type][0] if contract_type in WIZARD_EXPIRING else None
    rows = [
        [
            card.button(d, "buy.duration", symbol, contract_type, stake, d)
            for d in durations or WIZARD_DURATIONS
        ]
    ]
    await _wizard_step(tap, rt, card, _draft_text(draft, "How long?"), rows)


def _choice_label(name: str, value: float) -> str:
    return f"x{value:g}" if name == "multiplier" else f"{value * 100:g} %"


@action("buy.option")
async def wizard_option(
    update: Update, context: ContextTypes.DEFAULT_TYPE, button: Button, tap: Tap
) -> None:
    """A multiplier's multiplier or an accumulator's growth rate: the last step."""
    rt = runtime(context)
    symbol, contract_type, stake, value = button.args
    if WIZARD_OPTION[contract_type][0] == "multiplier":
        options = ProductOptions(multiplier=float(value))
    else:
        options = ProductOptions(growth_rate=float(value))
    await _wizard_quote(
        rt, tap, button.card, TradeTerms(symbol, contract_type, stake, None, None, options)
    )


@action("buy.duration")
async def wizard_duration(
    update: Update, context: ContextTypes.DEFAULT_TYPE, button: Button, tap: Tap
) -> None:
    rt = runtime(context)
    symbol, contract_type, stake, duration = button.args
    card = button.card
    if contract_type in WIZARD_EXPIRING:
        await _wizard_barriers(rt, tap, card, symbol, contract_type, stake, duration)
        return
    if contract_type in DIGIT_BARRIER:
        rows = [
            [
                card.button(str(d), "buy.barrier", symbol, contract_type, stake, duration, str(d))
                for d in range(i, i + 5)
            ]
            for i in (0, 5)
        ]
        draft = {
            "symbol": symbol,
            "type": contract_type,
            "stake": f"{stake:g}",
            "duration": duration,
        }
        await _wizard_step(tap, rt, card, _draft_text(draft, "Which digit?"), rows)
        return
    await _wizard_quote(rt, tap, card, TradeTerms(symbol, contract_type, stake, duration))


async def _wizard_barriers(
    rt: BotRuntime,
    tap: Tap,
    card: Card,
    symbol: str,
    contract_type: str,
    stake: float,
    duration: str,
) -> None:
    """A turbos' or a vanilla's last step: its barrier (strike), from the symbol's choices for
    the duration's expiry type."""
    expiry = "tick" if duration.endswith("t") else "intraday"
    offers = [o for o in await rt.market.contracts(symbol) if o.contract_type == contract_type]
    offer = next((o for o in offers if o.expiry_type == expiry), None)
    draft = {"symbol": symbol, "type": contract_type, "stake": f"{stake:g}", "duration": duration}
    if offer is None or not offer.barrier_choices:
        rt.buttons.retire(card)
        await tap.answer()
        await rt.delivery.edit(
            card.chat_id,
            tap.message.message_id,
            _draft_text(
                draft,
                f"❌ {escape(symbol)} offers no {escape(contract_type)} for "
                f"{escape(duration)}; /contracts {escape(symbol)} lists the choices.",
            ),
        )
        return
    buttons = [
        card.button(choice, "buy.barrier", symbol, contract_type, stake, duration, choice)
        for choice in offer.barrier_choices
    ]
    rows = [buttons[i : i + 4] for i in range(0, len(buttons), 4)]
    ask = WIZARD_EXPIRING[contract_type][1]
    await _wizard_step(tap, rt, card, _draft_text(draft, ask), rows)


@action("buy.barrier")
async def wizard_barrier(
    update: Update, context: ContextTypes.DEFAULT_TYPE, button: Button, tap: Tap
) -> None:
    rt = runtime(context)
    symbol, contract_type, stake, duration, barrier = button.args
    await _wizard_quote(
        rt, tap, button.card, TradeTerms(symbol, contract_type, stake, duration, barrier)
    )


async def _wizard_quote(rt: BotRuntime, tap: Tap, card: Card, terms: TradeTerms) -> None:
    await tap.answer("Quoting…")
    session = await rt.session(card.user_id)
    await _offer_buy(rt, session, card.user_id, tap.message, terms, edit=card)


@action("buy.cancel")
async def wizard_cancel(
    update: Update, context: ContextTypes.DEFAULT_TYPE, button: Button, tap: Tap
) -> None:
    rt = runtime(context)
    rt.buttons.retire(button.card)
    await tap.answer("Cancelled.")
    await rt.delivery.edit(button.card.chat_id, tap.message.message_id, "✖️ No trade.")
