"""Account commands: balance, portfolio, contract, sell, statement, profit. Need a token."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from derivkit.cli.app import CsvFlag, app, examples
from derivkit.cli.errors import EXIT_API, EXIT_USAGE, CommandError, reported
from derivkit.cli.output import Column
from derivkit.cli.prompts import confirm, ctrl_c_waits, interactive
from derivkit.cli.runner import Session, output_for, run
from derivkit.formatting import describe_error, money, utc

ContractIdArg = Annotated[
    int,
    typer.Argument(
        metavar="CONTRACT_ID", help="Contract id (from buy or portfolio).", show_default=False
    ),
]


def count_option(most: int, what: str) -> Any:
    """``--count N`` (``-n``): how many rows, as everywhere in the CLI."""
    return typer.Option("--count", "-n", min=1, max=most, metavar="N", help=f"How many {what}.")


#: ``--limit``, the old name of ``--count`` here: still accepted, no longer shown.
LimitAlias = Annotated[int | None, typer.Option("--limit", min=1, hidden=True)]

#: The columns of ``statement --csv`` and ``profit --csv`` (the raw values of ``--json``).
STATEMENT_KEYS = (
    "transaction_id",
    "transaction_time",
    "action",
    "amount",
    "balance_after",
    "contract_id",
    "longcode",
)
PROFIT_KEYS = (
    "contract_id",
    "contract_type",
    "buy_price",
    "sell_price",
    "profit",
    "purchase_time",
    "sell_time",
)


async def currency_decimals(session: Session, currency: str) -> int | None:
    """The account currency's decimals as the server announces them (None if unknown)."""
    from derivkit.core import DerivError

    try:
        status = await session.api.website_status()
    except DerivError:
        return None
    return status.currency_decimals(currency) if currency in status.currencies_config else None


def _balance_payload(balance: Any) -> dict[str, Any]:
    return {"balance": balance.balance, "currency": balance.currency, "loginid": balance.loginid}


@app.command(
    "balance", epilog=examples("derivkit --sim balance", "derivkit balance --watch --json")
)
def balance_command(
    ctx: typer.Context,
    watch: Annotated[
        bool, typer.Option("--watch", help="Keep printing updates until Ctrl-C.")
    ] = False,
) -> None:
    """The account balance."""

    async def body(session: Session) -> None:
        api = session.api
        if not watch:
            balance = await session.fetch(api.balance())
            decimals = await currency_decimals(session, balance.currency)
            human = money(balance.balance, balance.currency, decimals)
            session.out.data(_balance_payload(balance), f"{human}  ({balance.loginid})")
            return
        decimals = None
        async with await api.watch_balance() as updates:
            async for balance in updates:
                if decimals is None:
                    decimals = await currency_decimals(session, balance.currency)
                human = money(balance.balance, balance.currency, decimals)
                session.out.stream_item(_balance_payload(balance), human)

    run(ctx, body, needs_token=True)


@app.command("portfolio", epilog=examples("derivkit portfolio", "derivkit --json portfolio"))
def portfolio_command(ctx: typer.Context) -> None:
    """Open contracts."""

    async def body(session: Session) -> None:
        contracts = await session.fetch(session.api.portfolio())
        rows: list[dict[str, Any]] = [
            {
                "contract_id": c.contract_id,
                "contract_type": c.contract_type,
                "symbol": c.symbol,
                "buy_price": c.buy_price,
                "payout": c.payout,
                "currency": c.currency,
                "purchase_time": c.purchase_time,
                "expiry_time": c.expiry_time,
            }
            for c in contracts
        ]
        human = [
            {
                **r,
                "buy_price": money(r["buy_price"], r["currency"]),
                "payout": money(r["payout"], r["currency"]),
                "purchase_time": utc(r["purchase_time"]),
                "expiry_time": utc(r["expiry_time"]),
            }
            for r in rows
        ]
        columns = [
            Column("contract_id", "Contract", numeric=True),
            Column("contract_type", "Type"),
            Column("symbol"),
            Column("buy_price", "Stake", numeric=True),
            Column("payout", numeric=True),
            Column("purchase_time", "Bought (UTC)"),
            Column("expiry_time", "Expires (UTC)"),
        ]
        session.out.table(human, columns, payload=rows, empty="No open contracts.")

    run(ctx, body, needs_token=True)


def _contract_payload(contract: Any) -> dict[str, Any]:
    return {
        "contract_id": contract.contract_id,
        "contract_type": contract.contract_type,
        "symbol": contract.underlying,
        "status": contract.status,
        "outcome": contract.outcome,
        "buy_price": contract.buy_price,
        "bid_price": contract.bid_price,
        "payout": contract.payout,
        "profit": contract.profit,
        "is_sold": bool(contract.is_sold),
        "entry_tick": contract.entry_tick,
        "exit_tick": contract.exit_tick,
        "current_spot": contract.current_spot,
        "currency": contract.currency,
    }


def _contract_line(contract: Any) -> str:
    sign = "+" if contract.profit >= 0 else ""
    bid = money(contract.bid_price, contract.currency)
    profit = money(contract.profit, contract.currency)
    return (
        f"{contract.contract_id}  {contract.contract_type} {contract.underlying}  "
        f"{contract.outcome}  bid {bid}  profit {sign}{profit}"
    )


@app.command(
    "contract",
    epilog=examples("derivkit contract 250000000008", "derivkit contract 250000000008 --watch"),
)
def contract_command(
    ctx: typer.Context,
    contract_id: ContractIdArg,
    watch: Annotated[
        bool, typer.Option("--watch", help="Follow live profit until the contract is sold.")
    ] = False,
) -> None:
    """A contract's state and profit; --watch follows it until sold."""

    async def body(session: Session) -> None:
        async with await session.fetch(session.api.open_contract(contract_id)) as updates:
            async for contract in updates:
                if watch:
                    session.out.stream_item(_contract_payload(contract), _contract_line(contract))
                    continue
                session.out.data(_contract_payload(contract), _contract_line(contract))
                return

    run(ctx, body, needs_token=True)


@app.command(
    "sell",
    epilog=examples(
        "derivkit sell 250000000008",
        "derivkit sell 250000000008 --price 4.5",
        "derivkit sell --all",
    ),
)
def sell_command(
    ctx: typer.Context,
    contract_id: Annotated[
        int | None,
        typer.Argument(
            metavar="[CONTRACT_ID]",
            help="Contract id (from buy or portfolio); or --all.",
            show_default=False,
        ),
    ] = None,
    price: Annotated[
        float,
        typer.Option(
            min=0, metavar="AMOUNT", help="Least you accept; 0 sells at the market price."
        ),
    ] = 0.0,
    sell_all: Annotated[
        bool, typer.Option("--all", help="Sell every open contract that can be sold now.")
    ] = False,
    yes: Annotated[
        bool, typer.Option("--yes", "-y", help="With --all: do not ask for confirmation.")
    ] = False,
) -> None:
    """Sell an open contract (or --all of them) before expiry; each sent once, never retried."""
    with reported(output_for(ctx)):
        if sell_all == (contract_id is not None):
            raise CommandError("give a CONTRACT_ID or --all (not both)", EXIT_USAGE)
        if sell_all and price:
            raise CommandError("--price applies to one contract; --all sells at market", EXIT_USAGE)

    async def body(session: Session) -> None:
        if sell_all:
            await _sell_everything(session, yes)
            return
        assert contract_id is not None
        with ctrl_c_waits(session.out, "the sell", not_done="nothing sold."):
            receipt = await session.fetch(session.api.sell(contract_id, price))
        currency = session.currency
        payload = {
            "contract_id": receipt.contract_id,
            "sell_price": receipt.sold_for,
            "balance_after": receipt.balance_after,
            "transaction_id": receipt.transaction_id,
        }
        session.out.data(
            payload,
            f"Sold contract {receipt.contract_id} for {money(receipt.sold_for, currency)}; "
            f"balance {money(receipt.balance_after, currency)}",
        )

    run(ctx, body, needs_token=True)


async def _sell_everything(session: Session, yes: bool) -> None:
    """Every open contract valid to sell, after one confirmation; each sale sent once."""
    from derivkit.core import DerivError, OutcomeUnknown, open_contract_from

    api, out, currency = session.api, session.out, session.currency
    contracts = await session.fetch(api.portfolio())
    states = []
    for contract in contracts:  # one read each: is it valid to sell now, and for how much?
        reply = await api.request(
            {"proposal_open_contract": 1, "contract_id": contract.contract_id}
        )
        states.append(open_contract_from(reply["proposal_open_contract"]))
    sellable = [s for s in states if s.is_valid_to_sell and not s.is_sold]
    kept = len(states) - len(sellable)
    if not sellable:
        why = f" ({kept} open, none valid to sell.)" if kept else ""
        out.data([], f"Nothing can be sold now.{why}", err=True)
        return
    total = sum(s.bid_price or 0.0 for s in sellable)
    if not yes:
        if not interactive():
            raise CommandError("not selling without confirmation: pass --yes", EXIT_USAGE)
        question = (
            f"Sell {len(sellable)} contract(s) at market, about {money(total, currency)} in all"
            + (f" ({kept} more cannot be sold now)" if kept else "")
            + "?"
        )
        if not confirm(question, not_done="nothing sold."):
            out.note("Nothing sold.")
            raise typer.Exit(0)
    results: list[dict[str, Any]] = []
    failed = 0
    with ctrl_c_waits(out, "the sells", not_done="nothing sold."):
        for state in sellable:
            row: dict[str, Any] = {"contract_id": state.contract_id}
            try:
                receipt = await api.sell(state.contract_id, 0)
            except OutcomeUnknown as error:
                failed += 1
                row.update(outcome="unknown", error=str(error))
            except DerivError as error:
                failed += 1
                row.update(outcome="refused", error=describe_error(error))
            else:
                row.update(outcome="sold", sell_price=receipt.sold_for)
            results.append(row)
            if not out.json_mode:
                out.note(_sale_line(row, currency))
    sold = [r for r in results if r["outcome"] == "sold"]
    proceeds = money(sum(r["sell_price"] for r in sold), currency)
    out.data(results, f"Sold {len(sold)} of {len(sellable)} for {proceeds}.", err=True)
    if failed:
        raise typer.Exit(EXIT_API)


def _sale_line(row: dict[str, Any], currency: str) -> str:
    if row["outcome"] == "sold":
        return f"  {row['contract_id']}: sold for {money(row['sell_price'], currency)}"
    if row["outcome"] == "unknown":
        return (
            f"  {row['contract_id']}: the reply was lost; check `derivkit portfolio` (not re-sent)"
        )
    return f"  {row['contract_id']}: not sold ({row['error']})"


@app.command(
    "statement", epilog=examples("derivkit statement --count 5", "derivkit --json statement")
)
def statement_command(
    ctx: typer.Context,
    count: Annotated[int, count_option(999, "transactions")] = 20,
    limit: LimitAlias = None,
    as_csv: CsvFlag = False,
) -> None:
    """Recent account transactions, newest first."""
    count = limit or count

    async def body(session: Session) -> None:
        entries = await session.fetch(session.api.statement(limit=count))
        currency = session.currency
        rows: list[dict[str, Any]] = [
            {
                "transaction_id": e.transaction_id,
                "transaction_time": e.transaction_time,
                "action": e.action_type,
                "amount": e.amount,
                "balance_after": e.balance_after,
                "contract_id": e.contract_id,
                "longcode": e.longcode,
            }
            for e in entries
        ]
        if as_csv:
            session.out.csv(rows, STATEMENT_KEYS)
            return
        human = [
            {
                **r,
                "transaction_time": utc(r["transaction_time"]),
                "amount": money(r["amount"], currency),
                "balance_after": money(r["balance_after"], currency),
            }
            for r in rows
        ]
        columns = [
            Column("transaction_time", "Time (UTC)"),
            Column("action"),
            Column("amount", numeric=True),
            Column("balance_after", "Balance", numeric=True),
            Column("contract_id", "Contract", numeric=True),
            Column("longcode", "Description"),
        ]
        session.out.table(human, columns, payload=rows, empty="No transactions.")

    run(ctx, body, needs_token=True)


@app.command("profit", epilog=examples("derivkit profit --count 10", "derivkit --json profit"))
def profit_command(
    ctx: typer.Context,
    count: Annotated[int, count_option(500, "contracts")] = 20,
    limit: LimitAlias = None,
    as_csv: CsvFlag = False,
) -> None:
    """Closed contracts with their profit or loss, newest first."""
    count = limit or count

    async def body(session: Session) -> None:
        entries = await session.fetch(session.api.profit_table(limit=count))
        currency = session.currency
        rows: list[dict[str, Any]] = [
            {
                "contract_id": e.contract_id,
                "contract_type": e.contract_type or e.shortcode.split("_")[0],
                "buy_price": e.buy_price,
                "sell_price": e.sell_price,
                "profit": e.profit,
                "purchase_time": e.purchase_time,
                "sell_time": e.sell_time,
            }
            for e in entries
        ]
        if as_csv:
            session.out.csv(rows, PROFIT_KEYS)
            return
        human = [
            {
                **r,
                "buy_price": money(r["buy_price"], currency),
                "sell_price": money(r["sell_price"], currency),
                "profit": money(r["profit"], currency),
                "sell_time": utc(r["sell_time"]),
            }
            for r in rows
        ]
        columns = [
            Column("contract_id", "Contract", numeric=True),
            Column("contract_type", "Type"),
            Column("buy_price", "Bought", numeric=True),
            Column("sell_price", "Sold", numeric=True),
            Column("profit", numeric=True),
            Column("sell_time", "Closed (UTC)"),
        ]
        total = round(sum(r["profit"] for r in rows), 2)
        session.out.table(human, columns, payload=rows, empty="No closed contracts.")
        if rows and not session.out.json_mode:
            session.out.note(f"Total over {len(rows)} contracts: {money(total, currency)}")

    run(ctx, body, needs_token=True)
