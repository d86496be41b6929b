"""WatchlistScreen: the dashboard's main screen, and the controller that owns every stream.

Two clients: market data (ticks, history, candles, symbols, pings) on ``market``, which needs no
token, and everything of the account (balance, contracts, buying, selling) on the
:class:`AccountLink`'s client. A failure of the account client (a token refused after a
reconnect, say) never touches the watchlist; ``r`` reconnects the account.

Concurrency: each stream (:mod:`derivkit.tui.streams`) runs in its own async worker on the UI
event loop (group ``ticks``, one per symbol; ``candles`` for the chart; ``clock`` for pings;
``account`` for the balance; ``positions`` for the account's transactions and one per followed
contract; ``trade`` for buys, sells, cancels, updates and strategy stop requests, never
exclusive, never cancelled by the ticket; ``strategies`` reads the running strategies'
registry every few seconds, in a thread, never per tick). Tick and candle workers write each
tick or candle into the models (:class:`Watchlist`, :class:`TickLog`, :class:`CandleSeries`)
through a callback, on this loop; every other worker
posts messages, whose handlers record them (:class:`Positions`, the account). A 5 Hz timer
repaints what changed inside ``app.batch_update()``: changed table rows only, the chart at most
once a second, and the chart and digits follow the selected symbol at most once a second (the
price panel at once).

Cancellation: removing a symbol cancels its worker, whose ``async with`` then forgets the
subscription; a contract's worker ends by itself once the contract is sold.
:meth:`WatchlistScreen.stop_streams` (called before the app exits) cancels every stream worker
and waits until their forgets went out. A buy, sell, cancel or update in flight is waited for,
not cancelled; each is sent once (a second one on the same contract is refused until the first
one's reply), and one whose reply was lost is shown as of unknown outcome, never re-sent.
"""

from __future__ import annotations

import asyncio
import functools
import itertools
from collections.abc import Callable, Iterable
from contextlib import suppress
from dataclasses import dataclass
from urllib.parse import urlsplit

from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header
from textual.worker import Worker, WorkerState

from derivkit.core import AuthError, DerivClient, DerivError, Tick
from derivkit.formatting import describe_error, money, utc
from derivkit.strategy.registry import RunRecord, RunRegistry
from derivkit.tui.account_link import AccountLink
from derivkit.tui.candles import GRANULARITIES, Bar, CandleSeries
from derivkit.tui.commands import WatchlistCommands
from derivkit.tui.messages import (
    AccountReopened,
    AccountStateChanged,
    BalanceChanged,
    BalanceFailed,
    BuyFinished,
    BuyResolved,
    CancelFinished,
    CandlesFailed,
    ConnectionStateChanged,
    ContractBought,
    PortfolioLoaded,
    PositionFailed,
    PositionsFailed,
    PositionUpdated,
    SellFinished,
    ServerClock,
    StrategiesLoaded,
    StrategyStopAsked,
    StreamFailed,
    SymbolsLoaded,
    UpdateFinished,
)
from derivkit.tui.positions import Position, Positions
from derivkit.tui.screens.confirm import ConfirmTrade
from derivkit.tui.screens.symbol_picker import SymbolPicker
from derivkit.tui.screens.ticket import Account, TradeTicket
from derivkit.tui.screens.update_orders import ORDER_LABELS, UpdateOrders
from derivkit.tui.state import DashboardState
from derivkit.tui.streams import (
    ask_strategy_to_stop,
    follow_contract,
    load_portfolio,
    load_symbols,
    stream_balance,
    stream_candles,
    stream_ticks,
    watch_positions,
    watch_server_clock,
    watch_strategies,
)
from derivkit.tui.ticklog import DIGIT_WINDOWS, TickLog, digit_stats
from derivkit.tui.trading import (
    Order,
    place_buy,
    place_cancel,
    place_sell,
    place_update,
    resolve_buy,
)
from derivkit.tui.watchlist import SymbolInfo, Watchlist
from derivkit.tui.widgets.account_panel import ACCOUNT_LOST, TOKEN_REJECTED, AccountPanel
from derivkit.tui.widgets.chart_panel import ChartPanel
from derivkit.tui.widgets.digit_panel import DigitPanel
from derivkit.tui.widgets.positions_table import PositionsPanel
from derivkit.tui.widgets.price_digits import PricePanel
from derivkit.tui.widgets.quote_table import QuoteTable
from derivkit.tui.widgets.status_bar import StatusBar
from derivkit.tui.widgets.strategies_panel import StrategiesPanel

__all__ = ["REAL_MONEY_REFUSED", "WatchlistScreen"]

#: Seconds between repaints (ticks in between are coalesced), and between chart redraws.
REPAINT_INTERVAL = 0.2
CHART_INTERVAL = 1.0
#: Seconds between reads of the running strategies' registry.
STRATEGIES_INTERVAL = 2.0
#: How long quitting waits for the streams' forgets, and the picker for the symbol list.
STOP_TIMEOUT = 5.0
CATALOGUE_TIMEOUT = 5.0
#: Terminals narrower than this get the compact layout.
WIDE = 120

REAL_MONEY_REFUSED = (
    "This is a REAL-money account: start the dashboard with --real-money to trade on it."
)


@dataclass
class _Stream:
    serial: int
    worker: Worker[None]


def _key(text: str, key: str) -> str:
    return f"{text} · {key} retry"


class WatchlistScreen(Screen[None]):
    """Watchlist, price, chart, last digits, account, the account's contracts, status bar."""

    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (WIDE, "-wide")]
    BINDINGS = [
        Binding("a", "add_symbol", "Add", id="watchlist.add", tooltip="Add a symbol"),
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
        Binding("t", "trade", "Trade", id="trade.ticket", tooltip="Trade the selected symbol"),
        Binding("s", "sell", "Sell", id="trade.sell", tooltip="Sell the selected open contract"),
        Binding(
            "c",
            "cancel_contract",
            "Cancel contract",
            show=False,
            id="trade.cancel",
            tooltip="Cancel the selected multiplier (deal cancellation: the stake back)",
        ),
        Binding(
            "u",
            "update_contract",
            "Update",
            show=False,
            id="trade.update",
            tooltip="Change the selected contract's take profit / stop loss",
        ),
        Binding("g", "granularity(1)", "Timeframe", id="chart.next", tooltip="Next timeframe"),
        Binding(
            "G",
            "granularity(-1)",
            "Timeframe",
            show=False,
            id="chart.previous",
            tooltip="Previous timeframe",
        ),
        Binding(
            "n", "digit_window", "Digits N", id="digits.window", tooltip="Digits over 100/500/1000"
        ),
        Binding(
            "v",
            "toggle_view",
            "Chart/Digits",
            id="view.toggle",
            tooltip="Switch between the chart and the digits (narrow), or hide the digits",
        ),
        Binding(
            "x",
            "stop_strategy",
            "Stop strategy",
            id="strategy.stop",
            tooltip="Ask the selected running strategy to stop buying (after a confirmation)",
        ),
        Binding(
            "r",
            "retry_account",
            "Retry",
            show=False,
            id="account.retry",
            tooltip="Reconnect the account (after a refused token or a closed connection)",
        ),
    ]
    COMMANDS = {WatchlistCommands}

    def __init__(
        self,
        client: DerivClient,
        symbols: Iterable[str],
        *,
        account: AccountLink | None = None,
        real_money: bool = False,
        granularity: int = 0,
        digit_window: int = DIGIT_WINDOWS[-1],
        status_interval: float | None = 5.0,
        on_state_saved: Callable[[DashboardState], object] | None = None,
        runs: RunRegistry | None = None,
        strategies_interval: float = STRATEGIES_INTERVAL,
    ) -> None:
        """``client`` (market data) is connected already; its connection changes reach the
        screen through a state listener added on mount (removed on unmount). ``account``'s
        client, if any, is connected already.
        ``status_interval`` is the seconds between pings (None: no pings, as in snapshots).
        ``on_state_saved`` gets the watchlist, timeframe and digit window after each change.
        ``runs`` is the registry of running strategies, read every ``strategies_interval``
        seconds (None: no strategies panel)."""
        super().__init__()
        self._client = client
        self._link = account
        self._real_money = real_money
        self._watchlist = Watchlist(tuple(symbols))
        self._logs: dict[str, TickLog] = {s: TickLog() for s in self._watchlist.symbols}
        self._streams: dict[str, _Stream] = {}
        self._serials = itertools.count(1)
        self._stopped = False
        self._catalogue: dict[str, SymbolInfo] = {}
        self._catalogue_ready = asyncio.Event()
        self._connection: str = client.state
        self._status_changed = True
        self._endpoint = urlsplit(client.url).netloc or client.url
        self._status_interval = status_interval
        self._latency: float | None = None
        self._server_epoch: tuple[int, float] | None = None  # (epoch, loop time received)
        self._shown_epoch: int | None = None
        self._on_state_saved = on_state_saved
        # chart and digits
        self._granularity = granularity if granularity in GRANULARITIES else 0
        self._digit_window = digit_window if digit_window in DIGIT_WINDOWS else DIGIT_WINDOWS[-1]
        self._chart_symbol: str | None = None  # the symbol the chart and digits show
        self._chart_followed = float("-inf")  # loop time the chart last changed symbol
        self._chart_version = -1
        self._chart_painted = 0.0
        self._series: CandleSeries | None = None
        self._candle_serial = 0
        self._digits_key: tuple[str, int, int] | None = None
        self._narrow: bool | None = None
        # account
        self._account_state = "ok" if account is not None and account.client else "none"
        self._balance_worker: Worker[None] | None = None
        self._balance_gaps = 0
        self._positions = Positions()
        self._positions_worker: Worker[None] | None = None
        self._portfolio_worker: Worker[None] | None = None
        self._positions_loaded = False
        self._positions_changed = False
        self._followers: dict[int, Worker[None]] = {}
        self._trades: set[Worker[None]] = set()
        self._acting: dict[int, str] = {}  # contract id -> the sell/cancel/update in flight
        self._unknown: list[Order] = []
        self._resolving: set[int] = set()  # id() of orders being looked up
        self._ticket: TradeTicket | None = None
        # running strategies
        self._runs = runs
        self._strategies_interval = strategies_interval
        self._strategies: dict[str, RunRecord] = {}  # run id -> its last record, oldest first
        self._strategies_error: str | None = None
        self._strategies_wake = asyncio.Event()
        self._stop_asked: set[str] = set()  # run ids the dashboard asked to stop

    # -- layout ----------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="body"):
            yield QuoteTable(id="quotes")
            with Vertical(id="side"):
                yield PricePanel(id="price")
                yield AccountPanel(id="account")
        with Horizontal(id="lower"):
            yield ChartPanel(id="chart")
            yield DigitPanel(id="digits")
        if self._link is not None:
            yield PositionsPanel(id="positions")
        if self._runs is not None:
            yield StrategiesPanel(id="strategies")
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
        if self._status_interval is not None:
            self.run_worker(
                watch_server_clock(self._client, self.post_message, self._status_interval),
                name="clock",
                group="clock",
                exit_on_error=False,
            )
        if self._runs is not None:
            self.run_worker(
                watch_strategies(
                    self._runs,
                    self.post_message,
                    self._strategies_interval,
                    self._strategies_wake,
                ),
                name="strategies",
                group="strategies",
                exit_on_error=False,
            )
        self._show_account()
        self._client.add_state_listener(self._post_connection_state)
        if self._link is not None:
            self._link.attach(self)
        self._connection = self._client.state  # from here on, the listener reports changes
        self.set_interval(REPAINT_INTERVAL, self._repaint)
        self._fit(self.app.size.width)
        self._repaint()
        self._show_selected()

    async def on_unmount(self) -> None:
        self._client.remove_state_listener(self._post_connection_state)
        if self._link is not None:
            self._link.detach(self)
        await self.stop_streams()

    def _post_connection_state(self, state: str) -> None:
        """The client's state listener: called on the client's loop, which is the app's."""
        self.post_message(ConnectionStateChanged(state))

    def on_resize(self, event: events.Resize) -> None:
        self._fit(event.size.width)

    def _fit(self, width: int) -> None:
        """Narrow terminals: the tables drop their least needed columns."""
        for panel in self.query(PositionsPanel):
            panel.fit(width)
        narrow = width < WIDE
        if narrow == self._narrow:
            return
        self._narrow = narrow
        self.query_one(QuoteTable).hide_columns(QuoteTable.NARROW_HIDDEN if narrow else frozenset())
        for strategies in self.query(StrategiesPanel):
            strategies.fit(narrow=narrow)
        self._digits_key = None  # the digit panel's layout depends on its width

    # -- the palette's view of this screen (WatchlistControls) ------------------------------

    def watched_symbols(self) -> list[str]:
        return self._watchlist.symbols

    def addable_symbols(self) -> list[tuple[str, str]]:
        return [
            (symbol, info.display_name)
            for symbol, info in sorted(self._catalogue.items())
            if symbol not in self._watchlist
        ]

    # -- state the dashboard remembers -------------------------------------------------------

    @property
    def granularity(self) -> int:
        return self._granularity

    @property
    def digit_window(self) -> int:
        return self._digit_window

    def tick_log(self, symbol: str) -> TickLog | None:
        return self._logs.get(symbol)

    @property
    def candles(self) -> CandleSeries | None:
        """The chart's candles (None on the tick chart)."""
        return self._series

    def _save(self) -> None:
        if self._on_state_saved is not None:
            self._on_state_saved(
                DashboardState(self._watchlist.symbols, self._granularity, self._digit_window)
            )

    # -- actions: watchlist ----------------------------------------------------------------

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
        self._logs[symbol] = TickLog()
        table = self.query_one(QuoteTable)
        table.add_quote(quote)
        table.select(symbol)
        self._start_stream(symbol)
        self._status_changed = True
        self._save()
        return True

    def remove_symbol(self, symbol: str, *, announce: bool = True) -> None:
        """Stop watching ``symbol``: its worker is cancelled, which forgets its stream."""
        stream = self._streams.pop(symbol, None)
        if stream is not None:
            stream.worker.cancel()
        if self._watchlist.remove(symbol) is None:
            return
        self._logs.pop(symbol, None)
        self.query_one(QuoteTable).remove_quote(symbol)
        self._status_changed = True
        self._show_selected(at_once=True)
        self._save()
        if announce:
            self._tell(f"Removed {symbol}.")

    # -- actions: chart and digits -----------------------------------------------------------

    def action_granularity(self, step: int) -> None:
        index = GRANULARITIES.index(self._granularity)
        self.set_granularity(GRANULARITIES[(index + step) % len(GRANULARITIES)])

    def set_granularity(self, granularity: int) -> None:
        if granularity not in GRANULARITIES:
            raise ValueError(f"no such timeframe: {granularity}")
        self._granularity = granularity
        self._chart_symbol = None  # restart the chart for the selected symbol
        self._show_selected(at_once=True)
        self._save()

    def action_digit_window(self) -> None:
        index = DIGIT_WINDOWS.index(self._digit_window)
        self._digit_window = DIGIT_WINDOWS[(index + 1) % len(DIGIT_WINDOWS)]
        self._digits_key = None
        self._paint_digits()
        self._save()

    def action_toggle_view(self) -> None:
        self.query_one("#lower").toggle_class("-alt")

    # -- actions: trading ------------------------------------------------------------------

    @property
    def account_client(self) -> DerivClient | None:
        """The authorized client, while the account is usable."""
        if self._link is None or self._account_state != "ok":
            return None
        return self._link.client

    def _account_view(self) -> Account | None:
        client = self.account_client
        if client is None or client.account is None:
            return None
        info = client.account
        return Account(info.loginid, info.currency or "USD", not info.is_virtual)

    def action_trade(self) -> None:
        symbol = self.query_one(QuoteTable).selected_symbol
        client, account = self.account_client, self._account_view()
        if symbol is None or client is None or account is None:
            self.app.bell()
            if client is None:
                self._tell("Trading needs an account: no usable token.", severity="warning")
            return
        refusal = REAL_MONEY_REFUSED if account.real and not self._real_money else None
        ticket = TradeTicket(
            client,
            symbol,
            account,
            self.place_order,
            known_contracts=self._known_contracts,
            refusal=refusal,
        )
        self._ticket = ticket

        def closed(_: object) -> None:
            if self._ticket is ticket:
                self._ticket = None

        self.app.push_screen(ticket, closed)

    @on(DataTable.RowSelected, "#quotes")
    def _row_selected(self) -> None:
        """Enter on a watchlist row opens the ticket."""
        if self.account_client is not None:
            self.action_trade()

    def _known_contracts(self) -> set[int]:
        return {p.contract_id for p in self._positions} | set(self._followers)

    def place_order(self, order: Order) -> bool:
        """Send a confirmed buy once, in this screen's worker; False if the account is gone."""
        client = self.account_client
        if client is None:
            return False
        self._run_trade(place_buy(client, order, self.post_message), f"buy {order.spec.symbol}")
        return True

    def _run_trade(self, coro: object, name: str) -> None:
        worker: Worker[None] = self.run_worker(coro, name=name, group="trade", exit_on_error=False)  # type: ignore[arg-type]
        self._trades.add(worker)

    def _selected_position(self) -> Position | None:
        """The open contract under the positions table's cursor, if any."""
        panels = list(self.query(PositionsPanel))
        contract_id = panels[0].table.selected_contract if panels else None
        position = self._positions.get(contract_id) if contract_id is not None else None
        return None if position is None or position.settled else position

    def _may_act(self, position: Position | None) -> Account | None:
        """The account, if a sell, cancel or update may be asked for on ``position`` now."""
        client, account = self.account_client, self._account_view()
        if position is None or client is None or account is None:
            self.app.bell()
            return None
        if account.real and not self._real_money:
            self._tell(REAL_MONEY_REFUSED, severity="error")
            return None
        if position.contract_id in self._acting:
            self.app.bell()
            self._tell(
                f"Contract {position.contract_id}: {self._acting[position.contract_id]} "
                "already under way.",
                severity="warning",
            )
            return None
        return account

    def action_sell(self) -> None:
        position = self._selected_position()
        account = self._may_act(position)
        if position is None or account is None:
            return
        last = position.last
        confirm = ConfirmTrade(
            "Sell this contract?",
            [
                f"{last.contract_type} on {last.symbol} · contract {last.contract_id}",
                f"Stake {money(last.buy_price, last.currency)} · now worth "
                f"{money(last.value, last.currency)} · sold at market",
            ],
            "Sell at market",
            account=account.loginid,
            real=account.real,
        )
        self.app.push_screen(confirm, lambda yes: self._sell_confirmed(last.contract_id, yes))

    def _sell_confirmed(self, contract_id: int, yes: bool | None) -> None:
        client = self.account_client
        if not yes or client is None or contract_id in self._acting:
            return
        self._start_action(contract_id, "selling…")
        self._run_trade(place_sell(client, contract_id, self.post_message), f"sell {contract_id}")

    def action_cancel_contract(self) -> None:
        """Deal cancellation: the stake back (not the fee), while the window is open."""
        position = self._selected_position()
        if position is not None and not position.last.can_cancel:
            self.app.bell()
            self._tell(
                f"Contract {position.contract_id} cannot be cancelled: only a multiplier bought "
                "with deal cancellation can, while its window is open.",
                severity="warning",
            )
            return
        account = self._may_act(position)
        if position is None or account is None:
            return
        last = position.last
        stake = round(last.buy_price - (last.cancel_fee or 0.0), 2)
        back = f"You get the stake back: {money(stake, last.currency)}"
        if last.cancel_fee:
            back += f" (the {money(last.cancel_fee, last.currency)} fee is not refunded)"
        until = f" (open until {utc(last.cancel_until)[11:]} UTC)" if last.cancel_until else ""
        confirm = ConfirmTrade(
            "Cancel this contract?",
            [
                f"{last.contract_type} on {last.symbol} · contract {last.contract_id}{until}",
                back,
                f"Now worth {money(last.value, last.currency)}",
            ],
            "Cancel the contract",
            account=account.loginid,
            real=account.real,
        )
        self.app.push_screen(confirm, lambda yes: self._cancel_confirmed(last.contract_id, yes))

    def _cancel_confirmed(self, contract_id: int, yes: bool | None) -> None:
        client = self.account_client
        if not yes or client is None or contract_id in self._acting:
            return
        self._start_action(contract_id, "cancelling…")
        self._run_trade(
            place_cancel(client, contract_id, self.post_message), f"cancel {contract_id}"
        )

    def action_update_contract(self) -> None:
        """New take profit / stop loss for the selected contract: a form, then a confirmation."""
        position = self._selected_position()
        if position is not None and not position.last.can_update:
            self.app.bell()
            why = (
                "an accumulator's take profit is fixed at purchase"
                if position.last.product == "accumulator"
                else "it has no take profit or stop loss that can be changed now"
            )
            self._tell(f"Contract {position.contract_id} cannot be updated: {why}.")
            return
        if self._may_act(position) is None or position is None:
            return
        last = position.last
        orders: dict[str, float | None] = {
            "take_profit": last.take_profit,
            "stop_loss": last.stop_loss,
        }
        current = {key: value for key, value in orders.items() if key in last.can_update}
        form = UpdateOrders(
            f"Update {last.contract_type} on {last.symbol} · contract {last.contract_id}",
            current,
            last.currency,
        )
        self.app.push_screen(form, lambda changes: self._update_reviewed(last.contract_id, changes))

    def _update_reviewed(self, contract_id: int, changes: dict[str, float | None] | None) -> None:
        position = self._positions.get(contract_id)
        account = self._account_view()
        if not changes or position is None or account is None:
            return
        last = position.last
        before = {"take_profit": last.take_profit, "stop_loss": last.stop_loss}
        lines = [f"{last.contract_type} on {last.symbol} · contract {contract_id}"]
        for key, new in changes.items():
            old = before.get(key)
            shown_old = "none" if old is None else money(old, last.currency)
            shown_new = "none (removed)" if new is None else money(new, last.currency)
            lines.append(f"{ORDER_LABELS[key]}: {shown_old} → {shown_new}")
        confirm = ConfirmTrade(
            "Update this contract?",
            lines,
            "Update",
            account=account.loginid,
            real=account.real,
        )
        self.app.push_screen(confirm, lambda yes: self._update_confirmed(contract_id, changes, yes))

    def _update_confirmed(
        self, contract_id: int, changes: dict[str, float | None], yes: bool | None
    ) -> None:
        client = self.account_client
        if not yes or client is None or contract_id in self._acting:
            return
        self._start_action(contract_id, "updating…")
        self._run_trade(
            place_update(client, contract_id, changes, self.post_message), f"update {contract_id}"
        )

    def _start_action(self, contract_id: int, note: str) -> None:
        """A sell, cancel or update of ``contract_id`` goes out (once): its row says so."""
        self._acting[contract_id] = note.rstrip("…")
        self._positions.annotate(contract_id, note)

    def _end_action(self, contract_id: int, *, unknown: bool) -> None:
        """The action's reply came (or was lost: the row says so until the server's next
        word on the contract)."""
        self._acting.pop(contract_id, None)
        if unknown:
            self._positions.annotate(contract_id, "unknown", until_update=True)
        else:
            self._positions.annotate(contract_id, None)

    # -- actions: strategies -----------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """``x`` (stop a strategy) is offered, and shown in the footer, only while one runs."""
        if action == "stop_strategy":
            return bool(self._strategies)
        return True

    def _selected_strategy(self) -> RunRecord | None:
        panels = list(self.query(StrategiesPanel))
        run_id = panels[0].table.selected_run if panels else None
        return self._strategies.get(run_id) if run_id is not None else None

    def action_stop_strategy(self) -> None:
        """Ask the selected strategy to stop buying, after a confirmation; asked once."""
        record = self._selected_strategy()
        if record is None:
            self.app.bell()
            return
        if record.run_id in self._stop_asked:
            self.app.bell()
            self._tell(
                f"{record.strategy} ({record.run_id}) was asked to stop already: it buys nothing "
                "more and waits for its open contracts.",
                severity="warning",
            )
            return
        account = f" · account {record.loginid}" if record.loginid else ""
        confirm = ConfirmTrade(
            "Stop this strategy?",
            [
                f"{record.strategy} on {record.symbol} · run {record.run_id}{account}",
                f"{record.runs} runs ({record.won} won, {record.lost} lost) · P/L "
                f"{record.profit:+.2f} · stake {record.stake:.2f}",
                f"It buys nothing more; its {record.open} open contract(s) are followed to "
                "settlement.",
            ],
            "Stop buying",
            account=None,
            real=False,
        )
        self.app.push_screen(confirm, lambda yes: self._stop_confirmed(record.run_id, yes))

    def _stop_confirmed(self, run_id: str, yes: bool | None) -> None:
        if not yes or self._runs is None or run_id in self._stop_asked:
            return
        self._stop_asked.add(run_id)
        self._show_strategies()
        self._run_trade(
            ask_strategy_to_stop(self._runs, run_id, self.post_message), f"stop {run_id}"
        )

    # -- actions: account --------------------------------------------------------------------

    def action_retry_account(self) -> None:
        if self._link is None or self._account_state not in ("lost", "rejected"):
            self.app.bell()
            return
        self._account_state = "retrying"
        self.query_one(AccountPanel).show_note("reconnecting the account…")
        self._reopen_account()

    @work(group="account-retry", exclusive=True, exit_on_error=False)
    async def _reopen_account(self) -> None:
        assert self._link is not None
        try:
            await self._link.reopen()
        except DerivError as error:
            self.post_message(
                AccountReopened(describe_error(error), rejected=isinstance(error, AuthError))
            )
        else:
            self.post_message(AccountReopened(None))

    async def stop_streams(self) -> None:
        """Cancel every stream worker and wait (at most STOP_TIMEOUT) until they are done; a
        buy or sell in flight is waited for, not cancelled."""
        self._stopped = True  # no new followers from here on
        workers = [stream.worker for stream in self._streams.values()]
        self._streams.clear()
        workers += self._followers.values()
        self._followers.clear()
        for worker in (self._balance_worker, self._positions_worker, self._portfolio_worker):
            if worker is not None:
                workers.append(worker)
        self._balance_worker = self._positions_worker = self._portfolio_worker = None
        for group in ("candles", "clock", "symbols", "resolve", "strategies"):
            workers += [w for w in self.workers if w.group == group and w.node is self]
        for worker in workers:
            worker.cancel()
        trades = [w for w in self._trades if not w.is_finished]
        with suppress(TimeoutError):
            async with asyncio.timeout(STOP_TIMEOUT):
                await asyncio.gather(*(w.wait() for w in workers + trades), return_exceptions=True)

    # -- workers ---------------------------------------------------------------------------

    def _start_stream(self, symbol: str) -> None:
        serial = next(self._serials)
        self._logs.setdefault(symbol, TickLog())
        record = functools.partial(self._record_tick, symbol, serial)
        backfill = functools.partial(self._record_history, symbol, serial)
        worker = self.run_worker(
            stream_ticks(self._client, symbol, serial, self.post_message, record, backfill),
            name=f"ticks {symbol}",
            group="ticks",
            exit_on_error=False,
        )
        self._streams[symbol] = _Stream(serial, worker)

    def _start_account(self) -> None:
        client = self.account_client
        if client is None:
            return
        self._balance_worker = self.run_worker(
            stream_balance(client, self.post_message),
            name="balance",
            group="account",
            exit_on_error=False,
        )
        self._positions_worker = self.run_worker(
            watch_positions(client, self.post_message),
            name="positions",
            group="positions",
            exit_on_error=False,
        )

    def _stop_account(self) -> None:
        workers = [self._balance_worker, self._positions_worker, self._portfolio_worker]
        workers += self._followers.values()
        for worker in workers:
            if worker is not None:
                worker.cancel()
        self._balance_worker = self._positions_worker = self._portfolio_worker = None
        for contract_id in list(self._followers):
            self._positions.stop(contract_id)
        self._followers.clear()
        self._status_changed = True

    def _reload_portfolio(self) -> None:
        """After a reconnect: buys made during the gap are in the portfolio, not the stream."""
        client = self.account_client
        if self._positions_worker is None or self._stopped or client is None:
            return
        if self._portfolio_worker is not None:
            self._portfolio_worker.cancel()
        self._portfolio_worker = self.run_worker(
            load_portfolio(client, self.post_message),
            name="portfolio",
            group="positions",
            exit_on_error=False,
        )

    def _follow(self, contract_id: int) -> None:
        """Follow a contract until it is sold, unless it is followed (or settled) already."""
        client = self.account_client
        if self._stopped or client is None or contract_id in self._followers:
            return
        position = self._positions.get(contract_id)
        if position is not None and (position.settled or not position.stopped):
            return
        self._followers[contract_id] = self.run_worker(
            follow_contract(client, contract_id, self.post_message),
            name=f"contract {contract_id}",
            group="positions",
            exit_on_error=False,
        )
        self._status_changed = True

    def _unfollow(self, contract_id: int) -> None:
        """Forget a follower that ended by itself (its worker is done or about to be)."""
        if self._followers.pop(contract_id, None) is not None:
            self._status_changed = True

    def _start_chart(self, symbol: str) -> None:
        """Candles of ``symbol`` at the chosen timeframe (the tick chart needs no stream)."""
        self._candle_serial += 1
        self.workers.cancel_group(self, "candles")
        self._series = None
        if self._granularity == 0:
            return
        self._series = CandleSeries(symbol, self._granularity)
        self.run_worker(
            stream_candles(
                self._client,
                symbol,
                self._granularity,
                self._candle_serial,
                self.post_message,
                functools.partial(self._record_bar, self._candle_serial),
            ),
            name=f"candles {symbol}",
            group="candles",
            exclusive=True,
            exit_on_error=False,
        )

    def _resolve_unknown(self) -> None:
        """Look up every outcome-unknown buy (once the account client is connected)."""
        client = self.account_client
        if client is None or client.state != "connected":
            return
        for order in self._unknown:
            if id(order) in self._resolving:
                continue
            self._resolving.add(id(order))
            self.run_worker(
                resolve_buy(client, order, self.post_message),
                name="resolve buy",
                group="resolve",
                exit_on_error=False,
            )

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
        if event.worker in self._trades and event.worker.is_finished:
            self._trades.discard(event.worker)
        if event.state is WorkerState.ERROR:
            self._tell(
                repr(event.worker.error), title=f"{event.worker.name} failed", severity="error"
            )
            for contract_id, worker in list(self._followers.items()):
                if worker is event.worker:
                    self._unfollow(contract_id)
                    self._positions.stop(contract_id)

    # -- messages: market data ---------------------------------------------------------------

    def _record_tick(self, symbol: str, serial: int, tick: Tick, received: int, gaps: int) -> None:
        """Called by ``symbol``'s stream worker for each tick (on this loop, between its awaits):
        the tick log and the watchlist take it, the next repaint shows it."""
        stream = self._streams.get(symbol)
        if stream is None or stream.serial != serial:
            return  # a removed symbol's last ticks
        log = self._logs.get(symbol)
        if log is not None:
            log.append(tick.epoch, tick.quote, tick.pip_size)
        quote = self._watchlist.get(symbol)
        if quote is not None and quote.gaps != gaps:
            self._status_changed = True
        self._watchlist.record(
            symbol,
            tick.quote,
            epoch=tick.epoch,
            pip_size=tick.pip_size,
            received=received,
            gaps=gaps,
        )

    def _record_history(
        self, symbol: str, serial: int, times: list[int], prices: list[float], pip: int | None
    ) -> None:
        """Called by ``symbol``'s stream worker once, before its first tick: recent ticks for
        the chart, the digits and the price history."""
        stream = self._streams.get(symbol)
        if stream is None or stream.serial != serial:
            return
        self._watchlist.seed(symbol, prices, epoch=times[-1], pip_size=pip)
        log = self._logs.get(symbol)
        if log is not None:
            log.backfill(times, prices, pip)

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

    def _record_bar(self, serial: int, bar: Bar) -> None:
        """Called by the chart's candle worker for each candle (on this loop)."""
        if self._series is not None and serial == self._candle_serial:
            self._series.update((bar,))

    def on_candles_failed(self, message: CandlesFailed) -> None:
        if message.stream == self._candle_serial:
            self.query_one(ChartPanel).show_waiting(
                message.symbol, message.granularity, f"no candles: {message.reason}"
            )

    def on_server_clock(self, message: ServerClock) -> None:
        self._latency = message.latency
        if message.server_epoch is not None:
            self._server_epoch = (message.server_epoch, asyncio.get_running_loop().time())
        self._status_changed = True

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
        elif message.state == "closed":
            self._tell("The connection is closed.", severity="error")

    # -- messages: strategies ----------------------------------------------------------------

    def on_strategies_loaded(self, message: StrategiesLoaded) -> None:
        if message.error is not None:
            if message.error != self._strategies_error:
                self._strategies_error = message.error
                self._tell(message.error, title="Strategies", severity="warning")
            return
        self._strategies_error = None
        listed = {record.run_id: record for record in message.records}
        for run_id, record in self._strategies.items():
            if run_id not in listed:
                self._stop_asked.discard(run_id)
                self._tell(
                    f"{record.strategy} on {record.symbol} ({run_id}) ended: {record.runs} runs, "
                    f"{record.won} won, {record.lost} lost, P/L {record.profit:+.2f}.",
                    title="Strategy ended",
                )
        had_any = bool(self._strategies)
        self._strategies = listed
        self._show_strategies()
        if had_any != bool(listed):
            self.refresh_bindings()

    def on_strategy_stop_asked(self, message: StrategyStopAsked) -> None:
        record = self._strategies.get(message.run_id)
        name = f"{record.strategy} ({message.run_id})" if record else message.run_id
        if message.asked:
            self._tell(
                f"Asked {name} to stop buying; its open contracts are followed to settlement.",
                title="Stopping",
            )
        else:
            self._stop_asked.discard(message.run_id)
            why = message.error or "it is no longer running"
            self._tell(f"Could not stop {name}: {why}.", severity="warning")
        self._show_strategies()
        self._strategies_wake.set()  # read its new state now

    def _show_strategies(self) -> None:
        for panel in self.query(StrategiesPanel):
            panel.show(list(self._strategies.values()), self._stop_asked)
        self.set_class(bool(self._strategies), "-strategies")  # narrow: room made for them

    # -- messages: the account ---------------------------------------------------------------

    def on_account_state_changed(self, message: AccountStateChanged) -> None:
        if self._link is None or message.serial != self._link.serial:
            return  # a replaced client's last words
        if self._account_state != "ok":
            return
        panel = self.query_one(AccountPanel)
        if message.state == "reconnecting":
            panel.show_note("account reconnecting…")
        elif message.state == "connected":
            panel.show_note(self._unknown_note())
            self._reload_portfolio()
            self._resolve_unknown()
        elif message.state == "closed":
            worker = self._balance_worker
            if worker is None or worker.is_finished:
                self._account_lost(rejected=False)
            # else the balance stream ends next, with the reason: was the token refused?

    def _account_lost(self, *, rejected: bool) -> None:
        """The account client is gone for good: market data goes on, ``r`` retries."""
        was = self._account_state
        if was == "rejected" or (was == "lost" and not rejected):
            return
        self._account_state = "rejected" if rejected else "lost"
        self._stop_account()
        text = TOKEN_REJECTED if rejected else ACCOUNT_LOST
        self.query_one(AccountPanel).show_note(_key(text, "r"), problem=True)
        self._tell(f"{text}. Press r to retry.", title="Account", severity="error")

    def on_account_reopened(self, message: AccountReopened) -> None:
        panel = self.query_one(AccountPanel)
        if message.error is not None:
            self._account_state = "rejected" if message.rejected else "lost"
            text = TOKEN_REJECTED if message.rejected else ACCOUNT_LOST
            panel.show_note(_key(text, "r"), problem=True)
            self._tell(f"Still no account: {message.error}", title="Account", severity="error")
            return
        self._account_state = "ok"
        self._tell("Account reconnected.")
        self._show_account()
        self._resolve_unknown()

    def on_balance_changed(self, message: BalanceChanged) -> None:
        self.query_one(AccountPanel).show_balance(money(message.balance, message.currency))
        if message.gaps != self._balance_gaps:
            self._balance_gaps = message.gaps
            self._status_changed = True

    def on_balance_failed(self, message: BalanceFailed) -> None:
        self._balance_worker = None
        client = self._link.client if self._link is not None else None
        if message.rejected:
            self._account_lost(rejected=True)
        elif client is None or client.state == "closed":
            self._account_lost(rejected=False)
        elif self._account_state == "ok":
            self._tell(message.reason, title="Balance stream stopped", severity="error")

    def on_portfolio_loaded(self, message: PortfolioLoaded) -> None:
        if message.error is not None and self._account_state == "ok":
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
        if self._connection != "closed" and self._account_state == "ok":
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
        if self._connection != "closed" and self._account_state == "ok":
            self._tell(
                f"Contract {message.contract_id}: {message.reason}",
                title="Contract updates stopped",
                severity="error",
            )

    # -- messages: trades --------------------------------------------------------------------

    def on_buy_finished(self, message: BuyFinished) -> None:
        order = message.order
        assert isinstance(order, Order)
        currency = order.spec.currency
        if message.contract_id is not None:
            balance = (
                f"; balance {money(message.balance_after, currency)}"
                if message.balance_after is not None
                else ""
            )
            self._tell(
                f"Bought contract {message.contract_id} for "
                f"{money(message.buy_price, currency)}{balance}.",
                title="Bought",
            )
            self._follow(message.contract_id)
        elif message.unknown:
            self._unknown.append(order)
            self.query_one(AccountPanel).show_note(self._unknown_note())
            self._tell(
                f"The buy of {order.spec.contract_type} on {order.spec.symbol} may or may not "
                f"have happened: {message.error}. It was not re-sent; the dashboard looks for "
                "it once the account is connected.",
                title="Buy outcome unknown",
                severity="warning",
            )
            self._resolve_unknown()
        else:
            self._tell(f"Not bought: {message.error}", title="Buy refused", severity="error")
        if self._ticket is not None:
            self._ticket.buy_finished(message)

    def on_buy_resolved(self, message: BuyResolved) -> None:
        order = message.order
        assert isinstance(order, Order)
        self._resolving.discard(id(order))
        if message.error is not None:
            self._tell(f"Could not check the unknown buy yet: {message.error}", severity="warning")
            return
        self._unknown = [o for o in self._unknown if o is not order]
        self.query_one(AccountPanel).show_note(self._unknown_note())
        if message.contract_id is not None:
            self._tell(
                f"The unknown buy went through: contract {message.contract_id}.",
                title="Buy found",
            )
            self._follow(message.contract_id)
        else:
            self._tell(
                f"The unknown buy of {order.spec.contract_type} on {order.spec.symbol} did not "
                "happen: no such contract on the account. Nothing was bought.",
                title="Buy not found",
                severity="warning",
            )

    def _unknown_note(self) -> str:
        count = len(self._unknown)
        if not count:
            return ""
        return f"{count} buy{'s' if count > 1 else ''} of unknown outcome: checking…"

    def on_sell_finished(self, message: SellFinished) -> None:
        self._end_action(message.contract_id, unknown=message.unknown)
        if message.sold_for is not None:
            self._tell(f"Sold contract {message.contract_id} for {message.sold_for:.2f}.")
        elif message.unknown:
            self._tell(
                f"The sell of contract {message.contract_id} may or may not have happened: "
                f"{message.error}. It was not re-sent; its row shows what the server says.",
                title="Sell outcome unknown",
                severity="warning",
            )
        else:
            self._tell(f"Not sold: {message.error}", title="Sell refused", severity="error")

    def on_cancel_finished(self, message: CancelFinished) -> None:
        self._end_action(message.contract_id, unknown=message.unknown)
        if message.sold_for is not None:
            self._tell(
                f"Cancelled contract {message.contract_id}: {message.sold_for:.2f} back.",
                title="Cancelled",
            )
        elif message.unknown:
            self._tell(
                f"The cancellation of contract {message.contract_id} may or may not have "
                f"happened: {message.error}. It was not re-sent; its row shows what the server "
                "says.",
                title="Cancel outcome unknown",
                severity="warning",
            )
        else:
            self._tell(f"Not cancelled: {message.error}", title="Cancel refused", severity="error")

    def on_update_finished(self, message: UpdateFinished) -> None:
        self._end_action(message.contract_id, unknown=message.unknown)
        if message.error is None:
            position = self._positions.get(message.contract_id)
            currency = position.last.currency if position is not None else ""
            now = {"take_profit": message.take_profit, "stop_loss": message.stop_loss}
            done = ", ".join(
                f"{ORDER_LABELS[key].lower()} "
                + ("none" if now[key] is None else money(now[key], currency))
                for key in message.changes
            )
            self._tell(f"Contract {message.contract_id} updated: {done}.", title="Updated")
        elif message.unknown:
            self._tell(
                f"The update of contract {message.contract_id} may or may not have happened: "
                f"{message.error}. It was not re-sent; its row shows what the server says.",
                title="Update outcome unknown",
                severity="warning",
            )
        else:
            self._tell(f"Not updated: {message.error}", title="Update refused", severity="error")

    @on(DataTable.RowHighlighted, "#positions-table")
    def _position_highlighted(self) -> None:
        for panel in self.query(PositionsPanel):
            panel.show_actions(self._selected_position())

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
        client = self.account_client
        account = client.account if client is not None else None
        if account is None:
            panel.show_market_data_only()
            self.app.sub_title = "market data only"
            return
        panel.show_account(account.loginid, real=not account.is_virtual)
        panel.show_balance(money(account.balance, account.currency))
        panel.show_note(self._unknown_note())
        for positions in self.query(PositionsPanel):
            positions.show_currency(account.currency)
        self.app.sub_title = f"{'demo' if account.is_virtual else 'REAL'} {account.loginid}"
        self._start_account()

    def _show_selected(self, *, at_once: bool = False) -> None:
        """The price panel follows the selected symbol at once, the chart and digits at most
        once per CHART_INTERVAL (the repaint timer catches up): moving through the list
        quickly neither redraws a chart nor restarts a candle stream per row passed.
        ``at_once`` for a change the user asked of the chart itself (a timeframe, a removal)."""
        symbol = self.query_one(QuoteTable).selected_symbol
        quote = self._watchlist.get(symbol) if symbol is not None else None
        self.query_one(PricePanel).show(quote)
        self._follow_selection(at_once=at_once)

    def _follow_selection(self, *, at_once: bool = False) -> None:
        symbol = self.query_one(QuoteTable).selected_symbol
        if symbol == self._chart_symbol:
            return
        now = asyncio.get_running_loop().time()
        if not at_once and symbol is not None and now - self._chart_followed < CHART_INTERVAL:
            return
        self._chart_followed = now
        self._chart_symbol = symbol
        self._chart_version = -1
        self._digits_key = None
        chart = self.query_one(ChartPanel)
        if symbol is None:
            self._start_chart("")
            chart.show_waiting(None, self._granularity)
        else:
            self._start_chart(symbol)
            chart.show_waiting(symbol, self._granularity)
            self._paint_chart(force=True)
        self._paint_digits()

    def _paint_chart(self, *, force: bool = False) -> None:
        """Redraw the chart if its data changed, at most once per CHART_INTERVAL."""
        symbol = self._chart_symbol
        if symbol is None:
            return
        now = asyncio.get_running_loop().time()
        if not force and now - self._chart_painted < CHART_INTERVAL:
            return
        chart = self.query_one(ChartPanel)
        log = self._logs.get(symbol)
        pip_size = log.pip_size if log is not None else None
        if self._granularity == 0:
            if log is None or not len(log) or log.version == self._chart_version:
                return
            self._chart_version = log.version
            chart.show_ticks(symbol, log.quotes(), pip_size)
        else:
            series = self._series
            if series is None or not len(series) or series.version == self._chart_version:
                return
            self._chart_version = series.version
            chart.show_candles(symbol, self._granularity, series.bars, pip_size)
        self._chart_painted = now

    def _paint_digits(self) -> None:
        symbol = self._chart_symbol
        log = self._logs.get(symbol) if symbol is not None else None
        panel = self.query_one(DigitPanel)
        if symbol is None or log is None:
            panel.show(None, None)
            return
        key = (symbol, log.version, self._digit_window)
        if key == self._digits_key:
            return
        self._digits_key = key
        panel.show(symbol, digit_stats(log.digits(self._digit_window), self._digit_window))

    def _show_status(self) -> None:
        self._status_changed = False
        self.query_one(StatusBar).show(
            state=self._connection,
            reconnects=self._client.reconnects,
            gaps=self._watchlist.gaps + self._balance_gaps,
            streams=len(self._streams) + len(self._followers),
            endpoint=self._endpoint,
            latency=self._latency,
            server_epoch=self._shown_epoch,
        )

    def _server_now(self) -> int | None:
        if self._server_epoch is None:
            return None
        epoch, received = self._server_epoch
        return epoch + int(asyncio.get_running_loop().time() - received)

    def _repaint(self) -> None:
        """Write what changed since the last repaint: table cells, the detail, the chart and
        digits, the contracts, the status."""
        server_now = self._server_now()
        if server_now != self._shown_epoch:
            self._shown_epoch = server_now
            self._status_changed = True
        changed = self._watchlist.take_changed()
        positions = self._positions.take_changed()
        dropped = self._positions.take_removed()
        if positions or dropped:
            self._positions_changed = True
        table = self.query_one(QuoteTable)
        with self.app.batch_update():
            if self._positions_changed:
                self._positions_changed = False
                chosen = self._selected_position()
                for panel in self.query(PositionsPanel):  # none without a token
                    panel.show(positions, dropped, loaded=self._positions_loaded)
                    panel.show_actions(chosen)
            for quote in changed:
                table.show_quote(quote)
            selected = table.selected_symbol
            if any(quote.symbol == selected for quote in changed):
                self.query_one(PricePanel).show(self._watchlist.get(selected or ""))
            self._follow_selection()
            self._paint_chart()
            self._paint_digits()
            if self._status_changed:
                self._show_status()
