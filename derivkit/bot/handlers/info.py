"""/start, /help and /whoami."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from derivkit.bot.render import account_label
from derivkit.bot.runtime import runtime
from derivkit.formatting import money

__all__ = ["COMMANDS", "help_command", "whoami_command"]

COMMANDS: tuple[tuple[str, str], ...] = (
    ("price", "Latest quote: /price R_100 [more symbols]"),
    ("balance", "Account balance"),
    ("portfolio", "Open contracts, with Sell buttons"),
    ("buy", "Quote, then confirm: /buy R_100 CALL 10 5t [barrier]"),
    ("sell", "Sell an open contract: /sell CONTRACT_ID"),
    ("profit", "Recent results: /profit [count]"),
    ("alert", "Price alert: /alert R_100 above 1500"),
    ("alerts", "Your price alerts, with Delete buttons"),
    ("whoami", "Your Telegram user id"),
    ("help", "What I can do"),
)


async def help_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    rt = runtime(context)
    settings = rt.settings
    if settings.trading:
        trading = (
            f"on, at most {money(settings.max_stake, rt.currency)} per contract, "
            f"{settings.max_open} open at a time"
        )
        if settings.daily_loss is not None:
            trading += f", daily loss limit {money(settings.daily_loss, rt.currency)}"
    else:
        trading = "off (the owner starts the bot with --trading to allow it)"
    lines = [
        "<b>derivkit</b> — Deriv from Telegram",
        f"Account: {account_label(rt.client.account)}",
        f"Trading: {trading}",
        "",
        *(f"/{name} — {description}" for name, description in COMMANDS),
    ]
    await _reply(update, "\n".join(lines))


async def whoami_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answered for anyone: the id the owner needs for the allowlist."""
    user = update.effective_user
    if user is None:
        return
    await _reply(
        update,
        f"Your Telegram user id is <code>{user.id}</code>.\n"
        f"The bot's owner can allow it with: <code>derivkit bot run --allow {user.id}</code>",
    )


async def _reply(update: Update, text: str) -> None:
    message = update.effective_message
    if message is not None:
        await message.reply_text(text)
