"""/price: the latest quote of one or more symbols, fetched concurrently."""

from __future__ import annotations

import asyncio

from telegram import Update
from telegram.ext import ContextTypes

from derivkit.bot.render import quotes_table
from derivkit.bot.runtime import runtime
from derivkit.core import APIError

__all__ = ["MAX_SYMBOLS", "price_command"]

MAX_SYMBOLS = 10


async def price_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    if message is None:
        return
    symbols = list(dict.fromkeys(context.args or []))
    if not symbols or len(symbols) > MAX_SYMBOLS:
        await message.reply_text(
            f"Usage: /price SYMBOL [SYMBOL ...] (up to {MAX_SYMBOLS}), e.g. /price R_100 1HZ100V"
        )
        return
    client = runtime(context).client
    results = await asyncio.gather(
        *(client.ticks_history(symbol, count=1) for symbol in symbols), return_exceptions=True
    )
    rows: list[tuple[str, float | None, int | None, str]] = []
    for symbol, result in zip(symbols, results, strict=True):
        if isinstance(result, APIError):
            rows.append((symbol, None, None, result.message))
        elif isinstance(result, BaseException):
            raise result
        else:
            quote = result.prices[-1] if result.prices else None
            rows.append((symbol, quote, result.pip_size, "" if result.prices else "no quote"))
    for chunk in quotes_table(rows):
        await message.reply_text(chunk)
