"""Market commands: price, ticks, history, symbols, contracts. No token needed."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

import typer

from derivkit.cli.app import CsvFlag, app, examples
from derivkit.cli.completion import complete_symbol
from derivkit.cli.errors import EXIT_API, CommandError, describe
from derivkit.cli.output import Column
from derivkit.cli.runner import Session, run
from derivkit.formatting import describe_error, price, utc

#: The most ticks one ``ticks_history`` call returns, and the most ``history`` fetches in all.
PAGE = 5000
MAX_RECORDED = 1_000_000
GRANULARITIES = (60, 120, 180, 300, 600, 900, 1800, 3600, 7200, 14400, 28800, 86400)

SymbolArg = Annotated[
    str,
    typer.Argument(
        metavar="SYMBOL",
        help="Symbol, e.g. R_100 (any case; `derivkit symbols` lists them).",
        autocompletion=complete_symbol,
        show_default=False,
    ),
]


@app.command(
    "price",
    epilog=examples("derivkit --sim price R_100 R_50 stpRNG", "derivkit --json price r_100"),
)
def price_command(
    ctx: typer.Context,
    symbols: Annotated[
        list[str],
        typer.Argument(
            metavar="SYMBOL...",
            help="Symbols, e.g. R_100 1HZ100V stpRNG (any case).",
            autocompletion=complete_symbol,
            show_default=False,
        ),
    ],
) -> None:
    """Latest quote of each symbol (fetched concurrently over one connection).

    The symbols that could be priced are printed (table or JSON list); each one that could not
    gets an error line on stderr, and the exit code is that of the first failure.
    """

    async def body(session: Session) -> None:
        from derivkit.core import APIError

        failures: dict[str, BaseException] = {}
        known: dict[str, str] = {}
        for name in symbols:
            try:
                known[name] = (await session.symbol(name)).symbol
            except CommandError as error:
                failures[name] = error
        results = await session.fetch(
            asyncio.gather(
                *(session.api.ticks_history(symbol, count=1) for symbol in known.values()),
                return_exceptions=True,
            )
        )
        rows: list[dict[str, Any]] = []
        for name, result in zip(known, results, strict=True):
            symbol = known[name]
            if isinstance(result, APIError):
                failures[name] = result
                continue
            if isinstance(result, BaseException):
                raise result
            if not result.prices:
                failures[name] = APIError("NoData", "no recent tick")
                continue
            rows.append(
                {
                    "symbol": symbol,
                    "quote": result.prices[-1],
                    "epoch": result.times[-1],
                    "pip_size": result.pip_size,
                }
            )
        human = [
            {**row, "quote": price(row["quote"], row["pip_size"]), "time": utc(row["epoch"])}
            for row in rows
        ]
        columns = [Column("symbol"), Column("quote", numeric=True), Column("time", "Time (UTC)")]
        if rows:  # when every symbol failed, stdout stays empty (under --json too)
            session.out.table(human, columns, payload=rows)
        if failures:
            codes = []
            for name in symbols:
                if name in failures:
                    failure = failures[name]
                    message, code = describe(failure) or (describe_error(failure), EXIT_API)
                    # A lookup failure names the symbol already; a server error is prefixed.
                    is_lookup = isinstance(failure, CommandError)
                    session.out.error(message if is_lookup else f"{name}: {message}")
                    codes.append(code)
            raise typer.Exit(codes[0])

    run(ctx, body)


@app.command(
    "ticks", epilog=examples("derivkit --sim ticks 1HZ100V --count 5", "derivkit --json ticks R_50")
)
def ticks_command(
    ctx: typer.Context,
    symbol: SymbolArg,
    count: Annotated[
        int | None,
        typer.Option("--count", "-n", min=1, metavar="N", help="Stop after N ticks."),
    ] = None,
) -> None:
    """Stream ticks until Ctrl-C (or until --count ticks arrived)."""

    async def body(session: Session) -> None:
        received = 0
        found = await session.symbol(symbol)
        async with await session.fetch(session.api.ticks(found.symbol)) as stream:
            async for tick in stream:
                payload = {"symbol": tick.symbol, "epoch": tick.epoch, "quote": tick.quote}
                line = f"{utc(tick.epoch)}  {tick.symbol}  {price(tick.quote, tick.pip_size)}"
                session.out.stream_item(payload, line)
                received += 1
                if count is not None and received >= count:
                    break

    run(ctx, body)


@app.command(
    "history",
    epilog=examples(
        "derivkit --sim history R_100 --count 50 --chart",
        "derivkit --sim history R_50 -n 10 --granularity 60",
    ),
)
def history_command(
    ctx: typer.Context,
    symbol: SymbolArg,
    count: Annotated[
        int,
        typer.Option(
            "--count",
            "-n",
            min=1,
            max=MAX_RECORDED,
            metavar="N",
            help="How many ticks or candles (above 5000, fetched 5000 at a time).",
        ),
    ] = 20,
    granularity: Annotated[
        int | None,
        typer.Option(
            metavar="SECONDS",
            help="Candle length in seconds (60, 120, ... 86400); omit for ticks.",
            show_default=False,
        ),
    ] = None,
    chart: Annotated[bool, typer.Option("--chart", help="Draw a chart in the terminal.")] = False,
    as_csv: CsvFlag = False,
) -> None:
    """Past ticks, or candles with --granularity, as a table, a chart or CSV."""
    if granularity is not None and granularity not in GRANULARITIES:
        raise typer.BadParameter(
            f"must be one of {', '.join(map(str, GRANULARITIES))}", param_hint="--granularity"
        )

    async def body(session: Session) -> None:
        api = session.api
        name = (await session.symbol(symbol)).symbol
        if granularity is None:
            history = await session.fetch(_all_ticks(api, name, count))
            pip = history.pip_size
            rows: list[dict[str, Any]] = [
                {"epoch": epoch, "quote": quote}
                for epoch, quote in zip(history.times, history.prices, strict=False)
            ]
            if as_csv:
                session.out.csv(rows, ("epoch", "quote"))
                if len(rows) < count:
                    session.out.note(f"{len(rows)} ticks: all the server keeps of {name}.")
                return
            human = [{"time": utc(r["epoch"]), "quote": price(r["quote"], pip)} for r in rows]
            columns = [Column("time", "Time (UTC)"), Column("quote", numeric=True)]
            if chart and not session.out.json_mode:
                session.out.data(None, _line_chart(name, history.times, history.prices))
                return
        else:
            candles = await session.fetch(
                api.ticks_history(name, count=count, style="candles", granularity=granularity)
            )
            pip = candles[0].pip_size if candles else None
            rows = [
                {"epoch": c.epoch, "open": c.open, "high": c.high, "low": c.low, "close": c.close}
                for c in candles
            ]
            human = [
                {"time": utc(r["epoch"])}
                | {k: price(r[k], pip) for k in ("open", "high", "low", "close")}
                for r in rows
            ]
            columns = [Column("time", "Time (UTC)")] + [
                Column(k, numeric=True) for k in ("open", "high", "low", "close")
            ]
            if as_csv:
                session.out.csv(rows, ("epoch", "open", "high", "low", "close"))
                return
            if chart and not session.out.json_mode:
                session.out.data(None, _candle_chart(name, rows))
                return
        session.out.table(human, columns, title=f"{name} history", payload=rows)

    run(ctx, body)


async def _all_ticks(api: Any, symbol: str, count: int) -> Any:
    """The last ``count`` ticks, fetched backwards a page of 5,000 at a time (the most one
    ``ticks_history`` gives)."""
    from derivkit.core.models import History

    times: list[int] = []
    prices: list[float] = []
    end: str | int = "latest"
    pip_size = None
    while len(times) < count:
        page = await api.ticks_history(symbol, count=min(PAGE, count - len(times)), end=end)
        pip_size = page.pip_size if page.pip_size is not None else pip_size
        if not page.times:
            break
        times[:0], prices[:0] = page.times, page.prices
        if len(page.times) < PAGE:
            break
        end = page.times[0] - 1
    return History(prices=prices, times=times, pip_size=pip_size)


def _plot_size() -> tuple[int, int]:
    import shutil

    columns, lines = shutil.get_terminal_size((100, 30))
    return min(columns, 140), max(12, min(lines - 4, 30))


def _plot(draw: Any) -> Any:
    import os

    import plotext as plt
    from rich.text import Text

    plt.clf()
    plt.plotsize(*_plot_size())
    plt.theme("clear" if os.environ.get("NO_COLOR") else "pro")
    draw(plt)
    return Text.from_ansi(plt.build())


def _line_chart(symbol: str, times: list[int], prices: list[float]) -> Any:
    def draw(plt: Any) -> None:
        plt.title(f"{symbol}: last {len(prices)} ticks")
        plt.plot(list(range(len(prices))), prices, marker="braille")
        if times:
            plt.xticks([0, len(times) - 1], [utc(times[0])[11:], utc(times[-1])[11:]])

    return _plot(draw)


def _candle_chart(symbol: str, rows: list[dict[str, Any]]) -> Any:
    def draw(plt: Any) -> None:
        plt.title(f"{symbol}: {len(rows)} candles")
        data = {
            key.capitalize(): [r[key] for r in rows] for key in ("open", "high", "low", "close")
        }
        plt.candlestick(list(range(len(rows))), data)
        if rows:
            plt.xticks(
                [0, len(rows) - 1], [utc(rows[0]["epoch"])[5:16], utc(rows[-1]["epoch"])[5:16]]
            )

    return _plot(draw)


@app.command(
    "symbols",
    epilog=examples("derivkit --sim symbols", "derivkit symbols --market synthetic_index --json"),
)
def symbols_command(
    ctx: typer.Context,
    market: Annotated[
        str | None,
        typer.Option(
            metavar="MARKET", help="Only this market, e.g. synthetic_index.", show_default=False
        ),
    ] = None,
) -> None:
    """Symbols that can be traded, with their market and pip size."""

    async def body(session: Session) -> None:
        symbols = await session.fetch(session.api.active_symbols())
        if market:
            symbols = [
                s for s in symbols if market.lower() in (s.market, s.market_display_name.lower())
            ]
        rows: list[dict[str, Any]] = [
            {
                "symbol": s.symbol,
                "display_name": s.display_name,
                "market": s.market,
                "submarket": s.submarket,
                "pip_size": s.pip_size,
                "open": bool(s.exchange_is_open) and not s.is_trading_suspended,
            }
            for s in symbols
        ]
        columns = [
            Column("symbol"),
            Column("display_name", "Name"),
            Column("market"),
            Column("submarket"),
            Column("pip_size", "Decimals", numeric=True),
            Column("open"),
        ]
        session.out.table(
            rows, columns, empty=f"No symbols in market {market!r}." if market else "No symbols."
        )

    run(ctx, body)


@app.command("contracts", epilog=examples("derivkit --sim contracts R_100"))
def contracts_command(
    ctx: typer.Context,
    symbol: SymbolArg,
) -> None:
    """Contract types offered on a symbol, with their durations and the choices of the
    products' options (multipliers, growth rates, barriers, strikes)."""

    async def body(session: Session) -> None:
        from derivkit.products import offer_choices

        found = (await session.symbol(symbol)).symbol
        offers = await session.fetch(session.api.contracts_for(found))
        rows: list[dict[str, Any]] = []
        for o in offers:
            row: dict[str, Any] = {
                "contract_type": o.contract_type,
                "contract_category": o.contract_category,
                "contract_display": o.contract_display,
                "barrier_category": o.barrier_category,
                "expiry_type": o.expiry_type,
                "min_duration": o.min_contract_duration,
                "max_duration": o.max_contract_duration,
            }
            choices = offer_choices(o)
            if choices:
                row["choices"] = choices
            rows.append(row)
        shown = [
            {
                **row,
                "choices": "; ".join(
                    f"--{name.replace('_', '-')} {','.join(values)}"
                    for name, values in row.get("choices", {}).items()
                ),
            }
            for row in rows
        ]
        columns = [
            Column("contract_type", "Type"),
            Column("contract_display", "Name"),
            Column("barrier_category", "Barrier"),
            Column("expiry_type", "Expiry"),
            Column("min_duration", "Min"),
            Column("max_duration", "Max"),
            Column("choices", "Choices"),
        ]
        session.out.table(shown, columns, title=f"Contracts on {found}", payload=rows)

    run(ctx, body)
