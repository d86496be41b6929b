"""The trade journal on the command line: ``derivkit journal`` lists what derivkit bought (the
bot's trades and every strategy run's), ``derivkit stats`` sums it up by day, week or strategy.

Both read the journal's database (``--database`` / ``DERIVKIT_DATABASE_URL``, else SQLite in the
data dir) and need no connection. :func:`opened_journal` is how ``derivkit run`` writes to it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Annotated, Any

import typer

from derivkit.cli.app import CsvFlag, app, examples
from derivkit.cli.errors import EXIT_USAGE, CommandError, reported
from derivkit.cli.output import Column
from derivkit.cli.runner import output_for
from derivkit.formatting import money, utc
from derivkit.settings import option_help

if TYPE_CHECKING:
    from derivkit.storage import JournalEntry, Storage

DatabaseOption = Annotated[
    str | None,
    typer.Option("--database", help=option_help("database"), show_default=False),
]

#: The journal's columns, raw (``--csv``, ``--json``) and in this order.
ENTRY_KEYS = (
    "id",
    "requested_at",
    "origin",
    "strategy",
    "run_id",
    "loginid",
    "symbol",
    "contract_type",
    "stake",
    "status",
    "contract_id",
    "buy_price",
    "sell_price",
    "profit",
    "settled_at",
    "error",
)


def _shown_url(url: str) -> str:
    """``url`` with any password blanked, for messages."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # not a URL SQLAlchemy reads: say nothing of what it holds
        return "the configured database"


@asynccontextmanager
async def opened_journal(database: str | None = None) -> AsyncIterator[Storage]:
    """The journal's storage, opened (and migrated) for the block; a failure to open it is a
    :class:`CommandError` naming the database (never its password)."""
    from derivkit.settings import data_dir, resolve_database_url
    from derivkit.storage import Storage, TokenCipher, default_url

    url = resolve_database_url(database) or default_url(data_dir())
    try:
        storage = await Storage.open(url, TokenCipher.from_environment())
    except Exception as error:  # the driver's own errors, whatever they are
        raise CommandError(
            f"cannot open the trade journal at {_shown_url(url)}: {type(error).__name__}",
            EXIT_USAGE,
        ) from None
    async with storage:
        yield storage


def _entry_row(entry: JournalEntry) -> dict[str, Any]:
    return {key: getattr(entry, key) for key in ENTRY_KEYS}


@app.command(
    "journal",
    epilog=examples(
        "derivkit journal --count 20",
        "derivkit journal --strategy martingale --csv > martingale.csv",
    ),
)
def journal_command(
    ctx: typer.Context,
    count: Annotated[int, typer.Option("--count", "-n", min=1, help="Entries to show.")] = 50,
    strategy: Annotated[
        str | None, typer.Option(help="Only this strategy's trades.", show_default=False)
    ] = None,
    run_id: Annotated[
        str | None, typer.Option("--run", help="Only this run's trades.", show_default=False)
    ] = None,
    as_csv: CsvFlag = False,
    database: DatabaseOption = None,
) -> None:
    """What derivkit bought (the bot, strategy runs), newest first, with each trade's outcome."""
    out = output_for(ctx)

    async def body() -> list[JournalEntry]:
        async with opened_journal(database) as storage:
            return await storage.journal_entries(strategy=strategy, run_id=run_id, limit=count)

    with reported(out):
        entries = asyncio.run(body())
    rows = [_entry_row(entry) for entry in entries]
    if as_csv:
        out.csv(rows, ENTRY_KEYS)
        return
    human = [
        {
            **row,
            "requested_at": utc(row["requested_at"]),
            "by": row["strategy"] or row["origin"],
            "stake": money(row["stake"], entry.currency),
            "profit": money(row["profit"], entry.currency),
        }
        for row, entry in zip(rows, entries, strict=True)
    ]
    columns = [
        Column("requested_at", "Time (UTC)"),
        Column("by", "By"),
        Column("loginid", "Account"),
        Column("symbol"),
        Column("contract_type", "Type"),
        Column("stake", numeric=True),
        Column("status"),
        Column("contract_id", "Contract", numeric=True),
        Column("profit", numeric=True),
    ]
    out.table(human, columns, payload=rows, empty="The journal is empty.")


@app.command(
    "stats",
    epilog=examples(
        "derivkit stats", "derivkit stats --by strategy", "derivkit stats --by week --csv"
    ),
)
def stats_command(
    ctx: typer.Context,
    by: Annotated[str, typer.Option("--by", help="Group by day, week or strategy.")] = "day",
    days: Annotated[
        int | None,
        typer.Option(min=1, help="Only the last N days (default: everything).", show_default=False),
    ] = None,
    as_csv: CsvFlag = False,
    database: DatabaseOption = None,
) -> None:
    """Won, lost, win rate and P/L of what derivkit traded (the journal), by day, week or strategy.

    Refused orders are left out; open contracts and outcomes not yet known are counted apart.
    """
    import time

    from derivkit.storage.stats import GROUPINGS, STATS_KEYS, summarize

    out = output_for(ctx)
    if by not in GROUPINGS:
        raise typer.BadParameter(f"must be one of {', '.join(GROUPINGS)}", param_hint="--by")
    since = None if days is None else time.time() - days * 86400

    async def body() -> list[JournalEntry]:
        async with opened_journal(database) as storage:
            return await storage.journal_entries(since=since, newest_first=False)

    with reported(out):
        stats = summarize(asyncio.run(body()), by)
    rows = [row.as_dict() for row in stats]
    if as_csv:
        out.csv(rows, STATS_KEYS)
        return
    human = [
        {
            **row,
            "win_rate": f"{row['win_rate'] * 100:.1f} %" if row["trades"] else "",
            "staked": money(row["staked"], ""),
            "profit": money(row["profit"], ""),
        }
        for row in rows
    ]
    columns = [
        Column("group", by.capitalize()),
        Column("trades", numeric=True),
        Column("won", numeric=True),
        Column("lost", numeric=True),
        Column("win_rate", "Win rate", numeric=True),
        Column("staked", numeric=True),
        Column("profit", "P/L", numeric=True),
        Column("open", numeric=True),
        Column("unknown", numeric=True),
    ]
    out.table(human, columns, payload=rows, empty="No trades in the journal yet.")
