"""Running a command: settings, the client session (real API or embedded simulator), and the
single place where errors become one line on stderr and an exit code.

Exit codes: 0 ok, 1 API error, 2 usage, 3 connection, 4 authentication, 130 interrupted.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager, suppress
from dataclasses import dataclass
from typing import TYPE_CHECKING, NoReturn, TypeVar

import typer

from derivkit.cli.app import settings as resolve_from_context
from derivkit.cli.output import Output
from derivkit.formatting import describe_error

if TYPE_CHECKING:
    from derivkit.core import DerivClient
    from derivkit.settings import Settings

__all__ = [
    "EXIT_API",
    "EXIT_AUTH",
    "EXIT_CONNECTION",
    "EXIT_USAGE",
    "MissingToken",
    "Session",
    "StopSignals",
    "run",
]

T = TypeVar("T")

EXIT_API = 1
EXIT_USAGE = 2
EXIT_CONNECTION = 3
EXIT_AUTH = 4
EXIT_INTERRUPTED = 130


class MissingToken(Exception):
    """An account command without any token."""


@dataclass
class Session:
    """What a command body gets: the connected client, the output, and the settings."""

    api: DerivClient
    out: Output
    settings: Settings

    @property
    def currency(self) -> str:
        """The authorized account's currency ("" before authorization)."""
        return self.api.account.currency if self.api.account else ""

    async def fetch(self, awaitable: Awaitable[T], what: str = "Waiting for the server") -> T:
        """Await ``awaitable`` with a spinner on stderr if it takes longer than ~0.3 s."""
        async with self.out.waiting(what):
            return await awaitable


def exit_code_for(error: BaseException) -> int:
    from derivkit.core import APIError, AuthError, DerivError, UsageError

    if isinstance(error, MissingToken | AuthError):
        return EXIT_AUTH
    if isinstance(error, UsageError):
        return EXIT_USAGE
    if isinstance(error, APIError):
        return EXIT_API
    if isinstance(error, DerivError | TimeoutError):
        return EXIT_CONNECTION  # ConnectionLost, OutcomeUnknown, RequestTimeout, ProtocolError
    return EXIT_API


def fail(out: Output, error: BaseException) -> NoReturn:
    out.error(describe_error(error))
    if out.verbose:
        out.errors.print_exception()
    raise typer.Exit(exit_code_for(error))


def connection_notices(out: Output) -> Callable[[str], None]:
    """Tell the user (on stderr) when the connection drops and when it is back."""
    dropped = False

    def on_state(state: str) -> None:
        nonlocal dropped
        if state == "reconnecting":
            dropped = True
            out.warn("connection lost; reconnecting")
        elif state == "connected" and dropped:
            dropped = False
            out.note("Reconnected.")

    return on_state


@asynccontextmanager
async def open_session(
    settings: Settings,
    out: Output,
    *,
    needs_token: bool,
    on_state_change: Callable[[str], None] | None = None,
) -> AsyncIterator[Session]:
    """Connect to the configured endpoint, or start the embedded simulator under ``--sim``.

    Connection state changes go to ``on_state_change``, by default as notices on stderr.
    """
    from derivkit.core import DerivClient

    endpoint: str | None
    token: str | None
    async with AsyncExitStack() as stack:
        if settings.sim:
            from derivkit.sim import Simulator

            simulator = await stack.enter_async_context(Simulator())
            endpoint, token, waiting = simulator.url, simulator.token, "Connecting to the simulator"
        else:
            if needs_token and not settings.token:
                raise MissingToken(
                    "this command needs an API token: pass --token, set DERIV_API_TOKEN, "
                    "run `derivkit config set-token`, or try it offline with --sim"
                )
            endpoint, token, waiting = settings.endpoint, settings.token, "Connecting"
        client = DerivClient(
            endpoint,
            app_id=settings.app_id,
            token=token if needs_token else None,
            on_state_change=on_state_change or connection_notices(out),
        )
        async with out.waiting(waiting):
            await client.connect()
        stack.push_async_callback(client.close)
        yield Session(client, out, settings)


class StopSignals:
    """SIGINT and SIGTERM as an event, for long-running commands (servers, the bot).

    Call :meth:`install` inside the running loop; ``await stop.wait()`` then returns on either
    signal, and ``interrupted`` tells whether it was Ctrl-C (exit code 130). Installed explicitly:
    a process started in the background may inherit an ignored SIGINT.
    """

    def __init__(self) -> None:
        self.stop = asyncio.Event()
        self.received: list[int] = []

    def install(self) -> None:
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            with suppress(NotImplementedError, RuntimeError):  # non-Unix
                loop.add_signal_handler(signum, self._on_signal, signum)

    def _on_signal(self, signum: int) -> None:
        self.received.append(signum)
        self.stop.set()

    @property
    def interrupted(self) -> bool:
        return signal.SIGINT in self.received


def output_for(ctx: typer.Context) -> Output:
    """The output helper for this invocation's ``--json`` and ``-v``."""
    state = ctx.find_root().obj
    json_mode = bool(getattr(state, "json", False))
    return Output(json_mode=json_mode, verbose=bool(getattr(state, "verbose", False)))


def run(
    ctx: typer.Context,
    body: Callable[[Session], Awaitable[T]],
    *,
    needs_token: bool = False,
) -> T:
    """Resolve settings, open a session, run ``body``, and map any failure to an exit code."""
    from derivkit.core import DerivError

    out = output_for(ctx)

    async def main() -> T:
        async with open_session(settings, out, needs_token=needs_token) as session:
            return await body(session)

    derivkit_logger = logging.getLogger("derivkit")
    previous_level = derivkit_logger.level
    handler = _log_to_stderr() if out.verbose else None
    try:
        settings = resolve_from_context(ctx, with_stored_token=needs_token)
        return asyncio.run(main())
    except KeyboardInterrupt:
        out.note("Interrupted.")
        raise typer.Exit(EXIT_INTERRUPTED) from None
    except (DerivError, MissingToken) as error:
        fail(out, error)
    finally:
        if handler is not None:
            derivkit_logger.removeHandler(handler)
            derivkit_logger.setLevel(previous_level)


def _log_to_stderr() -> logging.Handler:
    """``-v``: derivkit's own log on stderr for this invocation (secrets are masked upstream)."""
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    logger = logging.getLogger("derivkit")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    return handler
