"""Did a buy whose reply was lost buy anything? The account's statement says.

A ``buy`` sent and then cut off (``OutcomeUnknown``) may or may not have executed. Once the
connection answers again, the account's statement is the record: a ``buy`` transaction of that
contract type on that symbol, for no more than the price offered, made since the order was sent
(less ``slack`` seconds, for clocks), and not one of the contracts the caller already knows, is
the order's contract; none means nothing was bought. Every front-end (the bot, the dashboard,
strategy runs) resolves lost buys with :func:`find_purchase`.

Several matches: the earliest is the order's, by transaction time and then transaction id (ids
grow in the order the server executed the buys). So several lost buys of one shape, resolved in
the order they were sent (each adding its find to ``known``), get the contracts in the order
they were bought, and the choice never depends on the order the statement lists its rows in
(newest first): within one second, a buy made just after the order (elsewhere, or the next lost
one) is not taken for it.

``sent_at`` should be on the server's clock or earlier: a lower bound later than the purchase
(a local clock running ahead) would report a buy that happened as not bought. A caller that has
the server's time of its quote passes the earlier of the two.

Concurrency: one call is one ``statement`` request on ``client``; it raises what the request
raises (the caller retries once the link is back). Safe to cancel.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from derivkit.core import DerivClient
    from derivkit.core.models import StatementEntry

__all__ = ["LostBuy", "Purchase", "find_purchase"]

#: Seconds a purchase's time may precede the order's and still be it (server vs local clocks).
SLACK = 10
#: Statement rows read: the buys of a busy minute and then some.
ROWS = 50


@dataclass(frozen=True)
class LostBuy:
    """What was sent: ``contract_type`` on ``symbol`` for at most ``max_price``, at ``sent_at``
    (epoch seconds)."""

    contract_type: str
    symbol: str
    max_price: float
    sent_at: float


@dataclass(frozen=True)
class Purchase:
    """The contract a lost buy bought (``payout`` None when the statement row has none, as a
    multiplier's or an accumulator's)."""

    contract_id: int
    transaction_id: int
    buy_price: float
    purchase_time: int
    shortcode: str
    longcode: str = ""
    payout: float | None = None

    def receipt(self) -> dict[str, Any]:
        """The purchase as the fields of a ``buy`` reply (what a journal records of a buy)."""
        return {
            "contract_id": self.contract_id,
            "transaction_id": self.transaction_id,
            "buy_price": self.buy_price,
            "payout": self.payout,
            "purchase_time": self.purchase_time,
            "shortcode": self.shortcode,
            "longcode": self.longcode,
        }


def _is_it(row: StatementEntry, buy: LostBuy, known: Collection[int], slack: float) -> bool:
    return (
        row.action_type == "buy"
        and bool(row.contract_id)
        and row.contract_id not in known
        and row.shortcode.upper().startswith(f"{buy.contract_type}_{buy.symbol}_".upper())
        and -row.amount <= buy.max_price + 1e-9
        and row.transaction_time >= buy.sent_at - slack
    )


async def find_purchase(
    client: DerivClient, buy: LostBuy, *, known: Collection[int] = (), slack: float = SLACK
) -> Purchase | None:
    """The earliest buy on the account matching ``buy`` that is not in ``known``, or None."""
    rows = await client.statement(limit=ROWS)
    matches = [row for row in rows if _is_it(row, buy, known, slack)]
    if not matches:
        return None
    row = min(matches, key=lambda r: (r.transaction_time, r.transaction_id))
    assert row.contract_id is not None
    return Purchase(
        contract_id=row.contract_id,
        transaction_id=row.transaction_id,
        buy_price=round(-row.amount, 2),
        purchase_time=row.transaction_time,
        shortcode=row.shortcode,
        longcode=row.longcode,
        payout=row.payout,
    )
