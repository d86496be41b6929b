"""What a user is told when a command fails (Telegram HTML, every dynamic value escaped).

:func:`sending_failed` tells how a money-moving action (buy, sell, update, cancel) failed, in
one of three ways: Deriv refused it (nothing happened; Deriv's reason), its outcome is unknown
(it was sent and no readable answer came: it may or may not have happened, it was not re-sent,
and the user is told where to look meanwhile), or it was not sent at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from derivkit.bot.marketdata import UnknownSymbol
from derivkit.bot.sessions import AtCapacity, NotConnected, TokenRefused
from derivkit.core import (
    APIError,
    ConnectionLost,
    DerivError,
    OutcomeUnknown,
    ProtocolError,
    RequestTimeout,
)

__all__ = [
    "BUY",
    "CANCELLATION",
    "SALE",
    "UPDATE",
    "Sending",
    "error_text",
    "outcome_unknown",
    "sending_failed",
]


@dataclass(frozen=True)
class Sending:
    """A money-moving action as its failure is told: ``what`` was being sent ("the sale"),
    ``not_done`` heads a refusal ("Not sold"), ``then`` is what the bot does about an unknown
    outcome."""

    what: str
    not_done: str
    then: str


BUY = Sending("the buy", "Not done", "I will check with Deriv as soon as the link is back")
SALE = Sending("the sale", "Not sold", "I will tell you when the contract settles")
UPDATE = Sending("the update", "Not updated", "I will check with Deriv and tell you")
CANCELLATION = Sending("the cancellation", "Not cancelled", "I will check with Deriv and tell you")


def outcome_unknown(error: BaseException) -> bool:
    """Whether a money-moving call that failed with ``error`` may have happened: it was sent
    and no readable answer came (the link failed, no answer in time, or an answer that could
    not be read: a reply of the wrong shape is still Deriv's answer that it was done)."""
    return isinstance(error, OutcomeUnknown | RequestTimeout | ProtocolError)


def sending_failed(error: DerivError, sending: Sending) -> str:
    """What the user is told when ``sending`` failed with ``error``."""
    if outcome_unknown(error):
        if isinstance(error, ProtocolError):
            cause = f"Deriv's answer to {sending.what} could not be read"
        elif isinstance(error, RequestTimeout):
            cause = f"Deriv did not answer {sending.what} in time"
        else:
            cause = f"The connection failed while {sending.what} was being sent"
        return (
            f"⚠️ {cause}: it may or may not have happened. Nothing was re-sent; "
            f"{sending.then}. Meanwhile /portfolio and /statement show what Deriv has."
        )
    if isinstance(error, APIError):
        return f"❌ {sending.not_done}: {escape(error.message)}"
    if isinstance(error, ConnectionLost):
        return (
            f"❌ {sending.not_done}: the connection to Deriv is down. Nothing was sent; "
            "try again in a moment."
        )
    return f"❌ {sending.not_done}: {escape(str(error))}"


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
