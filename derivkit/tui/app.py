"""DerivDashboard: the Textual app around an injected, already connected DerivClient.

The app owns no I/O: the main screen (:class:`WatchlistScreen`) runs the streams. Quitting first
stops the streams (so every subscription is forgotten), then exits; closing the client is the
caller's job.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

from textual.app import App
from textual.binding import Binding, BindingType

from derivkit.core import DerivClient
from derivkit.tui.relay import StateRelay
from derivkit.tui.screens.main import WatchlistScreen

__all__ = ["DEFAULT_SYMBOLS", "DerivDashboard", "run_dashboard"]

#: The watchlist when no symbols are given.
DEFAULT_SYMBOLS = ("R_100", "R_50", "1HZ100V", "stpRNG", "BOOM1000")


class DerivDashboard(App[None], inherit_bindings=False):
    """A live watchlist, price detail, sparkline, account balance and connection status.

    Args:
        client: a connected :class:`~derivkit.core.DerivClient` (authorized or not).
        symbols: the initial watchlist (duplicates ignored); ``DEFAULT_SYMBOLS`` if empty.
        relay: the :class:`StateRelay` given to the client as ``on_state_change``, if any.
    """

    CSS_PATH = "dashboard.tcss"
    TITLE = "derivkit dashboard"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "Quit", id="app.quit", tooltip="Forget every stream and quit"),
        Binding(
            "ctrl+c",
            "quit",
            "Quit",
            show=False,
            priority=True,
            id="app.interrupt",
            tooltip="Forget every stream and quit",
        ),
        Binding(
            "ctrl+p",
            "command_palette",
            "Commands",
            show=False,
            priority=True,
            id="app.palette",
            tooltip="Search commands: add or remove symbols, themes, keys",
        ),
    ]

    def __init__(
        self,
        client: DerivClient,
        symbols: Iterable[str] = (),
        *,
        relay: StateRelay | None = None,
    ) -> None:
        super().__init__()
        self.client = client
        self.main_screen = WatchlistScreen(client, list(symbols) or DEFAULT_SYMBOLS, relay)

    def get_default_screen(self) -> WatchlistScreen:
        return self.main_screen

    async def action_quit(self) -> None:
        """Stop the streams first, so their forgets go out while the client is still open."""
        await self.main_screen.stop_streams()
        self.exit()


async def run_dashboard(
    client: DerivClient, symbols: Iterable[str] = (), *, relay: StateRelay | None = None
) -> None:
    """Run the dashboard on the current event loop until the user quits."""
    await DerivDashboard(client, symbols, relay=relay).run_async()
