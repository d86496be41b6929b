"""The dashboard's I/O: coroutines that read the client and post what they get, run as workers.

Each takes the connected client and ``post`` (a message pump's ``post_message``), knows no widget,
and ends in a message instead of an exception for any derivkit error. They run until cancelled;
cancelling is safe at any await, and a stream's ``async with`` forgets it on the way out.

High-rate data (ticks, candles) is not posted: it goes to a ``record`` callback, called between
awaits on the event loop the screen runs on, which writes it into the screen's models for the next
repaint. A message per tick cost more than the tick itself (queueing, dispatch, a handler) and was
coalesced away anyway.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextlib import suppress

from textual.message import Message

from derivkit.core import (
    AccumulatorContract,
    APIError,
    AuthError,
    DerivClient,
    DerivError,
    MultiplierContract,
    OpenContract,
    Order,
    Tick,
    TurbosContract,
    VanillaContract,
)
from derivkit.formatting import describe_error
from derivkit.products import server_level
from derivkit.strategy.registry import RunRecord, RunRegistry
from derivkit.tui.candles import CANDLES, Bar
from derivkit.tui.messages import (
    BalanceChanged,
    BalanceFailed,
    CandlesFailed,
    ContractBought,
    PortfolioLoaded,
    PositionFailed,
    PositionsFailed,
    PositionUpdated,
    ServerClock,
    StrategiesLoaded,
    StrategyStopAsked,
    StreamFailed,
    SymbolsLoaded,
)
from derivkit.tui.positions import ContractUpdate
from derivkit.tui.ticklog import KEEP
from derivkit.tui.watchlist import SymbolInfo

__all__ = [
    "ask_strategy_to_stop",
    "follow_contract",
    "stream_candles",
    "watch_server_clock",
    "watch_strategies",
    "load_portfolio",
    "load_symbols",
    "stream_balance",
    "stream_ticks",
    "watch_positions",
]

Post = Callable[[Message], object]
#: Called with (tick, ticks received so far, stream gaps so far) for every tick.
RecordTick = Callable[[Tick, int, int], object]
#: Called once with the recent ticks (epochs and quotes, oldest first) and the pip size.
RecordHistory = Callable[[list[int], list[float], int | None], object]
#: Called with each candle: the history, then every update (the forming candle repeats).
RecordBar = Callable[[Bar], object]


async def stream_ticks(
    client: DerivClient,
    symbol: str,
    stream: int,
    post: Post,
    record: RecordTick,
    backfill: RecordHistory,
) -> None:
    """Hand recent ticks of ``symbol`` to ``backfill``, then every tick to ``record``.

    The stream is opened before the history is asked for, so no tick falls between the two
    (those in both are told apart by epoch). A refused symbol (an :class:`APIError`) ends in
    ``StreamFailed(rejected=True)``, tagged ``stream``.
    """
    try:
        async with await client.ticks(symbol) as ticks:
            await _load_history(client, symbol, backfill)
            received = 0
            async for tick in ticks:
                received += 1
                record(tick, received, ticks.gaps)
    except DerivError as error:
        post(StreamFailed(symbol, describe_error(error), isinstance(error, APIError), stream))


async def _load_history(client: DerivClient, symbol: str, backfill: RecordHistory) -> None:
    """Recent ticks for the chart and the digits; skipped if refused."""
    try:
        history = await client.ticks_history(symbol, count=KEEP)
    except APIError:
        return
    if history.prices and history.times:
        backfill(history.times, history.prices, history.pip_size)


async def stream_balance(client: DerivClient, post: Post) -> None:
    """Post every balance update of the authorized account."""
    try:
        async with await client.watch_balance() as balances:
            async for balance in balances:
                post(BalanceChanged(balance.balance, balance.currency, balances.gaps))
    except DerivError as error:
        post(BalanceFailed(describe_error(error), rejected=isinstance(error, AuthError)))


async def load_symbols(client: DerivClient, post: Post) -> None:
    """Post the server's active symbols (an empty list and the reason if they are unavailable)."""
    try:
        symbols = await client.active_symbols()
    except DerivError as error:
        post(SymbolsLoaded({}, error=describe_error(error)))
        return
    post(
        SymbolsLoaded({s.symbol: SymbolInfo(s.symbol, s.display_name, s.pip_size) for s in symbols})
    )


async def watch_positions(client: DerivClient, post: Post) -> None:
    """Announce every open contract of the authorized account: first those in the portfolio
    (:class:`PortfolioLoaded`), then each one bought from then on, by any client
    (:class:`ContractBought`).

    The transaction stream is opened before the portfolio is read, so a contract bought in
    between is announced twice (never missed): the screen ignores ids it follows already.
    Buys during a reconnect gap are not in the stream: the screen re-reads the portfolio then.
    """
    try:
        async with await client.transactions() as transactions:
            await load_portfolio(client, post)
            async for transaction in transactions:
                if transaction.action == "buy" and transaction.contract_id is not None:
                    post(ContractBought(transaction.contract_id))
    except DerivError as error:
        post(PositionsFailed(describe_error(error)))


async def load_portfolio(client: DerivClient, post: Post) -> None:
    """Post the ids of the account's open contracts (none, and the reason, if unavailable)."""
    try:
        portfolio = await client.portfolio()
    except DerivError as error:
        post(PortfolioLoaded([], error=describe_error(error)))
        return
    post(PortfolioLoaded([contract.contract_id for contract in portfolio]))


async def follow_contract(client: DerivClient, contract_id: int, post: Post) -> None:
    """Post every update of one contract until it is sold (its last update is ``settled``).

    Ends in :class:`PositionFailed` if the stream fails, or ends before the contract is sold.
    """
    try:
        async with await client.open_contract(contract_id) as updates:
            async for contract in updates:
                update = contract_update(contract)
                post(PositionUpdated(update))
                if update.settled:
                    return
    except DerivError as error:
        post(PositionFailed(contract_id, describe_error(error)))
        return
    post(PositionFailed(contract_id, "the contract stream ended before the contract settled"))


def _level(contract: OpenContract, key: str, value: float | None, *path: str) -> str | None:
    """A price level as the server wrote it (at the symbol's pip size), else ``value``."""
    written = server_level(contract.raw, *path, key)
    return written or (None if value is None else f"{value:.10g}")


def _amount(order: Order | None) -> float | None:
    return None if order is None or order.amount is None else abs(order.amount)


def contract_update(contract: OpenContract) -> ContractUpdate:
    """The dashboard's view of one ``proposal_open_contract`` message, with the terms of its
    product; its status is the contract's real outcome (``OpenContract.outcome``)."""
    settled = bool(contract.is_sold)
    value = contract.bid_price
    if settled and contract.sell_price is not None:
        value = contract.sell_price
    terms: dict[str, object] = {}
    if isinstance(contract, MultiplierContract):
        cancellation = contract.cancellation
        updatable = {"take_profit": contract.can_update_take_profit}
        updatable["stop_loss"] = contract.can_update_stop_loss
        terms = {
            "product": "multiplier",
            "take_profit": _amount(contract.take_profit),
            "stop_loss": _amount(contract.stop_loss),
            "stop_out": _level(
                contract,
                "value",
                contract.stop_out.value if contract.stop_out else None,
                "limit_order",
                "stop_out",
            ),
            "can_cancel": bool(contract.is_valid_to_cancel) and not settled,
            "cancel_until": cancellation.date_expiry if cancellation else None,
            "cancel_fee": cancellation.ask_price if cancellation else None,
            "can_update": frozenset(k for k, ok in updatable.items() if ok and not settled),
        }
    elif isinstance(contract, AccumulatorContract):
        distance = contract.barrier_distance
        terms = {
            "product": "accumulator",
            "take_profit": _amount(contract.take_profit),
            "barrier": None
            if distance is None
            else f"±{_level(contract, 'barrier_spot_distance', distance)}",
            "ticks": f"{contract.tick_passed}/{contract.tick_count or '?'}",
        }
    elif isinstance(contract, TurbosContract):
        can_update = contract.can_update_take_profit and not settled
        terms = {
            "product": "turbos",
            "take_profit": _amount(contract.take_profit),
            "barrier": _level(contract, "barrier", contract.barrier_level),
            "can_update": frozenset({"take_profit"}) if can_update else frozenset(),
        }
    elif isinstance(contract, VanillaContract):
        terms = {"product": "vanilla", "barrier": _level(contract, "barrier", contract.strike)}
    return ContractUpdate(
        contract_id=contract.contract_id,
        contract_type=contract.contract_type,
        symbol=contract.underlying,
        currency=contract.currency,
        buy_price=contract.buy_price,
        value=value,
        profit=contract.profit,
        profit_pct=contract.profit_percentage,
        status=contract.outcome,
        settled=settled,
        can_sell=bool(contract.is_valid_to_sell) and not settled,
        why_not=contract.validation_error,
        **terms,  # type: ignore[arg-type]
    )


async def stream_candles(
    client: DerivClient, symbol: str, granularity: int, stream: int, post: Post, record: RecordBar
) -> None:
    """Hand the last candles of ``symbol``, then every update, to ``record``; an error ends in
    :class:`CandlesFailed` (tagged ``stream``)."""
    try:
        async with await client.candles(symbol, granularity=granularity, count=CANDLES) as feed:
            async for candle in feed:  # the history candle by candle, then each update
                record(Bar(candle.epoch, candle.open, candle.high, candle.low, candle.close))
    except DerivError as error:
        post(CandlesFailed(symbol, granularity, describe_error(error), stream))


async def watch_server_clock(client: DerivClient, post: Post, interval: float) -> None:
    """Every ``interval`` seconds: ping (round-trip latency) and read the server's clock."""
    while True:
        try:
            latency = await client.ping()
            epoch = await client.server_time()
        except DerivError as error:
            post(ServerClock(None, None, describe_error(error)))
        else:
            post(ServerClock(latency, epoch))
        await asyncio.sleep(interval)


async def watch_strategies(
    registry: RunRegistry, post: Post, interval: float, wake: asyncio.Event
) -> None:
    """Read the running strategies every ``interval`` seconds (at once when ``wake`` is set) and
    post them when they changed since the last read. The files are read in a thread, so a slow
    disk never holds up the screen; the registry is never read per tick."""
    shown: list[RunRecord] | None = None
    while True:
        wake.clear()
        try:
            records = await asyncio.to_thread(registry.running)
        except OSError as error:
            reason = f"cannot read the running strategies: {error}"
            post(StrategiesLoaded(shown or [], error=reason))
        else:
            if records != shown:
                shown = records
                post(StrategiesLoaded(records))
        with suppress(TimeoutError):
            async with asyncio.timeout(interval):
                await wake.wait()


async def ask_strategy_to_stop(registry: RunRegistry, run_id: str, post: Post) -> None:
    """Ask one run to stop buying (SIGTERM: its open contracts are followed to settlement) and
    post the answer. Sent once; a run that is gone is said to be so."""
    try:
        asked = await asyncio.to_thread(registry.request_stop, run_id)
    except OSError as error:
        post(StrategyStopAsked(run_id, False, error=str(error)))
        return
    post(StrategyStopAsked(run_id, any(record.run_id == run_id for record in asked)))
