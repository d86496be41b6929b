"""The ticket's I/O: the symbol's offers, a live quote, a buy sent exactly once, a sell, and the
look-up that settles an outcome-unknown buy. Coroutines run as workers; each ends in a message,
never an exception.

A buy or sell is one call, never retried: if its reply is lost the core raises
:class:`~derivkit.core.OutcomeUnknown`, reported as ``unknown`` and resolved later by
:func:`resolve_buy` from the account's statement, with the resolver every front-end shares
(:func:`derivkit.purchases.find_purchase`). These workers belong to the main screen, not to the
ticket, so closing the ticket never cancels a buy in flight.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from derivkit.core import KEEP, AnySpec, DerivClient, DerivError, OutcomeUnknown, Proposal
from derivkit.core import Order as CoreOrder
from derivkit.formatting import describe_error
from derivkit.purchases import LostBuy, find_purchase
from derivkit.tui.messages import (
    BuyFinished,
    BuyResolved,
    CancelFinished,
    OffersLoaded,
    QuoteFailed,
    QuoteReceived,
    SellFinished,
    UpdateFinished,
)
from derivkit.tui.streams import Post

__all__ = [
    "Order",
    "load_offers",
    "place_buy",
    "place_cancel",
    "place_sell",
    "place_update",
    "resolve_buy",
    "watch_quote",
]

#: Look-ups of an outcome-unknown buy, and the pause between them (a late buy may still land).
RESOLVE_ATTEMPTS = 3
RESOLVE_PAUSE = 2.0


@dataclass
class Order:
    """A confirmed buy: what, at which quote, on which account; ``known`` are the contract ids
    the dashboard knew before it (none of them can be this buy)."""

    spec: AnySpec
    proposal: Proposal
    account: str
    real: bool
    known: set[int] = field(default_factory=set)

    @property
    def price(self) -> float:
        return self.proposal.ask_price

    @property
    def since(self) -> int:
        """The earliest server time the contract can have been bought at."""
        return (self.proposal.spot_time or 0) - 1


async def load_offers(client: DerivClient, symbol: str, currency: str, post: Post) -> None:
    """Post what ``contracts_for`` offers on ``symbol`` (none, and why, if it fails)."""
    try:
        offers = await client.contracts_for(symbol, currency=currency)
    except DerivError as error:
        post(OffersLoaded(symbol, [], describe_error(error)))
    else:
        post(OffersLoaded(symbol, offers))


async def watch_quote(client: DerivClient, spec: AnySpec, serial: int, post: Post) -> None:
    """Post the contract's price as the market moves, until cancelled (which forgets it)."""
    try:
        async with await client.watch_proposal(spec) as quotes:
            async for proposal in quotes:
                post(QuoteReceived(proposal, serial))
    except DerivError as error:
        post(QuoteFailed(describe_error(error), serial))


async def place_buy(client: DerivClient, order: Order, post: Post) -> None:
    """Send the buy once, at the quoted price at most."""
    try:
        receipt = await client.buy(order.proposal, price=order.price)
    except OutcomeUnknown as error:
        post(BuyFinished(order, error=describe_error(error), unknown=True))
    except DerivError as error:
        post(BuyFinished(order, error=describe_error(error)))
    else:
        post(BuyFinished(order, receipt.contract_id, receipt.buy_price, receipt.balance_after))


async def place_sell(client: DerivClient, contract_id: int, post: Post) -> None:
    """Sell at market, once."""
    try:
        receipt = await client.sell(contract_id, 0)
    except OutcomeUnknown as error:
        post(SellFinished(contract_id, error=describe_error(error), unknown=True))
    except DerivError as error:
        post(SellFinished(contract_id, error=describe_error(error)))
    else:
        post(SellFinished(contract_id, sold_for=receipt.sold_for))


async def place_cancel(client: DerivClient, contract_id: int, post: Post) -> None:
    """Cancel a multiplier with deal cancellation (the stake comes back), once."""
    try:
        receipt = await client.cancel_contract(contract_id)
    except OutcomeUnknown as error:
        post(CancelFinished(contract_id, error=describe_error(error), unknown=True))
    except DerivError as error:
        post(CancelFinished(contract_id, error=describe_error(error)))
    else:
        post(CancelFinished(contract_id, sold_for=receipt.sold_for))


async def place_update(
    client: DerivClient, contract_id: int, changes: dict[str, float | None], post: Post
) -> None:
    """Set (an amount) or remove (None) the take profit and/or stop loss in ``changes``, once;
    an order not in ``changes`` is kept."""
    try:
        reply = await client.update_contract(
            contract_id,
            take_profit=changes.get("take_profit", KEEP),
            stop_loss=changes.get("stop_loss", KEEP),
        )
    except OutcomeUnknown as error:
        post(UpdateFinished(contract_id, changes, error=describe_error(error), unknown=True))
    except DerivError as error:
        post(UpdateFinished(contract_id, changes, error=describe_error(error)))
    else:
        post(
            UpdateFinished(
                contract_id,
                changes,
                take_profit=_order_amount(reply.take_profit),
                stop_loss=_order_amount(reply.stop_loss),
            )
        )


def _order_amount(order: CoreOrder | None) -> float | None:
    return None if order is None or order.amount is None else abs(order.amount)


async def resolve_buy(client: DerivClient, order: Order, post: Post) -> None:
    """Find an outcome-unknown buy in the account's statement (:func:`find_purchase`): a buy of
    the same type on the same symbol, for no more than the quoted price, made at or after the
    quote (server time, so no clock slack), and not a contract known before. Looked up
    ``RESOLVE_ATTEMPTS`` times, ``RESOLVE_PAUSE`` apart (a late buy may still land)."""
    lost = LostBuy(order.spec.contract_type, order.spec.symbol, order.price, order.since)
    try:
        for attempt in range(RESOLVE_ATTEMPTS):
            if attempt:
                await asyncio.sleep(RESOLVE_PAUSE)
            found = await find_purchase(client, lost, known=order.known, slack=0)
            if found is not None:
                post(BuyResolved(order, found.contract_id))
                return
    except DerivError as error:
        post(BuyResolved(order, None, error=describe_error(error)))
        return
    post(BuyResolved(order, None))
