"""Questions to the person at the terminal, and Ctrl-C around money-moving calls.

Inside ``asyncio.run`` the first Ctrl-C only cancels the main task, which notices at its next
``await``: a prompt blocking the loop would ignore it and act on the answer typed afterwards (a
buy after Ctrl-C). While :func:`confirm` or :func:`ask_secret` waits, Ctrl-C therefore raises at
once, and they raise :class:`~derivkit.cli.errors.Interrupted` saying what was not done. Ctrl-D
answers no (or nothing). Prompts run in the main thread and block the event loop while they wait.

:func:`ctrl_c_waits` is the other half: once a buy or sell is on its way, Ctrl-C can no longer
undo it, so it is not allowed to hide its outcome either.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import TYPE_CHECKING

import typer

from derivkit.cli.errors import Interrupted

if TYPE_CHECKING:
    from derivkit.cli.output import Output

__all__ = ["ask_secret", "confirm", "ctrl_c_waits", "interactive"]


def interactive() -> bool:
    """Whether a person can answer a prompt (stdin is a terminal)."""
    return sys.stdin.isatty()


@contextmanager
def _ctrl_c_raises() -> Iterator[list[int]]:
    """While inside, SIGINT raises KeyboardInterrupt where the main thread is (in ``input()``),
    and is noted in the yielded list; the previous handler (asyncio's) comes back on exit."""
    received: list[int] = []

    def on_sigint(signum: int, frame: FrameType | None) -> None:
        received.append(signum)
        raise KeyboardInterrupt

    try:
        previous = signal.signal(signal.SIGINT, on_sigint)
    except ValueError:  # not the main thread: nothing to replace
        yield received
        return
    try:
        yield received
    finally:
        signal.signal(signal.SIGINT, previous)


def confirm(question: str, *, not_done: str) -> bool:
    """Ask ``question [y/N]`` on stderr. Ctrl-C raises Interrupted(``not_done``); Ctrl-D is no."""
    with _ctrl_c_raises() as received:
        try:
            return typer.confirm(question, default=False, err=True)
        except typer.Abort:  # click's answer to Ctrl-C and to Ctrl-D
            if received:
                raise Interrupted(f"Interrupted; {not_done}") from None
            return False
        except KeyboardInterrupt:  # Ctrl-C between the prompt's own handlers
            raise Interrupted(f"Interrupted; {not_done}") from None


def ask_secret(label: str, *, not_done: str) -> str:
    """Ask for a secret on stderr without echoing it. Ctrl-C raises Interrupted(``not_done``);
    Ctrl-D gives ""."""
    with _ctrl_c_raises() as received:
        try:
            return str(typer.prompt(label, hide_input=True, err=True))
        except typer.Abort:
            if received:
                raise Interrupted(f"Interrupted; {not_done}") from None
            return ""
        except KeyboardInterrupt:
            raise Interrupted(f"Interrupted; {not_done}") from None


@contextmanager
def ctrl_c_waits(out: Output, sent: str, *, not_done: str) -> Iterator[None]:
    """Around a money-moving call (``sent``: "the buy"): once inside, Ctrl-C does not abandon it
    but says that its reply is awaited; the call's own timeout bounds the wait. A Ctrl-C that
    came just before (asyncio's pending cancellation) stops it here, unsent:
    Interrupted(``not_done``). Use inside the running loop, in the main thread."""
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise Interrupted(f"Interrupted; {not_done}")

    def on_sigint(signum: int, frame: FrameType | None) -> None:
        loop.call_soon_threadsafe(
            out.warn, f"{sent} was already sent and cannot be called back; waiting for its outcome"
        )

    try:
        previous = signal.signal(signal.SIGINT, on_sigint)
    except ValueError:
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
