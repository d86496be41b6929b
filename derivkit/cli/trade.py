"""Trading commands: quote (a price, nothing bought) and buy (after confirmation, sent once)."""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer

from derivkit.cli.app import GLOBALS_EPILOG, app
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
from derivkit.cli.runner import EXIT_API, EXIT_USAGE, Session, run
from derivkit.formatting import DURATION_UNITS, contract_spec, money, parse_duration, utc

CONTRACT_TYPES = (
    "CALL PUT ONETOUCH NOTOUCH DIGITMATCH DIGITDIFF DIGITEVEN DIGITODD DIGITOVER DIGITUNDER"
)

SymbolArg = Annotated[str, typer.Argument(help="Symbol to trade, e.g. R_100.")]
TypeOpt = Annotated[
    str,
    typer.Option("--type", "-t", help=f"Contract type: {CONTRACT_TYPES}.", show_default=False),
]
StakeOpt = Annotated[float, typer.Option("--stake", min=0.01, help="Amount to stake.")]


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
        callback=_checked_duration,
        help="Duration: 5t (ticks), 30s, 5m, 1h, 1d.",
    ),
]
BarrierOpt = Annotated[
    str | None,
    typer.Option(help="Barrier: +0.5 / -0.5 (relative), 1234.5 (absolute), or a digit 0-9."),
]


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


def quote_text(spec: Any, proposal: Any) -> str:
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
        lines.append(f"  Spot:    {proposal.spot}  at {utc(proposal.spot_time)} UTC")
    lines.append(f"  {proposal.longcode}")
    return "\n".join(lines)


def interactive() -> bool:
    """Whether a person can answer a prompt (stdin is a terminal)."""
    return sys.stdin.isatty()


@app.command("quote", epilog=GLOBALS_EPILOG)
def quote_command(
    ctx: typer.Context,
    symbol: SymbolArg,
    contract_type: TypeOpt,
    stake: StakeOpt = 10.0,
    duration: DurationOpt = "5t",
    barrier: BarrierOpt = None,
    currency: Annotated[str, typer.Option(help="Currency of the stake.")] = "USD",
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
    spec = product_spec(
        ctx,
        symbol,
        contract_type,
        stake,
        duration,
        barrier=barrier,
        currency=currency,
        options=options,
    ) or contract_spec(symbol, contract_type, stake, duration, barrier=barrier, currency=currency)

    async def body(session: Session) -> None:
        proposal = await session.fetch(session.api.proposal(spec))
        if is_product(spec):
            session.out.data(*product_quote(spec, proposal))
            return
        session.out.data(quote_payload(spec, proposal), quote_text(spec, proposal))

    run(ctx, body)


@app.command("buy", epilog=GLOBALS_EPILOG)
def buy_command(
    ctx: typer.Context,
    symbol: SymbolArg,
    contract_type: TypeOpt,
    stake: StakeOpt = 10.0,
    duration: DurationOpt = "5t",
    barrier: BarrierOpt = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    max_stake: Annotated[
        float | None,
        typer.Option(min=0.01, help="Refuse if the price asked is above this amount."),
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
    # Refuse combinations the product does not take before connecting.
    product_spec(
        ctx,
        symbol,
        contract_type,
        stake,
        duration,
        barrier=barrier,
        currency="USD",
        options=options,
    )

    async def body(session: Session) -> None:
        api = session.api
        out = session.out
        account = api.account
        currency = account.currency if account and account.currency else "USD"
        is_real = account is not None and not account.is_virtual
        spec = product_spec(
            ctx,
            symbol,
            contract_type,
            stake,
            duration,
            barrier=barrier,
            currency=currency,
            options=options,
        ) or contract_spec(
            symbol, contract_type, stake, duration, barrier=barrier, currency=currency
        )
        proposal = await session.fetch(api.proposal(spec))
        out.note(
            product_quote(spec, proposal)[1] if is_product(spec) else quote_text(spec, proposal)
        )
        if account is not None and is_real and not real_money:
            out.error(f"{account.loginid} is a real-money account; add --real-money to trade on it")
            raise typer.Exit(EXIT_USAGE)
        if max_stake is not None and proposal.ask_price > max_stake:
            out.error(
                f"the price asked, {money(proposal.ask_price, currency)}, is above --max-stake "
                f"{money(max_stake, currency)}; nothing bought"
            )
            raise typer.Exit(EXIT_API)
        if not yes:
            if not interactive():
                out.error("not buying without confirmation: pass --yes, or run in a terminal")
                raise typer.Exit(EXIT_USAGE)
            kind = "REAL MONEY" if is_real else "virtual money"
            if not typer.confirm(
                f"Buy for {money(proposal.ask_price, currency)} ({kind})?", err=True
            ):
                out.note("Nothing bought.")
                raise typer.Exit(0)
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
            f"balance {money(receipt.balance_after, currency)}. "
            f"Follow it: derivkit contract {receipt.contract_id} --watch",
        )

    run(ctx, body, needs_token=True)
