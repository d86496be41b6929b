"""Running a command: settings, the client session (real API or embedded simulator), and the
command's body inside :func:`derivkit.cli.errors.reported`, the one place where errors become one
line on stderr and an exit code (0 ok, 1 API error, 2 usage, 3 connection, 4 authentication,
130 interrupted).
"""

from __future__ import annotations

import asyncio
import difflib
import json
import logging
import signal
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AsyncExitStack, asynccontextmanager, suppress
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeVar

import typer

from derivkit.cli.app import settings as resolve_from_context
from derivkit.cli.errors import (
    EXIT_API,
    EXIT_AUTH,
    EXIT_CONNECTION,
    EXIT_INTERRUPTED,
    EXIT_USAGE,
    CommandError,
    MissingToken,
    exit_code_for,
    fail,
    reported,
)
from derivkit.cli.output import Output

if TYPE_CHECKING:
    from derivkit.core import DerivClient
    from derivkit.core.models import ActiveSymbol
    from derivkit.settings import Settings

__all__ = [
    "EXIT_API",
    "EXIT_AUTH",
    "EXIT_CONNECTION",
    "EXIT_INTERRUPTED",
    "EXIT_USAGE",
    "CannotConnect",
    "MissingToken",
    "Session",
    "StopSignals",
    "exit_code_for",
    "fail",
    "open_session",
    "output_for",
    "reported",
    "run",
]

T = TypeVar("T")

SYMBOLS_CACHE = "symbols.json"


class CannotConnect(CommandError):
    """The endpoint could not be reached (or did not answer like a Deriv API server)."""

    exit_code = EXIT_CONNECTION


class BadToken(CommandError):
    """A token that is not even shaped like a Deriv token: refused before anything is sent."""

    exit_code = EXIT_AUTH


@dataclass
class Session:
    """What a command body gets: the connected client, the output, and the settings."""

    api: DerivClient
    out: Output
    settings: Settings
    _symbols: dict[str, ActiveSymbol] | None = field(default=None, repr=False)

    @property
    def currency(self) -> str:
        """The authorized account's currency ("" before authorization)."""
        return self.api.account.currency if self.api.account else ""

    async def fetch(self, awaitable: Awaitable[T], what: str = "Waiting for the server") -> T:
        """Await ``awaitable`` with a spinner on stderr if it takes longer than ~0.3 s."""
        async with self.out.waiting(what):
            return await awaitable

    async def symbol(self, name: str) -> ActiveSymbol:
        """The server's symbol called ``name`` in any case (``r_100`` is R_100). An unknown name
        raises a CommandError (exit 1) suggesting the closest symbol. One ``active_symbols``
        call per session, made on first use."""
        from derivkit.core.models import ActiveSymbol

        known = await self._known_symbols()
        if known is None:  # the list could not be had: let the server judge the name
            return ActiveSymbol(symbol=name, pip=None)
        found = known.get(name.lower())
        if found is not None:
            return found
        close = closest(name.lower(), list(known))
        hint = f"; did you mean {known[close].symbol}?" if close else ""
        raise CommandError(f"unknown symbol {name!r}{hint} (`derivkit symbols` lists them)")

    async def _known_symbols(self) -> dict[str, ActiveSymbol] | None:
        from derivkit.core import APIError

        if self._symbols is None:
            try:
                listed = await self.fetch(self.api.active_symbols())
            except APIError:
                return None
            self._symbols = {item.symbol.lower(): item for item in listed}
            remember_symbols([item.symbol for item in listed])
        return self._symbols


def closest(word: str, candidates: Sequence[str]) -> str | None:
    """The candidate most like ``word`` (a typo away, e.g. ``r_10o`` -> ``r_100``), or None.

    difflib finds the plausible ones; a completion of what was typed, then the fewest
    single-character edits, then the nearest length decide between them.
    """
    plausible = difflib.get_close_matches(word, candidates, n=5, cutoff=0.6)
    if not plausible:
        return None
    return min(
        plausible,
        key=lambda c: (not c.startswith(word), _edits(word, c), abs(len(c) - len(word)), c),
    )


def _edits(a: str, b: str) -> int:
    """Levenshtein distance (insertions, deletions, substitutions)."""
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, 1):
        current = [i]
        for j, char_b in enumerate(b, 1):
            current.append(
                min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char_a != char_b))
            )
        previous = current
    return previous[-1]


def remember_symbols(symbols: Sequence[str]) -> None:
    """Keep the server's symbols for shell completion (best effort: a failure changes nothing)."""
    from derivkit.settings import data_dir, write_private

    path = data_dir() / SYMBOLS_CACHE
    data = json.dumps(sorted(symbols)).encode()
    with suppress(OSError):
        if not path.exists() or path.read_bytes() != data:
            write_private(path, data)


def remembered_symbols() -> list[str]:
    """The symbols last seen from a server, else the simulator's (the synthetic indices)."""
    from derivkit.settings import data_dir

    with suppress(OSError, ValueError):
        symbols = json.loads((data_dir() / SYMBOLS_CACHE).read_text())
        if isinstance(symbols, list) and all(isinstance(item, str) for item in symbols):
            return symbols
    from derivkit.sim.symbols import SYMBOLS

    return sorted(SYMBOLS)


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

    Connection state changes go to ``on_state_change``, by default as notices on stderr. A token
    that cannot be a Deriv token fails before connecting (BadToken); an endpoint that cannot be
    reached fails with CannotConnect, naming it.
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
            if needs_token and token:
                _check_token_shape(token, settings.token_source)
        client = DerivClient(
            endpoint,
            app_id=settings.app_id,
            token=token if needs_token else None,
            on_state_change=on_state_change or connection_notices(out),
        )
        async with out.waiting(waiting):
            await _connect(client, offline=settings.sim)
        stack.push_async_callback(client.close)
        yield Session(client, out, settings)


CONNECT_HINT = "check --endpoint (or DERIV_ENDPOINT) and the network, or work offline with --sim"
CONNECT_HINT = "check --endpoint (or DERIV_ENDPOINT) and the network, or work offline with --sim"
TOKEN_SOURCES = {
    "flag": "--token",
    "env": "DERIV_API_TOKEN",
    "config": "the stored token (`derivkit config set-token`)",
}


def _check_token_shape(token: str, source: str) -> None:
    from derivkit.core import UsageError
    from derivkit.tokenstore import check_deriv_token

    try:
        check_deriv_token(token)
    except UsageError as error:
        where = TOKEN_SOURCES.get(source, "the API token")
        raise BadToken(f"{where} is not a Deriv API token: {error}") from None


async def _connect(client: DerivClient, *, offline: bool) -> None:
    from derivkit.core import ConnectionLost, ProtocolError, RequestTimeout

    try:
        await client.connect()
    except (ConnectionLost, ProtocolError, RequestTimeout) as error:
        reason = str(error).removeprefix("cannot connect: ")
        hint = "" if offline else f"; {CONNECT_HINT}"
        raise CannotConnect(f"cannot connect to {client.url}: {reason}{hint}") from error


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
    out = output_for(ctx)

    async def main() -> T:
        async with open_session(settings, out, needs_token=needs_token) as session:
            return await body(session)

    derivkit_logger = logging.getLogger("derivkit")
    previous_level = derivkit_logger.level
    handler = _log_to_stderr() if out.verbose else None
    try:
        with reported(out):
            settings = resolve_from_context(ctx, with_stored_token=needs_token)
            return asyncio.run(main())
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
