"""/price, /chart, /symbols (browsed with buttons) and /contracts: market data, from the one
shared connection (:class:`~derivkit.bot.marketdata.MarketData`). Symbols are case-insensitive."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from html import escape

from telegram import InputFile, Update
from telegram.ext import ContextTypes

from derivkit.bot import charts
from derivkit.bot.buttons import Button
from derivkit.bot.handlers.common import Tap, action, reply
from derivkit.bot.marketdata import UnknownSymbol
from derivkit.bot.render import pre_chunks, quotes_table
from derivkit.bot.runtime import runtime
from derivkit.core import APIError, ContractOffer
from derivkit.formatting import price
from derivkit.products import offer_choices

__all__ = [
    "MAX_SYMBOLS",
    "chart_command",
    "contracts_command",
    "price_command",
    "symbols_command",
]

MAX_SYMBOLS = 10
GRANULARITIES = {
    "1m": 60,
    "2m": 120,
    "3m": 180,
    "5m": 300,
    "10m": 600,
    "15m": 900,
    "30m": 1800,
    "1h": 3600,
    "2h": 7200,
    "4h": 14400,
    "8h": 28800,
    "1d": 86400,
}
CHART_CANDLES = 60
CHART_TICKS = 300
SYMBOLS_PER_PAGE = 12


async def price_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    if message is None:
        return
    typed = list(dict.fromkeys(context.args or []))
    if not typed or len(typed) > MAX_SYMBOLS:
        await message.reply_text(
            f"Usage: /price SYMBOL [SYMBOL ...] (up to {MAX_SYMBOLS}), e.g. /price R_100 1HZ100V"
        )
        return
    market = runtime(context).market

    async def one(text: str) -> tuple[str, float | None, int | None, str]:
        try:
            symbol = await market.resolve(text)
            tick = await market.tick(symbol)
        except UnknownSymbol as error:
            return text, None, None, str(error)
        except APIError as error:
            return text, None, None, error.message
        return symbol, tick.quote, tick.pip_size, ""

    rows = await asyncio.gather(*(one(text) for text in typed))
    for chunk in quotes_table(list(rows)):
        await message.reply_text(chunk)


async def chart_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A PNG chart: candles at a granularity (``5m``), or the last ticks (default)."""
    message = update.effective_message
    if message is None:
        return
    args = context.args or []
    if not 1 <= len(args) <= 2:
        await message.reply_text(
            "Usage: /chart SYMBOL [granularity], e.g. <code>/chart R_100 5m</code> "
            f"({', '.join(GRANULARITIES)}; default: the last {CHART_TICKS} ticks)"
        )
        return
    market = runtime(context).market
    symbol = await market.resolve(args[0])
    wanted = args[1].lower() if len(args) == 2 else "ticks"
    if wanted == "ticks":
        history = await market.history(symbol, count=CHART_TICKS)
        if not history.prices:
            await message.reply_text(f"No ticks for {escape(symbol)}.")
            return
        png = await asyncio.to_thread(charts.tick_chart, symbol, history)
        now = price(history.prices[-1], history.pip_size)
        caption = f"{symbol}: last {len(history.prices)} ticks, now {now}"
    else:
        granularity = GRANULARITIES.get(wanted)
        if granularity is None and wanted.isdigit() and int(wanted) in GRANULARITIES.values():
            granularity = int(wanted)
        if granularity is None:
            await message.reply_text(
                f"Granularity must be one of {', '.join(GRANULARITIES)} or ticks."
            )
            return
        candles = await market.candles(symbol, granularity=granularity, count=CHART_CANDLES)
        if not candles:
            await message.reply_text(f"No candles for {escape(symbol)}.")
            return
        png = await asyncio.to_thread(charts.candle_chart, symbol, candles, granularity)
        caption = f"{symbol}: {len(candles)} candles of {wanted}"
    await message.reply_photo(InputFile(png, filename=f"{symbol}.png"), caption=escape(caption))


async def _markets(context: ContextTypes.DEFAULT_TYPE) -> dict[str, list[tuple[str, str]]]:
    grouped: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for item in await runtime(context).market.symbols():
        grouped[item.market_display_name or item.market].append((item.symbol, item.display_name))
    return dict(sorted(grouped.items()))


async def symbols_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    rt = runtime(context)
    user = update.effective_user
    message = update.effective_message
    if user is None or message is None:
        return
    markets = await _markets(context)
    card = rt.buttons.card(user.id, message.chat_id)
    rows = [
        [card.button(f"{name} ({len(items)})", "symbols.market", name, 0)]
        for name, items in markets.items()
    ]
    sent = await message.reply_text("Markets: pick one.", reply_markup=card.markup(rows))
    card.bind(sent)


@action("symbols.market")
async def symbols_market(
    update: Update, context: ContextTypes.DEFAULT_TYPE, button: Button, tap: Tap
) -> None:
    """One market's symbols, a page at a time; a symbol's button shows its price."""
    name, page = button.args
    items = (await _markets(context)).get(name, [])
    start = page * SYMBOLS_PER_PAGE
    shown = items[start : start + SYMBOLS_PER_PAGE]
    card = button.card
    rows = [
        [card.button(f"{symbol} · {display}", "symbols.price", symbol)] for symbol, display in shown
    ]
    nav = []
    if page > 0:
        nav.append(card.button("‹ Back", "symbols.market", name, page - 1))
    if start + SYMBOLS_PER_PAGE < len(items):
        nav.append(card.button("More ›", "symbols.market", name, page + 1))
    nav.append(card.button("Markets", "symbols.markets"))
    rows.append(nav)
    await tap.answer()
    await tap.query.edit_message_text(
        f"<b>{escape(name)}</b>: {len(items)} symbols (page {page + 1})",
        reply_markup=card.markup(rows),
    )


@action("symbols.markets")
async def symbols_markets(
    update: Update, context: ContextTypes.DEFAULT_TYPE, button: Button, tap: Tap
) -> None:
    markets = await _markets(context)
    card = button.card
    rows = [
        [card.button(f"{name} ({len(items)})", "symbols.market", name, 0)]
        for name, items in markets.items()
    ]
    await tap.answer()
    await tap.query.edit_message_text("Markets: pick one.", reply_markup=card.markup(rows))


@action("symbols.price")
async def symbols_price(
    update: Update, context: ContextTypes.DEFAULT_TYPE, button: Button, tap: Tap
) -> None:
    (symbol,) = button.args
    tick = await runtime(context).market.tick(symbol)
    await tap.answer(f"{symbol}: {price(tick.quote, tick.pip_size)}")


def _choice_lines(offer: ContractOffer) -> list[str]:
    """A product's choices as /buy takes them: ``x10 x20``, ``dc=5m|10m``, ``growth=1%|2%``."""
    lines = []
    for name, values in offer_choices(offer).items():
        if name == "multiplier":
            lines.append(" ".join(f"x{value}" for value in values))
        elif name == "growth_rate":
            lines.append("growth=" + "|".join(f"{float(value) * 100:g}%" for value in values))
        else:
            key = {"cancellation": "dc", "payout_per_point": "ppp"}.get(name, name)
            lines.append(f"{key}=" + "|".join(values))
    return lines


async def contracts_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    if message is None:
        return
    args = context.args or []
    if len(args) != 1:
        await message.reply_text("Usage: /contracts SYMBOL, e.g. /contracts R_100")
        return
    market = runtime(context).market
    symbol = await market.resolve(args[0])
    offers = await market.contracts(symbol)
    if not offers:
        await message.reply_text(f"Nothing can be traded on {escape(symbol)} now.")
        return
    lines = []
    for o in offers:
        lines.append(
            f"{o.contract_type:<11} {o.contract_display[:22]:<22} "
            f"{o.min_contract_duration}-{o.max_contract_duration}"
        )
        lines.extend(f"  {choice}" for choice in _choice_lines(o))
    for chunk in pre_chunks([f"Contracts on {symbol}:", *lines]):
        await reply(update, chunk)
