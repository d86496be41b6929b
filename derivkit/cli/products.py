"""Multipliers, Accumulators, Turbos and Vanillas on the command line: the product options of
``quote``/``buy``, their quote text, and the ``update`` and ``cancel`` commands.

``product_spec`` turns what the user typed into the typed spec of the product (or None for the
binary types, which ``derivkit.formatting.contract_spec`` handles); a combination the product
does not take is a usage error (exit 2) before anything is sent.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Annotated, Any

import typer

from derivkit.cli.app import GLOBALS_EPILOG, app
from derivkit.cli.runner import Session, run
from derivkit.formatting import PRODUCT_TYPES, money, parse_duration, utc

if TYPE_CHECKING:
    from derivkit.core import AnySpec, Order, Proposal

__all__ = [
    "PRODUCT_TYPES",
    "ProductOptions",
    "is_product",
    "product_quote",
    "product_spec",
]

_FOR = {
    "multiplier": "MULTUP/MULTDOWN",
    "take_profit": "MULTUP/MULTDOWN, ACCU, TURBOS*",
    "stop_loss": "MULTUP/MULTDOWN",
    "cancellation": "MULTUP/MULTDOWN",
    "growth_rate": "ACCU",
    "strike": "VANILLALONGCALL/PUT",
    "payout_per_point": "TURBOSLONG/SHORT",
}

MultiplierOpt = Annotated[
    float | None,
    typer.Option("--multiplier", min=0, help="Multiplier (MULTUP/MULTDOWN), e.g. 100."),
]
TakeProfitOpt = Annotated[
    float | None,
    typer.Option(
        "--take-profit", min=0, help="Close at this profit (multipliers, accumulators, turbos)."
    ),
]
StopLossOpt = Annotated[
    float | None, typer.Option("--stop-loss", min=0, help="Close at this loss (multipliers).")
]
CancellationOpt = Annotated[
    str | None,
    typer.Option(
        "--cancellation",
        help="Deal cancellation window for a multiplier: 5m, 10m, 15m, 30m or 60m.",
    ),
]
GrowthRateOpt = Annotated[
    float | None,
    typer.Option("--growth-rate", min=0, help="Accumulator growth per tick: 0.01 is 1 %."),
]
StrikeOpt = Annotated[
    str | None,
    typer.Option("--strike", help="Vanilla strike: an offset such as +0.00, or a level for days."),
]
PayoutPerPointOpt = Annotated[
    float | None,
    typer.Option(
        "--payout-per-point", min=0, help="Turbos payout per point (instead of --barrier)."
    ),
]


@dataclass(frozen=True)
class ProductOptions:
    """The product options of ``quote``/``buy`` as typed (None: not given)."""

    multiplier: float | None = None
    take_profit: float | None = None
    stop_loss: float | None = None
    cancellation: str | None = None
    growth_rate: float | None = None
    strike: str | None = None
    payout_per_point: float | None = None


def is_product(spec: object) -> bool:
    return getattr(spec, "contract_type", None) in PRODUCT_TYPES


def _refuse(contract_type: str, given: dict[str, Any]) -> None:
    for name, value in given.items():
        if value is not None:
            flag = "--" + name.replace("_", "-")
            raise typer.BadParameter(f"{flag} is for {_FOR[name]} contracts, not {contract_type}")


def product_spec(
    ctx: typer.Context,
    symbol: str,
    contract_type: str,
    stake: float,
    duration: str,
    *,
    barrier: str | None,
    currency: str,
    options: ProductOptions,
) -> AnySpec | None:
    """The typed spec of a Multiplier, Accumulator, Turbos or Vanilla; None for a binary type.

    Raises ``typer.BadParameter`` (exit 2) for options the product does not take.
    """
    from derivkit.core import (
        AccumulatorSpec,
        MultiplierSpec,
        TurbosSpec,
        UsageError,
        VanillaSpec,
    )

    ct = contract_type.upper()
    extras = asdict(options)
    if ct not in PRODUCT_TYPES:
        _refuse(ct, extras)
        return None
    multiplier, take_profit, stop_loss = options.multiplier, options.take_profit, options.stop_loss
    cancellation, growth_rate, strike = options.cancellation, options.growth_rate, options.strike
    payout_per_point = options.payout_per_point
    source = ctx.get_parameter_source("duration")
    typed_duration = source is not None and source.name == "COMMANDLINE"
    amount, unit = parse_duration(duration)
    taken: tuple[str, ...]
    try:
        if ct in ("MULTUP", "MULTDOWN"):
            taken = ("multiplier", "take_profit", "stop_loss", "cancellation")
            _refuse(ct, {k: v for k, v in extras.items() if k not in taken})
            if typed_duration or barrier is not None:
                raise typer.BadParameter(f"{ct} has no expiry: leave out --duration and --barrier")
            if multiplier is None:
                raise typer.BadParameter(f"{ct} needs --multiplier (see `derivkit contracts`)")
            return MultiplierSpec(
                ct,  # type: ignore[arg-type]
                symbol,
                stake,
                multiplier,
                take_profit=take_profit,
                stop_loss=stop_loss,
                cancellation=cancellation,  # type: ignore[arg-type]
                currency=currency,
            )
        if ct == "ACCU":
            taken = ("growth_rate", "take_profit")
            _refuse(ct, {k: v for k, v in extras.items() if k not in taken})
            if typed_duration or barrier is not None:
                raise typer.BadParameter("ACCU has no expiry: leave out --duration and --barrier")
            if growth_rate is None:
                raise typer.BadParameter("ACCU needs --growth-rate, e.g. 0.01 for 1 % a tick")
            return AccumulatorSpec(symbol, stake, growth_rate, take_profit, currency)
        if ct in ("TURBOSLONG", "TURBOSSHORT"):
            taken = ("take_profit", "payout_per_point")
            _refuse(ct, {k: v for k, v in extras.items() if k not in taken})
            return TurbosSpec(
                ct,  # type: ignore[arg-type]
                symbol,
                stake,
                amount,
                unit,  # type: ignore[arg-type]
                barrier=barrier,
                payout_per_point=payout_per_point,
                take_profit=take_profit,
                currency=currency,
            )
        _refuse(ct, {k: v for k, v in extras.items() if k != "strike"})
        chosen = strike if strike is not None else barrier
        if chosen is None:
            raise typer.BadParameter(f"{ct} needs --strike (see `derivkit contracts`)")
        if unit == "t":
            raise typer.BadParameter(f"{ct} takes a timed duration (1m, 1h, 1d), not ticks")
        return VanillaSpec(
            ct,  # type: ignore[arg-type]
            symbol,
            stake,
            amount,
            unit,  # type: ignore[arg-type]
            strike=chosen,
            currency=currency,
        )
    except UsageError as error:
        raise typer.BadParameter(str(error)) from None


def _order_line(label: str, order: Order | None, currency: str) -> str | None:
    if order is None or order.amount is None:
        return None
    where = f" at {order.value:g}" if order.value is not None else ""
    return f"  {label:<12} {money(order.amount, currency)}{where}"


def _order_payload(order: Order | None) -> dict[str, Any] | None:
    if order is None:
        return None
    return {"amount": order.amount, "value": order.value}


def product_quote(spec: AnySpec, proposal: Proposal) -> tuple[dict[str, Any], str]:
    """(JSON payload, text) of a Multiplier, Accumulator, Turbos or Vanilla quote."""
    currency = spec.currency
    ct = spec.contract_type
    payload: dict[str, Any] = {
        "proposal_id": proposal.id,
        "contract_type": ct,
        "symbol": spec.symbol,
        "stake": spec.amount,
        "ask_price": proposal.ask_price,
        "payout": proposal.payout,
        "currency": currency,
        "spot": proposal.spot,
        "longcode": proposal.longcode,
    }
    lines: list[str] = []
    details = proposal.contract_details
    if ct in ("MULTUP", "MULTDOWN"):
        fee = proposal.cancellation.ask_price if proposal.cancellation else None
        payload.update(
            multiplier=proposal.multiplier,
            commission=proposal.commission,
            stop_out=_order_payload(proposal.stop_out),
            take_profit=_order_payload(proposal.take_profit),
            stop_loss=_order_payload(proposal.stop_loss),
            cancellation_fee=fee,
        )
        head = f"{ct} on {spec.symbol}, x{proposal.multiplier or 0:g}, no expiry"
        lines.append(f"  Stake:       {money(spec.amount, currency)}")
        if fee is not None:
            lines.append(f"  Deal cancellation: {money(fee, currency)} (not refunded)")
        lines.append(f"  Commission:  {money(proposal.commission, currency)}")
        lines.extend(
            line
            for line in (
                _order_line("Stop out:", proposal.stop_out, currency),
                _order_line("Take profit:", proposal.take_profit, currency),
                _order_line("Stop loss:", proposal.stop_loss, currency),
            )
            if line
        )
    elif ct == "ACCU":
        payload.update(
            growth_rate=getattr(spec, "growth_rate", None),
            high_barrier=details.get("high_barrier"),
            low_barrier=details.get("low_barrier"),
            maximum_ticks=details.get("maximum_ticks"),
            maximum_payout=details.get("maximum_payout"),
            take_profit=_order_payload(proposal.take_profit),
        )
        head = f"ACCU on {spec.symbol}, {100 * getattr(spec, 'growth_rate', 0):g} % a tick"
        lines.append(f"  Stake:       {money(spec.amount, currency)}")
        lines.append(
            f"  Barriers:    {details.get('low_barrier')} to {details.get('high_barrier')} "
            f"(+/- {details.get('tick_size_barrier_percentage')} from each tick)"
        )
        lines.append(
            f"  Ends by:     {details.get('maximum_ticks')} ticks or "
            f"{money(details.get('maximum_payout'), currency)}"
        )
        tp = _order_line("Take profit:", proposal.take_profit, currency)
        if tp:
            lines.append(tp)
    else:
        duration = f"{getattr(spec, 'duration', '')}{getattr(spec, 'duration_unit', '')}"
        payload.update(
            duration=duration,
            barrier=proposal.barrier,
            number_of_contracts=proposal.number_of_contracts,
            min_stake=proposal.min_stake,
            max_stake=proposal.max_stake,
        )
        head = f"{ct} on {spec.symbol}, {duration}"
        lines.append(f"  Stake:       {money(spec.amount, currency)}")
        what = "Strike" if ct.startswith("VANILLA") else "Barrier"
        per = "Contracts" if ct.startswith("VANILLA") else "Per point"
        lines.append(f"  {what + ':':<12} {details.get('barrier')}")
        lines.append(f"  {per + ':':<12} {proposal.number_of_contracts}")
        if ct.startswith("TURBOS"):
            payload["take_profit"] = _order_payload(proposal.take_profit)
            tp = _order_line("Take profit:", proposal.take_profit, currency)
            if tp:
                lines.append(tp)
    if proposal.spot is not None:
        lines.append(f"  Spot:        {proposal.spot}  at {utc(proposal.spot_time)} UTC")
    lines.append(f"  {proposal.longcode}")
    return payload, "\n".join([head, *lines])


def _amount_or_none(text: str | None) -> float | None | bool:
    """A positive amount, None for ``none`` (remove the order), False when not given."""
    if text is None:
        return False
    if text.strip().lower() in ("none", "off", "remove"):
        return None
    try:
        value = float(text)
    except ValueError:
        raise typer.BadParameter(
            f"{text!r} is not an amount; use a number, or none to remove"
        ) from None
    if not value > 0:
        raise typer.BadParameter("the amount must be positive (or none to remove)")
    return value


@app.command("update", epilog=GLOBALS_EPILOG)
def update_command(
    ctx: typer.Context,
    contract_id: Annotated[int, typer.Argument(help="Contract id (a multiplier or turbos).")],
    take_profit: Annotated[
        str | None, typer.Option("--take-profit", help="New take profit amount, or none.")
    ] = None,
    stop_loss: Annotated[
        str | None, typer.Option("--stop-loss", help="New stop loss amount, or none.")
    ] = None,
) -> None:
    """Change or remove the take profit / stop loss of an open contract (sent once)."""
    from derivkit.core import KEEP

    tp = _amount_or_none(take_profit)
    sl = _amount_or_none(stop_loss)
    if tp is False and sl is False:
        raise typer.BadParameter("give --take-profit and/or --stop-loss (a number, or none)")

    async def body(session: Session) -> None:
        result = await session.fetch(
            session.api.update_contract(
                contract_id,
                take_profit=KEEP if tp is False else tp,
                stop_loss=KEEP if sl is False else sl,
            )
        )
        currency = session.currency
        payload = {
            "contract_id": contract_id,
            "take_profit": _order_payload(result.take_profit),
            "stop_loss": _order_payload(result.stop_loss),
        }

        def shown(order: Order | None) -> str:
            if order is None or order.amount is None:
                return "none"
            where = f" (at {order.value:g})" if order.value is not None else ""
            return f"{money(abs(order.amount), currency)}{where}"

        text = (
            f"Contract {contract_id}: take profit {shown(result.take_profit)}, "
            f"stop loss {shown(result.stop_loss)}"
        )
        session.out.data(payload, text)

    run(ctx, body, needs_token=True)


@app.command("cancel", epilog=GLOBALS_EPILOG)
def cancel_command(
    ctx: typer.Context,
    contract_id: Annotated[int, typer.Argument(help="A multiplier bought with --cancellation.")],
) -> None:
    """Cancel a multiplier while its deal cancellation is active: the stake comes back, the fee
    does not (sent once, never retried)."""

    async def body(session: Session) -> None:
        receipt = await session.fetch(session.api.cancel_contract(contract_id))
        currency = session.currency
        payload = {
            "contract_id": receipt.contract_id,
            "sold_for": receipt.sold_for,
            "balance_after": receipt.balance_after,
            "transaction_id": receipt.transaction_id,
        }
        session.out.data(
            payload,
            f"Cancelled contract {receipt.contract_id}: {money(receipt.sold_for, currency)} "
            f"back; balance {money(receipt.balance_after, currency)}",
        )

    run(ctx, body, needs_token=True)
