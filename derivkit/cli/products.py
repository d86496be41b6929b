"""Multipliers, Accumulators, Turbos and Vanillas on the command line: the product options of
``quote``/``buy``, their quote text, and the ``update`` and ``cancel`` commands.

``product_spec`` turns what the user typed into the typed spec of the product (or None for the
binary types, which ``derivkit.formatting.contract_spec`` handles); a combination the product
does not take is a usage error (exit 2) before anything is sent.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from derivkit import products
from derivkit.cli.app import GLOBALS_EPILOG, app
from derivkit.cli.runner import Session, run
from derivkit.formatting import PRODUCT_TYPES, money
from derivkit.products import ProductOptions, is_product, order_payload, order_text

if TYPE_CHECKING:
    from derivkit.core import AnySpec, Proposal

__all__ = [
    "PRODUCT_TYPES",
    "ProductOptions",
    "is_product",
    "product_quote",
    "product_spec",
]

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
    """The typed spec of a Multiplier, Accumulator, Turbos or Vanilla; None for a binary type
    (:func:`derivkit.products.product_spec`, with ``--duration`` counted as given only when
    typed). Raises ``typer.BadParameter`` (exit 2) for options the product does not take."""
    source = ctx.get_parameter_source("duration")
    typed = source is not None and source.name == "COMMANDLINE"
    try:
        return products.product_spec(
            symbol,
            contract_type,
            stake,
            duration=duration if typed else None,
            barrier=barrier,
            currency=currency,
            options=options,
            default_duration=duration,
        )
    except products.ProductInputError as error:
        raise typer.BadParameter(str(error)) from None


def product_quote(spec: AnySpec, proposal: Proposal) -> tuple[dict[str, Any], str]:
    """(JSON payload, text) of a Multiplier, Accumulator, Turbos or Vanilla quote."""
    quote = products.product_quote(spec, proposal)
    return quote.payload, quote.text()


def _amount_or_none(text: str | None) -> float | None | bool:
    """A positive amount, None for ``none`` (remove the order), False when not given."""
    if text is None:
        return False
    try:
        return products.amount_or_none(text)
    except ValueError as error:
        raise typer.BadParameter(str(error)) from None


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
            "take_profit": order_payload(result.take_profit),
            "stop_loss": order_payload(result.stop_loss),
        }
        text = (
            f"Contract {contract_id}: take profit {order_text(result.take_profit, currency)}, "
            f"stop loss {order_text(result.stop_loss, currency)}"
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
