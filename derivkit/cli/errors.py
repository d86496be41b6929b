"""The one place where a failure becomes one line on stderr and an exit code.

Every command runs its work inside :func:`reported`::

    with reported(out):
        ...

and every error the CLI expects (a :class:`CommandError`, derivkit's exception tree, a Telegram
error, Ctrl-C) leaves it as ``Error: <one line>`` on stderr and ``typer.Exit(code)``; anything
else is a bug and keeps its traceback. :func:`describe` is the table behind it, for commands that
report several failures (``price`` with some bad symbols) without stopping at the first.

Exit codes: 0 ok, 1 API error, 2 usage, 3 connection, 4 authentication, 130 interrupted.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, NoReturn

import typer

from derivkit.formatting import describe_error

if TYPE_CHECKING:
    from derivkit.cli.output import Output

__all__ = [
    "EXIT_API",
    "EXIT_AUTH",
    "EXIT_CONNECTION",
    "EXIT_INTERRUPTED",
    "EXIT_USAGE",
    "CommandError",
    "Interrupted",
    "MissingToken",
    "describe",
    "exit_code_for",
    "fail",
    "reported",
]

EXIT_API = 1
EXIT_USAGE = 2
EXIT_CONNECTION = 3
EXIT_AUTH = 4
EXIT_INTERRUPTED = 130


class CommandError(Exception):
    """A failure a command reports as it is: ``message`` for the user, and its exit code."""

    exit_code = EXIT_API

    def __init__(self, message: str, exit_code: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        if exit_code is not None:
            self.exit_code = exit_code


class MissingToken(CommandError):
    """An account command without any token."""

    exit_code = EXIT_AUTH


class Interrupted(CommandError):
    """Ctrl-C where the command can say what was (not) done, e.g. at a prompt."""

    exit_code = EXIT_INTERRUPTED


def exit_code_for(error: BaseException) -> int:
    """The exit code of an error :func:`describe` knows (1 for any other)."""
    described = describe(error)
    return described[1] if described else EXIT_API


def describe(error: BaseException) -> tuple[str, int] | None:
    """The one-line message and exit code for ``error``; None for an error the CLI does not
    expect (a bug, reported with its traceback)."""
    from derivkit.core import APIError, AuthError, DerivError, UsageError

    if isinstance(error, CommandError):
        return error.message, error.exit_code
    if isinstance(error, AuthError):
        return describe_error(error), EXIT_AUTH
    if isinstance(error, APIError):
        # A token the server cannot even parse is refused as input, but it is still a bad login.
        code = EXIT_AUTH if error.msg_type == "authorize" else EXIT_API
        return describe_error(error), code
    if isinstance(error, UsageError):
        return describe_error(error), EXIT_USAGE
    if isinstance(error, DerivError | TimeoutError):
        # ConnectionLost, OutcomeUnknown, RequestTimeout, ProtocolError
        return describe_error(error), EXIT_CONNECTION
    return _describe_telegram(error)


def _describe_telegram(error: BaseException) -> tuple[str, int] | None:
    """python-telegram-bot's errors, looked up only when the bot has loaded that library."""
    telegram_errors = sys.modules.get("telegram.error")
    if telegram_errors is None or not isinstance(error, telegram_errors.TelegramError):
        return None
    from derivkit.bot.logsafety import redact  # masks anything shaped like a bot token

    if isinstance(error, telegram_errors.InvalidToken):
        return "Telegram refused the bot token; check it with @BotFather", EXIT_AUTH
    if isinstance(error, telegram_errors.NetworkError):
        return f"cannot reach Telegram's Bot API: {redact(str(error))}", EXIT_CONNECTION
    return f"Telegram: {redact(str(error))}", EXIT_CONNECTION


def _redacted(text: str, secrets: Sequence[str]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, "<not shown>")
    return text


def fail(out: Output, error: BaseException, *, secrets: Sequence[str] = ()) -> NoReturn:
    """Report ``error`` (which :func:`describe` must know) and exit with its code."""
    described = describe(error)
    if described is None:
        raise error
    message, code = described
    if isinstance(error, Interrupted):
        out.note(_redacted(message, secrets))
    else:
        out.error(_redacted(message, secrets))
    if out.verbose:
        import traceback

        text = "".join(traceback.format_exception(error))
        out.errors.print(_redacted(text, secrets), markup=False, end="")
    raise typer.Exit(code)


@contextmanager
def reported(out: Output, *, secrets: Sequence[str] = ()) -> Iterator[None]:
    """Run a command's work: an expected failure becomes ``Error: ...`` and its exit code, Ctrl-C
    ``Interrupted.`` and 130. ``secrets`` (tokens) are blanked out of every message."""
    try:
        yield
    except KeyboardInterrupt:
        out.note("Interrupted.")
        raise typer.Exit(EXIT_INTERRUPTED) from None
    except Exception as error:
        if describe(error) is None:
            raise
        fail(out, error, secrets=secrets)
