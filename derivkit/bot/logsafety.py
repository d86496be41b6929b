"""Keep secrets out of the bot's logs.

The Bot API puts the bot token in every request URL, and ``httpx`` logs each URL at INFO; HTTP
errors can carry the URL too. python-telegram-bot logs every update and every call's parameters
at DEBUG, message texts included, and in multi-user mode a message may be a user's Deriv token.
:func:`protect_logging` quiets those loggers (``telegram`` never below INFO) and installs a
:class:`RedactingFilter` on the handlers that print, masking the bot token, anything shaped like
one, and the known Deriv tokens, in messages and tracebacks alike.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

__all__ = ["REDACTED", "RedactingFilter", "protect_logging", "redact"]

REDACTED = "<redacted>"
_BOT_TOKEN_SHAPE = re.compile(r"\d{5,20}:[A-Za-z0-9_-]{20,100}")
_NOISY_LOGGERS = ("httpx", "httpcore", "apscheduler")
#: Loggers that print message texts or raw frames (users' tokens) below INFO.
_TEXT_LOGGERS = ("telegram", "websockets")


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with every known secret and every bot-token-shaped string masked."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, REDACTED)
    return _BOT_TOKEN_SHAPE.sub(REDACTED, text)


class RedactingFilter(logging.Filter):
    """Masks secrets in a record's message and traceback before any handler formats it."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.secrets = tuple(secret for secret in secrets if secret)

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage(), self.secrets)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text, self.secrets)
        return True


def protect_logging(secrets: Iterable[str], handlers: Iterable[logging.Handler] = ()) -> None:
    """Quiet the HTTP loggers and mask ``secrets`` on ``handlers`` and the root logger's."""
    for name in _NOISY_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    for name in _TEXT_LOGGERS:
        logger = logging.getLogger(name)
        if logger.getEffectiveLevel() < logging.INFO:
            logger.setLevel(logging.INFO)
    secrets = tuple(secret for secret in secrets if secret)
    for handler in (*handlers, *logging.getLogger().handlers):
        existing = next((f for f in handler.filters if isinstance(f, RedactingFilter)), None)
        if existing is None:
            handler.addFilter(RedactingFilter(secrets))
        else:
            existing.secrets = tuple(dict.fromkeys((*existing.secrets, *secrets)))
