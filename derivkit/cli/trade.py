"""Trading commands: quote (a price, nothing bought) and buy (after confirmation, sent once)."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Annotated, Any

import typer

from derivkit.cli.app import app, examples
from derivkit.cli.completion import complete_contract_type, complete_symbol
from derivkit.cli.errors import EXIT_API, EXIT_USAGE, CommandError, reported
from derivkit.cli.products import (
    CancellationOpt,
    GrowthRateOpt,
    MultiplierOpt,
    PayoutPerPointOpt,
    ProductOptions,
    StopLossOpt,
    StrikeOpt,
    TakeProfitOpt,
    is_product,
    product_quote,
    product_spec,
)
from derivkit.cli.prompts import confirm, ctrl_c_waits, interactive
from derivkit.cli.runner import Session, output_for, run
from derivkit.formatting import (
    CONTRACT_TYPES,
    DURATION_UNITS,
    PRODUCT_TYPES,
    MissingBarrier,
    contract_spec,
    money,
    parse_duration,
    price,
    utc,
)

if TYPE_CHECKING:
    from derivkit.core.models import ContractSpec

__all__ = ["buy_command", "interactive", "quote_command"]

SymbolArg = Annotated[
    str,
    typer.Argument(
        metavar="SYMBOL",
        help="Symbol to trade, e.g. R_100 (any case).",
        autocompletion=complete_symbol,
        show_default=False,
    ),
]
TypeOpt = Annotated[
    str,
    typer.Option(
        "--type",
        "-t",
        metavar="TYPE",
        help=f"Contract type (any case): {', '.join(CONTRACT_TYPES + PRODUCT_TYPES)}.",
        autocompletion=complete_contract_type,
        show_default=False,
    ),
]
StakeOpt = Annotated[
    float, typer.Option("--stake", min=0.01, metavar="AMOUNT", help="Amount to stake.")
]


def _checked_duration(text: str) -> str:
    try:
        parse_duration(text)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    return text


DurationOpt = Annotated[
    str,
    typer.Option(
        "--duration",
        "-d",
        metavar="DURATION",
        callback=_checked_duration,
        help="Duration: 5t (ticks), 30s, 5m, 1h, 1d (days; where `contracts` offers them).",
    ),
]
BarrierOpt = Annotated[
    str | None,
    typer.Option(
        metavar="BARRIER",
        help="Barrier: +0.5 / -0.5 (relative), 1234.5 (absolute), or a digit 0-9. Needed by "
        "ONETOUCH, NOTOUCH, DIGITMATCH, DIGITDIFF, DIGITOVER and DIGITUNDER.",
        show_default=False,
    ),
]
Barrier2Opt = Annotated[
    str | None,
    typer.Option(
        "--barrier2",
        metavar="BARRIER",
        help="Low barrier of EXPIRYRANGE, EXPIRYMISS, RANGE and UPORDOWN (--barrier is the high).",
        show_default=False,
    ),
]
TickOpt = Annotated[
    int | None,
    typer.Option(
        "--tick",
        min=1,
        metavar="N",
        help="TICKHIGH/TICKLOW: the tick predicted to be the highest/lowest (1 to the duration).",
        show_default=False,
    ),
]
QUOTE_EXAMPLES = examples(
    "derivkit --sim quote R_100 --type CALL --stake 10 --duration 5t",
    "derivkit --sim quote 1hz100v -t digitmatch --barrier 7 -d 1t",
)
BUY_EXAMPLES = examples(
    "derivkit --sim buy R_100 --type PUT --stake 5 --duration 5m",
    "derivkit buy 1HZ100V -t DIGITEVEN -d 1t --yes --max-stake 5",
)


_FLAGS = {"barrier": "--barrier", "barrier2": "--barrier2", "selected_tick": "--tick"}


def typed_spec(
    symbol: str,
    contract_type: str,
    stake: float,
    duration: str,
    *,
    barrier: str | None,
    barrier2: str | None = None,
    selected_tick: int | None = None,
    currency: str = "USD",
) -> ContractSpec:
    """The contract as typed, checked before anything is sent (a usage error, exit 2)."""
    try:
        return contract_spec(
            symbol,
            contract_type,
            stake,
            duration,
            barrier=barrier,
            barrier2=barrier2,
            selected_tick=selected_tick,
            currency=currency,
        )
    except MissingBarrier as error:
        raise CommandError(f"{error} ({_FLAGS[error.parameter]})", EXIT_USAGE) from None
    except ValueError as error:
        raise CommandError(str(error), EXIT_USAGE) from None


def any_spec(
    ctx: typer.Context,
    symbol: str,
    contract_type: str,
    stake: float,
    duration: str,
    barriers: tuple[str | None, str | None, int | None],
    currency: str,
    options: ProductOptions,
) -> Any:
    """The typed spec of a product (Multiplier, Accumulator, Turbos, Vanilla) or of a binary
    contract, checked before anything is sent."""
    barrier, barrier2, selected_tick = barriers
    product = product_spec(
        ctx,
        symbol,
        contract_type,
        stake,
        duration,
        barrier=barrier,
        currency=currency,
        options=options,
    )
    if product is not None:
        if barrier2 is not None or selected_tick is not None:
            raise CommandError(
                f"{product.contract_type} takes neither --barrier2 nor --tick", EXIT_USAGE
            )
        return product
    return typed_spec(
        symbol,
        contract_type,
        stake,
        duration,
        barrier=barrier,
        barrier2=barrier2,
        selected_tick=selected_tick,
        currency=currency,
    )


async def server_spec(session: Session, spec: Any, **changes: Any) -> tuple[Any, ...]:
    """``spec`` with the server's spelling of its symbol (and ``changes``), and its pip size."""
    found = await session.symbol(spec.symbol)
    return replace(spec, symbol=found.symbol, **changes), found.pip_size


def quote_payload(spec: Any, proposal: Any) -> dict[str, Any]:
    return {
        "proposal_id": proposal.id,
        "contract_type": spec.contract_type,
        "symbol": spec.symbol,
        "duration": f"{spec.duration}{spec.duration_unit}",
        "barrier": spec.barrier,
        "ask_price": proposal.ask_price,
        "payout": proposal.payout,
        "currency": spec.currency,
        "spot": proposal.spot,
        "longcode": proposal.longcode,
    }


def quote_text(spec: Any, proposal: Any, pip_size: int | None = None) -> str:
    profit = proposal.payout - proposal.ask_price
    unit = DURATION_UNITS.get(spec.duration_unit, spec.duration_unit)
    if spec.duration == 1:
        unit = unit.rstrip("s")
    lines = [
        f"{spec.contract_type} on {spec.symbol}, {spec.duration} {unit}",
        f"  Stake:   {money(proposal.ask_price, spec.currency)}",
        f"  Payout:  {money(proposal.payout, spec.currency)}  (profit if it wins: "
        f"{money(profit, spec.currency)})",
    ]
    if proposal.spot is not None:
        spot = price(proposal.spot, pip_size) if pip_size is not None else proposal.spot
        lines.append(f"  Spot:    {spot}  at {utc(proposal.spot_time)} UTC")
    lines.append(f"  {proposal.longcode}")
    return "\n".join(lines)


@app.command("quote", epilog=QUOTE_EXAMPLES)
def quote_command(
    ctx: typer.Context,
    symbol: SymbolArg,
    contract_type: TypeOpt,
    stake: StakeOpt = 10.0,
    duration: DurationOpt = "5t",
    barrier: BarrierOpt = None,
    barrier2: Barrier2Opt = None,
    tick: TickOpt = None,
    currency: Annotated[
        str, typer.Option(metavar="CURRENCY", help="Currency of the stake.")
    ] = "USD",
    multiplier: MultiplierOpt = None,
    take_profit: TakeProfitOpt = None,
    stop_loss: StopLossOpt = None,
    cancellation: CancellationOpt = None,
    growth_rate: GrowthRateOpt = None,
    strike: StrikeOpt = None,
    payout_per_point: PayoutPerPointOpt = None,
) -> None:
    """Price a contract: stake, payout and what it pays for. Buys nothing."""
    options = ProductOptions(
        multiplier, take_profit, stop_loss, cancellation, growth_rate, strike, payout_per_point
    )

    async def body(session: Session) -> None:
        spec, pip_size = await server_spec(session, typed)
        proposal = await session.fetch(session.api.proposal(spec))
        if is_product(spec):
            session.out.data(*product_quote(spec, proposal))
            return
        session.out.data(quote_payload(spec, proposal), quote_text(spec, proposal, pip_size))

    with reported(output_for(ctx)):  # bad input fails before anything is sent
        typed = any_spec(
            ctx,
            symbol,
            contract_type,
            stake,
            duration,
            (barrier, barrier2, tick),
            currency,
            options,
        )
    run(ctx, body)


@app.command("buy", epilog=BUY_EXAMPLES)
def buy_command(
    ctx: typer.Context,
    symbol: SymbolArg,
    contract_type: TypeOpt,
    stake: StakeOpt = 10.0,
    duration: DurationOpt = "5t",
    barrier: BarrierOpt = None,
    barrier2: Barrier2Opt = None,
    tick: TickOpt = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    max_stake: Annotated[
        float | None,
        typer.Option(
            min=0.01, metavar="AMOUNT", help="Refuse if the price asked is above this amount."
        ),
    ] = None,
    real_money: Annotated[
        bool, typer.Option("--real-money", help="Allow buying on a real-money account.")
    ] = False,
    multiplier: MultiplierOpt = None,
    take_profit: TakeProfitOpt = None,
    stop_loss: StopLossOpt = None,
    cancellation: CancellationOpt = None,
    growth_rate: GrowthRateOpt = None,
    strike: StrikeOpt = None,
    payout_per_point: PayoutPerPointOpt = None,
) -> None:
    """Buy a contract after showing its quote. Sent exactly once, never retried."""
    options = ProductOptions(
        multiplier, take_profit, stop_loss, cancellation, growth_rate, strike, payout_per_point
    )

    async def body(session: Session) -> None:
        api = session.api
        out = session.out
        account = api.account
        currency = account.currency if account and account.currency else "USD"
        is_real = account is not None and not account.is_virtual
        spec, pip_size = await server_spec(session, typed, currency=currency)
        proposal = await session.fetch(api.proposal(spec))
        if is_product(spec):
            out.note(product_quote(spec, proposal)[1])
        else:
            out.note(quote_text(spec, proposal, pip_size))
        if account is not None and is_real and not real_money:
            raise CommandError(
                f"{account.loginid} is a real-money account; add --real-money to trade on it",
                EXIT_USAGE,
            )
        if max_stake is not None and proposal.ask_price > max_stake:
            raise CommandError(
                f"the price asked, {money(proposal.ask_price, currency)}, is above --max-stake "
                f"{money(max_stake, currency)}; nothing bought",
                EXIT_API,
            )
        if not yes:
            if not interactive():
                raise CommandError(
                    "not buying without confirmation: pass --yes, or run in a terminal",
                    EXIT_USAGE,
                )
            kind = "REAL MONEY" if is_real else "virtual money"
            question = f"Buy for {money(proposal.ask_price, currency)} ({kind})?"
            if not confirm(question, not_done="nothing bought."):
                out.note("Nothing bought.")
                raise typer.Exit(0)
        with ctrl_c_waits(out, "the buy", not_done="nothing bought."):
            receipt = await session.fetch(api.buy(proposal), "Buying")
        payload = {
            "contract_id": receipt.contract_id,
            "transaction_id": receipt.transaction_id,
            "buy_price": receipt.buy_price,
            "payout": receipt.payout,
            "balance_after": receipt.balance_after,
            "currency": currency,
            "purchase_time": receipt.purchase_time,
            "longcode": receipt.longcode,
        }
        out.data(
            payload,
            f"Bought contract {receipt.contract_id} for {money(receipt.buy_price, currency)}; "
            f"balance {money(receipt.balance_after, currency)}.",
        )
        out.note(follow_up(session, receipt.contract_id))

    with reported(output_for(ctx)):  # bad input fails before anything is sent
        typed = any_spec(
            ctx,
            symbol,
            contract_type,
            stake,
            duration,
            (barrier, barrier2, tick),
            "USD",
            options,
        )
    run(ctx, body, needs_token=True)


def follow_up(session: Session, contract_id: int) -> str:
    """How to follow the contract just bought. The embedded simulator of ``--sim`` ends with
    this command, so there the answer is how to keep one running."""
    if not session.settings.sim:
        return f"Follow it: derivkit contract {contract_id} --watch"
    return (
        "This --sim simulator ends with this command, and the contract with it. To follow "
        "contracts, keep one simulator running: `derivkit sim serve --token demo1` in another "
        "terminal, then add `--endpoint ws://127.0.0.1:8765/websockets/v3 --token demo1` "
        "(instead of --sim) to every command."
    )
