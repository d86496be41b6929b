"""DerivDashboard: the Textual app around an injected, already connected DerivClient.

The app owns no I/O: the main screen (:class:`WatchlistScreen`) runs the streams. Quitting first
stops the streams (so every subscription is forgotten), then exits; closing the client is the
caller's job.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import ClassVar

from textual.app import App
from textual.binding import Binding, BindingType

from derivkit.core import DerivClient
from derivkit.strategy.registry import RunRegistry
from derivkit.tui.account_link import AccountLink
from derivkit.tui.screens.main import STRATEGIES_INTERVAL, WatchlistScreen
from derivkit.tui.state import DashboardState, load_state, save_state

__all__ = ["DEFAULT_SYMBOLS", "DerivDashboard", "run_dashboard"]

#: The watchlist when no symbols are given.
DEFAULT_SYMBOLS = ("R_100", "R_50", "1HZ100V", "stpRNG", "BOOM1000")


class DerivDashboard(App[None], inherit_bindings=False):
    """A live watchlist, price, chart, last digits, account, contracts and a trade ticket.

    Args:
        client: a connected :class:`~derivkit.core.DerivClient` for market data (its token, if
            any, is not used for the account: that is ``account``'s job).
        symbols: the initial watchlist (duplicates ignored); if empty, the remembered one, else
            ``DEFAULT_SYMBOLS``.
        account: the :class:`AccountLink` (opened) for the balance, contracts and trading;
            None for market data only.
        real_money: allow trading on a real-money account (as the CLI's ``--real-money``).
        state_path: where the watchlist, timeframe and digit window are remembered (None: not).
        status_interval: seconds between pings for the latency and server time (None: none).
        runs: the registry of strategies running on this machine (``derivkit run``), shown in
            a panel with a stop key; None for no panel (the CLI passes the user's own).
        strategies_interval: seconds between reads of ``runs``.
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
        account: AccountLink | None = None,
        real_money: bool = False,
        state_path: Path | None = None,
        status_interval: float | None = 5.0,
        runs: RunRegistry | None = None,
        strategies_interval: float = STRATEGIES_INTERVAL,
    ) -> None:
        super().__init__()
        self.client = client
        self.account = account
        self.state_path = state_path
        state = load_state(state_path) if state_path is not None else DashboardState()
        watch = list(symbols) or state.symbols or list(DEFAULT_SYMBOLS)
        self.main_screen = WatchlistScreen(
            client,
            watch,
            account=account,
            real_money=real_money,
            granularity=state.granularity,
            digit_window=state.digit_window,
            status_interval=status_interval,
            on_state_saved=self._save_state,
            runs=runs,
            strategies_interval=strategies_interval,
        )

    def _save_state(self, state: DashboardState) -> None:
        if self.state_path is not None:
            save_state(self.state_path, state)

    def get_default_screen(self) -> WatchlistScreen:
        return self.main_screen

    async def action_quit(self) -> None:
        """Stop the streams first, so their forgets go out while the client is still open."""
        await self.main_screen.stop_streams()
        self.exit()


async def run_dashboard(
    client: DerivClient,
    symbols: Iterable[str] = (),
    *,
    account: AccountLink | None = None,
    runs: RunRegistry | None = None,
) -> None:
    """Run the dashboard on the current event loop until the user quits."""
    await DerivDashboard(client, symbols, account=account, runs=runs).run_async()
