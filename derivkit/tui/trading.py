"""The ticket's I/O: a live quote, a buy sent exactly once, a sell, and the look-up that settles
an outcome-unknown buy. Coroutines run as workers; each ends in a message, never an exception.

A buy or sell is one call, never retried: if its reply is lost the core raises
:class:`~derivkit.core.OutcomeUnknown`, reported as ``unknown`` and resolved later by
:func:`resolve_buy` from the account's portfolio and profit table. These workers belong to the
main screen, not to the ticket, so closing the ticket never cancels a buy in flight.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from derivkit.core import ContractSpec, DerivClient, DerivError, OutcomeUnknown, Proposal
from derivkit.formatting import describe_error
from derivkit.tui.messages import (
    BuyFinished,
    BuyResolved,
    QuoteFailed,
    QuoteReceived,
    SellFinished,
)
from derivkit.tui.streams import Post

__all__ = ["Order", "place_buy", "place_sell", "resolve_buy", "watch_quote"]

#: Look-ups of an outcome-unknown buy, and the pause between them (a late buy may still land).
RESOLVE_ATTEMPTS = 3
RESOLVE_PAUSE = 2.0


@dataclass
class Order:
    """A confirmed buy: what, at which quote, on which account; ``known`` are the contract ids
    the dashboard knew before it (none of them can be this buy)."""

    spec: ContractSpec
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


async def watch_quote(client: DerivClient, spec: ContractSpec, serial: int, post: Post) -> None:
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


async def resolve_buy(client: DerivClient, order: Order, post: Post) -> None:
    """Find an outcome-unknown buy among the account's open, then settled, contracts: same type,
    symbol and price, bought at or after the quote, and not a contract known before."""
    try:
        for attempt in range(RESOLVE_ATTEMPTS):
            if attempt:
                await asyncio.sleep(RESOLVE_PAUSE)
            found = await _find(client, order)
            if found is not None:
                post(BuyResolved(order, found))
                return
    except DerivError as error:
        post(BuyResolved(order, None, error=describe_error(error)))
        return
    post(BuyResolved(order, None))


async def _find(client: DerivClient, order: Order) -> int | None:
    spec = order.spec
    for open_contract in await client.portfolio():
        if (
            open_contract.contract_id not in order.known
            and open_contract.contract_type == spec.contract_type
            and open_contract.symbol == spec.symbol
            and abs(open_contract.buy_price - order.price) < 0.005
            and open_contract.purchase_time >= order.since
        ):
            return open_contract.contract_id
    for settled in await client.profit_table(limit=50, date_from=max(0, order.since)):
        if (
            settled.contract_id not in order.known
            and settled.contract_type == spec.contract_type
            and settled.underlying_symbol == spec.symbol
            and abs(settled.buy_price - order.price) < 0.005
            and settled.purchase_time >= order.since
        ):
            return settled.contract_id
    return None
