"""WatchlistScreen: the dashboard's main screen, and the controller that owns every stream.

Concurrency: each stream (:mod:`derivkit.tui.streams`) runs in its own async worker on the UI
event loop (group ``ticks``, one per symbol; ``account`` for the balance; with a token,
``positions`` for the account's transactions and one per followed contract). Workers only post
messages; handlers record them in the :class:`Watchlist` and :class:`Positions`, and a 5 Hz
timer repaints what changed inside ``app.batch_update()``.

Cancellation: removing a symbol cancels its worker, whose ``async with`` then forgets the
subscription; a contract's worker ends by itself once the contract is sold.
:meth:`WatchlistScreen.stop_streams` (called before the app exits) cancels every worker, the
contracts' too, and waits until their forgets went out; Textual also cancels them when the
screen goes.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterable
from contextlib import suppress
from dataclasses import dataclass
from urllib.parse import urlsplit

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header
from textual.worker import Worker, WorkerState

from derivkit.core import DerivClient
from derivkit.formatting import money
from derivkit.tui.commands import WatchlistCommands
from derivkit.tui.messages import (
    BalanceChanged,
    BalanceFailed,
    ConnectionStateChanged,
    ContractBought,
    HistoryLoaded,
    PortfolioLoaded,
    PositionFailed,
    PositionsFailed,
    PositionUpdated,
    StreamFailed,
    SymbolsLoaded,
    TickReceived,
)
from derivkit.tui.positions import Positions
from derivkit.tui.relay import StateRelay
from derivkit.tui.screens.symbol_picker import SymbolPicker
from derivkit.tui.streams import (
    follow_contract,
    load_portfolio,
    load_symbols,
    stream_balance,
    stream_ticks,
    watch_positions,
)
from derivkit.tui.watchlist import SymbolInfo, Watchlist
from derivkit.tui.widgets.account_panel import AccountPanel
from derivkit.tui.widgets.positions_table import PositionsPanel
from derivkit.tui.widgets.price_digits import PricePanel
from derivkit.tui.widgets.quote_table import QuoteTable
from derivkit.tui.widgets.spark_panel import SparkPanel
from derivkit.tui.widgets.status_bar import StatusBar

__all__ = ["WatchlistScreen"]

#: Seconds between repaints (ticks in between are coalesced).
REPAINT_INTERVAL = 0.2
#: How long quitting waits for the streams' forgets, and the picker for the symbol list.
STOP_TIMEOUT = 5.0
CATALOGUE_TIMEOUT = 5.0


@dataclass
class _Stream:
    serial: int
    worker: Worker[None]


class WatchlistScreen(Screen[None]):
    """Watchlist table, detail panels for the selected row, account panel, the account's
    contracts (with a token) and status bar."""

    BINDINGS = [
        Binding(
            "a",
            "add_symbol",
            "Add",
            id="watchlist.add",
            tooltip="Pick a symbol to add to the watchlist",
        ),
        Binding(
            "d",
            "remove_symbol",
            "Remove",
            id="watchlist.remove",
            tooltip="Remove the selected symbol and forget its stream",
        ),
        Binding(
            "delete",
            "remove_symbol",
            "Remove",
            show=False,
            id="watchlist.remove-delete",
            tooltip="Remove the selected symbol and forget its stream",
        ),
    ]
    COMMANDS = {WatchlistCommands}

    def __init__(
        self, client: DerivClient, symbols: Iterable[str], relay: StateRelay | None = None
    ) -> None:
        """``client`` is connected already; ``relay`` (if the client was built with it as its
        ``on_state_change``) reports connection changes, else the state is sampled each repaint.
        """
        super().__init__()
        self._client = client
        self._relay = relay
        self._watchlist = Watchlist(tuple(symbols))
        self._streams: dict[str, _Stream] = {}
        self._serials = itertools.count(1)
        self._balance_worker: Worker[None] | None = None
        self._balance_gaps = 0
        self._positions = Positions()
        self._positions_worker: Worker[None] | None = None
        self._portfolio_worker: Worker[None] | None = None
        self._positions_loaded = False
        self._positions_changed = False
        self._followers: dict[int, Worker[None]] = {}
        self._stopped = False
        self._catalogue: dict[str, SymbolInfo] = {}
        self._catalogue_ready = asyncio.Event()
        self._connection: str = client.state
        self._status_changed = True
        self._endpoint = urlsplit(client.url).netloc or client.url

    # -- layout ----------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="body"):
            yield QuoteTable(id="quotes")
            with Vertical(id="side"):
                yield PricePanel(id="price")
                yield SparkPanel(id="spark")
                yield AccountPanel(id="account")
        if self._client.account is not None:
            yield PositionsPanel(id="positions")
        yield StatusBar(id="status")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(QuoteTable)
        for quote in self._watchlist:
            table.add_quote(quote)
            self._start_stream(quote.symbol)
        self.run_worker(
            load_symbols(self._client, self.post_message),
            name="symbols",
            group="symbols",
            exit_on_error=False,
        )
        self._show_account()
        if self._relay is not None:
            self._relay.attach(self)
        self._connection = self._client.state  # from here on, the relay reports changes
        self.set_interval(REPAINT_INTERVAL, self._repaint)
        self._repaint()
        self._show_selected()

    async def on_unmount(self) -> None:
        if self._relay is not None:
            self._relay.detach(self)
        await self.stop_streams()

    # -- the palette's view of this screen (WatchlistControls) ------------------------------

    def watched_symbols(self) -> list[str]:
        return self._watchlist.symbols

    def addable_symbols(self) -> list[tuple[str, str]]:
        return [
            (symbol, info.display_name)
            for symbol, info in sorted(self._catalogue.items())
            if symbol not in self._watchlist
        ]

    # -- actions ---------------------------------------------------------------------------

    def action_add_symbol(self) -> None:
        self._pick_symbol()

    def action_remove_symbol(self) -> None:
        symbol = self.query_one(QuoteTable).selected_symbol
        if symbol is None:
            self.app.bell()
            return
        self.remove_symbol(symbol)

    def add_symbol(self, symbol: str) -> bool:
        """Watch ``symbol`` (select its row); False if it is watched already."""
        quote = self._watchlist.add(symbol)
        if quote is None:
            self._tell(f"{symbol} is already in the watchlist.", severity="warning")
            return False
        if symbol in self._catalogue:
            self._watchlist.describe(self._catalogue[symbol])
        table = self.query_one(QuoteTable)
        table.add_quote(quote)
        table.select(symbol)
        self._start_stream(symbol)
        self._status_changed = True
        return True

    def remove_symbol(self, symbol: str, *, announce: bool = True) -> None:
        """Stop watching ``symbol``: its worker is cancelled, which forgets its stream."""
        stream = self._streams.pop(symbol, None)
        if stream is not None:
            stream.worker.cancel()
        if self._watchlist.remove(symbol) is None:
            return
        self.query_one(QuoteTable).remove_quote(symbol)
        self._status_changed = True
        self._show_selected()
        if announce:
            self._tell(f"Removed {symbol}.")

    async def stop_streams(self) -> None:
        """Cancel every stream worker and wait (at most STOP_TIMEOUT) until they are done."""
        self._stopped = True  # no new followers from here on
        workers = [stream.worker for stream in self._streams.values()]
        self._streams.clear()
        workers += self._followers.values()
        self._followers.clear()
        for worker in (self._balance_worker, self._positions_worker, self._portfolio_worker):
            if worker is not None:
                workers.append(worker)
        self._balance_worker = self._positions_worker = self._portfolio_worker = None
        for worker in workers:
            worker.cancel()
        with suppress(TimeoutError):
            async with asyncio.timeout(STOP_TIMEOUT):
                await asyncio.gather(*(w.wait() for w in workers), return_exceptions=True)

    # -- workers ---------------------------------------------------------------------------

    def _start_stream(self, symbol: str) -> None:
        serial = next(self._serials)
        worker = self.run_worker(
            stream_ticks(self._client, symbol, serial, self.post_message),
            name=f"ticks {symbol}",
            group="ticks",
            exit_on_error=False,
        )
        self._streams[symbol] = _Stream(serial, worker)

    def _start_balance_stream(self) -> None:
        self._balance_worker = self.run_worker(
            stream_balance(self._client, self.post_message),
            name="balance",
            group="account",
            exit_on_error=False,
        )

    def _start_positions(self) -> None:
        self._positions_worker = self.run_worker(
            watch_positions(self._client, self.post_message),
            name="positions",
            group="positions",
            exit_on_error=False,
        )

    def _reload_portfolio(self) -> None:
        """After a reconnect: buys made during the gap are in the portfolio, not the stream."""
        if self._positions_worker is None or self._stopped:
            return
        if self._portfolio_worker is not None:
            self._portfolio_worker.cancel()
        self._portfolio_worker = self.run_worker(
            load_portfolio(self._client, self.post_message),
            name="portfolio",
            group="positions",
            exit_on_error=False,
        )

    def _follow(self, contract_id: int) -> None:
        """Follow a contract until it is sold, unless it is followed (or shown) already."""
        if self._stopped:
            return
        if contract_id in self._followers or contract_id in self._positions:
            return
        self._followers[contract_id] = self.run_worker(
            follow_contract(self._client, contract_id, self.post_message),
            name=f"contract {contract_id}",
            group="positions",
            exit_on_error=False,
        )
        self._status_changed = True

    def _unfollow(self, contract_id: int) -> None:
        """Forget a follower that ended by itself (its worker is done or about to be)."""
        if self._followers.pop(contract_id, None) is not None:
            self._status_changed = True

    @work(group="picker", exclusive=True, exit_on_error=False)
    async def _pick_symbol(self) -> None:
        """Open the picker once the symbol list is in (or failed, or took too long)."""
        with suppress(TimeoutError):
            async with asyncio.timeout(CATALOGUE_TIMEOUT):
                await self._catalogue_ready.wait()
        known = {symbol: info.display_name for symbol, info in self._catalogue.items()}
        picker = SymbolPicker(known, self._watchlist.symbols)
        symbol = await self.app.push_screen_wait(picker)
        if symbol:
            self.add_symbol(symbol)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """A worker that failed unexpectedly becomes a notification, not a crash."""
        if event.state is WorkerState.ERROR:
            self._tell(
                repr(event.worker.error), title=f"{event.worker.name} failed", severity="error"
            )
            for contract_id, worker in list(self._followers.items()):
                if worker is event.worker:
                    self._unfollow(contract_id)
                    self._positions.stop(contract_id)

    # -- messages from workers and the relay -----------------------------------------------

    def on_tick_received(self, message: TickReceived) -> None:
        stream = self._streams.get(message.symbol)
        if stream is None or stream.serial != message.stream:
            return  # a removed symbol's last ticks
        quote = self._watchlist.get(message.symbol)
        if quote is not None and quote.gaps != message.gaps:
            self._status_changed = True
        self._watchlist.record(
            message.symbol,
            message.quote,
            epoch=message.epoch,
            pip_size=message.pip_size,
            received=message.received,
            gaps=message.gaps,
        )

    def on_history_loaded(self, message: HistoryLoaded) -> None:
        stream = self._streams.get(message.symbol)
        if stream is not None and stream.serial == message.stream:
            self._watchlist.seed(
                message.symbol, message.prices, epoch=message.epoch, pip_size=message.pip_size
            )

    def on_stream_failed(self, message: StreamFailed) -> None:
        stream = self._streams.get(message.symbol)
        if stream is None or stream.serial != message.stream:
            return
        del self._streams[message.symbol]
        if message.rejected:
            self._tell(
                f"{message.symbol}: {message.reason}. Removed from the watchlist.",
                title="Symbol refused",
                severity="error",
            )
            self.remove_symbol(message.symbol, announce=False)
        elif self._connection != "closed":  # if closed, the status bar already says so
            self._tell(
                f"{message.symbol}: {message.reason}", title="Stream stopped", severity="error"
            )

    def on_balance_changed(self, message: BalanceChanged) -> None:
        self.query_one(AccountPanel).show_balance(money(message.balance, message.currency))
        if message.gaps != self._balance_gaps:
            self._balance_gaps = message.gaps
            self._status_changed = True

    def on_balance_failed(self, message: BalanceFailed) -> None:
        self._tell(message.reason, title="Balance stream stopped", severity="error")

    def on_portfolio_loaded(self, message: PortfolioLoaded) -> None:
        if message.error is not None:
            self._tell(
                f"Contracts open before now are not shown: {message.error}",
                title="No portfolio",
                severity="warning",
            )
        self._positions_loaded = self._positions_changed = True
        for contract_id in message.contract_ids:
            self._follow(contract_id)

    def on_contract_bought(self, message: ContractBought) -> None:
        self._follow(message.contract_id)

    def on_positions_failed(self, message: PositionsFailed) -> None:
        self._positions_worker = None
        if self._connection != "closed":
            self._tell(
                f"New contracts are no longer shown: {message.reason}",
                title="Transaction stream stopped",
                severity="error",
            )

    def on_position_updated(self, message: PositionUpdated) -> None:
        self._positions.record(message.update)
        if message.update.settled:
            self._unfollow(message.update.contract_id)

    def on_position_failed(self, message: PositionFailed) -> None:
        self._unfollow(message.contract_id)
        self._positions.stop(message.contract_id)
        if self._connection != "closed":
            self._tell(
                f"Contract {message.contract_id}: {message.reason}",
                title="Contract updates stopped",
                severity="error",
            )

    def on_symbols_loaded(self, message: SymbolsLoaded) -> None:
        if message.error is not None:
            self._tell(
                f"Symbols cannot be checked before adding: {message.error}",
                title="No symbol list",
                severity="warning",
            )
        self._catalogue = message.symbols
        for symbol in self._watchlist.symbols:
            if symbol in self._catalogue:
                self._watchlist.describe(self._catalogue[symbol])
        self._catalogue_ready.set()

    def on_connection_state_changed(self, message: ConnectionStateChanged) -> None:
        """Shown at once (not at the next repaint): a reconnect may last less than one."""
        previous, self._connection = self._connection, message.state
        self._show_status()
        if message.state == "reconnecting":
            self._tell("Connection lost; reconnecting…", severity="warning")
        elif message.state == "connected" and previous == "reconnecting":
            self._tell("Reconnected; streams resumed.")
            self._reload_portfolio()
        elif message.state == "closed":
            self._tell("The connection is closed.", severity="error")

    @on(DataTable.RowHighlighted, "#quotes")
    def _row_highlighted(self) -> None:
        self._show_selected()

    # -- painting --------------------------------------------------------------------------

    def _tell(
        self, message: str, *, title: str = "", severity: SeverityLevel = "information"
    ) -> None:
        """A notification shown as is: server messages may contain markup-like brackets."""
        self.notify(message, title=title, severity=severity, markup=False)

    def _show_account(self) -> None:
        panel = self.query_one(AccountPanel)
        account = self._client.account
        if account is None:
            panel.show_market_data_only()
            self.app.sub_title = "market data only"
            return
        panel.show_account(account.loginid, real=not account.is_virtual)
        panel.show_balance(money(account.balance, account.currency))
        self.app.sub_title = f"{'demo' if account.is_virtual else 'REAL'} {account.loginid}"
        self._start_balance_stream()
        self._start_positions()

    def _show_selected(self) -> None:
        symbol = self.query_one(QuoteTable).selected_symbol
        quote = self._watchlist.get(symbol) if symbol is not None else None
        self.query_one(PricePanel).show(quote)
        self.query_one(SparkPanel).show(quote)

    def _show_status(self) -> None:
        self._status_changed = False
        self.query_one(StatusBar).show(
            state=self._connection,
            reconnects=self._client.reconnects,
            gaps=self._watchlist.gaps + self._balance_gaps,
            streams=len(self._streams) + len(self._followers),
            endpoint=self._endpoint,
        )

    def _repaint(self) -> None:
        """Write what changed since the last repaint: table cells, the detail, the contracts,
        the status."""
        if self._relay is None and self._client.state != self._connection:
            self._connection = self._client.state
            self._status_changed = True
        changed = self._watchlist.take_changed()
        positions = self._positions.take_changed()
        dropped = self._positions.take_removed()
        if positions or dropped:
            self._positions_changed = True
        if not changed and not self._status_changed and not self._positions_changed:
            return
        table = self.query_one(QuoteTable)
        with self.app.batch_update():
            if self._positions_changed:
                self._positions_changed = False
                for panel in self.query(PositionsPanel):  # none without a token
                    panel.show(positions, dropped, loaded=self._positions_loaded)
            for quote in changed:
                table.show_quote(quote)
            selected = table.selected_symbol
            if any(quote.symbol == selected for quote in changed):
                self._show_selected()
            if self._status_changed:
                self._show_status()
