"""What a user is told when a command fails (Telegram HTML, every dynamic value escaped)."""

from __future__ import annotations

from html import escape

from derivkit.bot.marketdata import UnknownSymbol
from derivkit.bot.sessions import AtCapacity, NotConnected, TokenRefused
from derivkit.core import APIError, ConnectionLost, DerivError, RequestTimeout

__all__ = ["error_text"]


def error_text(error: BaseException) -> str:
    if isinstance(error, NotConnected):
        return "🔌 Connect your Deriv account first: /connect"
    if isinstance(error, TokenRefused):
        return (
            "🔌 Deriv refused your saved token (revoked?), so I deleted it. "
            "Send /connect with a new one."
        )
    if isinstance(error, AtCapacity):
        return "⏳ I am serving as many accounts as I can right now; try again in a minute."
    if isinstance(error, UnknownSymbol):
        text = escape(str(error))
        return f"❌ {text[:1].upper()}{text[1:]}. /symbols lists them."
    if isinstance(error, APIError):
        return f"❌ {escape(error.message)}"
    if isinstance(error, ConnectionLost):
        return "❌ Lost the connection to Deriv; I am reconnecting. Try again in a moment."
    if isinstance(error, RequestTimeout):
        return "❌ Deriv did not answer in time. Try again in a moment."
    if isinstance(error, DerivError):
        return f"❌ {escape(str(error))}"
    return "❌ Something went wrong on my side; the owner can see it in the bot's log."
