"""Server-side pending orders: what a Confirm button stands for.

A Confirm/Cancel button carries only an opaque single-use nonce; the order itself (who may
confirm it, what it buys or sells, at what price) stays here. :meth:`PendingOrders.claim` removes
the order before anything is sent to Deriv, so a double tap, a forged nonce, another user's tap or
a tap after expiry can never trade. Not thread-safe; use from the event loop only.

In a fleet (``store``: a :class:`~derivkit.storage.fleet.FleetStore`) the orders also live in
PostgreSQL, written when the update that made them ends (:meth:`export`) and read back when the
user's next update starts, on any instance (:meth:`load`); :meth:`claim` then consumes the row
with one conditional ``UPDATE ... RETURNING``, so the same tap handed to two instances trades
once. The consumed row stays as a tombstone that :meth:`sending` and :meth:`finished` mark, so
a Confirm run again after its instance died learns what happened (:meth:`consumed`). One
process (``tombstones``: an :class:`~derivkit.storage.tombstones.OrderTombstones`) keeps its
orders in memory but writes the tombstone at the claim, so that after a crash the next start
finishes the cards of trades left half done (:mod:`derivkit.bot.interrupted`).
"""

from __future__ import annotations

import dataclasses
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from derivkit.core import (
    AccumulatorSpec,
    AnySpec,
    ContractSpec,
    MultiplierSpec,
    Proposal,
    TurbosSpec,
    VanillaSpec,
)

__all__ = ["PendingOrder", "PendingOrders", "spec_from_json", "spec_to_json"]

_SPECS: dict[str, type[Any]] = {
    spec.__name__: spec
    for spec in (ContractSpec, MultiplierSpec, AccumulatorSpec, TurbosSpec, VanillaSpec)
}


def spec_to_json(spec: AnySpec) -> dict[str, Any]:
    """A spec of any product as JSON: its class by name and its fields (for a copy of the
    pending orders kept outside the process)."""
    return {"type": type(spec).__name__, "fields": dataclasses.asdict(spec)}


def spec_from_json(data: Mapping[str, Any]) -> AnySpec:
    """The spec :func:`spec_to_json` wrote (it checks itself again as it is built)."""
    spec: AnySpec = _SPECS[str(data["type"])](**data["fields"])
    return spec


OrderKind = Literal["buy", "sell", "sellall", "update", "cancel"]


@dataclass
class PendingOrder:
    """A trade waiting for its owner's confirmation.

    ``price`` is the bound sent with the trade: the most paid for a buy (the quoted ask), the
    least accepted for a sell (0 = at market). An ``update`` carries the orders to change in
    ``changes`` (``take_profit`` / ``stop_loss``: an amount, or None to remove).
    """

    nonce: str
    kind: OrderKind
    user_id: int
    chat_id: int
    summary: str
    price: float
    expires_at: float
    spec: AnySpec | None = None
    contract_id: int | None = None
    message_id: int | None = field(default=None)
    proposal: Proposal | None = None
    contract_ids: list[int] = field(default_factory=list)  # "sellall"
    changes: dict[str, float | None] = field(default_factory=dict)  # "update"
    contract_type: str = ""  # "update", "cancel": the contract's type
    card: Any = None  # the Confirm/Cancel buttons (derivkit.bot.buttons.Card)


class PendingOrders:
    """Pending orders keyed by nonce, each valid once, for ``ttl`` seconds."""

    def __init__(
        self,
        ttl: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
        *,
        store: Any = None,
        tombstones: Any = None,
        holder: str = "",
    ) -> None:
        self.ttl = ttl
        self._clock = clock
        self._orders: dict[str, PendingOrder] = {}
        self.store = store  # a FleetStore: the orders are shared by a fleet
        #: Where consumed orders leave their tombstones: the fleet's store, or in one process
        #: an OrderTombstones (None: nowhere, nothing survives the process).
        self.tombstones = store if store is not None else tombstones
        self.holder = holder  # this instance's name in a fleet (who claimed an order)

    def __len__(self) -> int:
        return len(self._orders)

    def add(
        self,
        kind: OrderKind,
        *,
        user_id: int,
        chat_id: int,
        summary: str,
        price: float,
        spec: AnySpec | None = None,
        contract_id: int | None = None,
    ) -> PendingOrder:
        nonce = secrets.token_urlsafe(12)
        order = PendingOrder(
            nonce=nonce,
            kind=kind,
            user_id=user_id,
            chat_id=chat_id,
            summary=summary,
            price=price,
            expires_at=self._clock() + self.ttl,
            spec=spec,
            contract_id=contract_id,
        )
        self._orders[nonce] = order
        return order

    def get(self, nonce: str, user_id: int) -> PendingOrder | None:
        """The order if ``user_id`` owns it and it has not expired (it stays pending); else None."""
        order = self._orders.get(nonce)
        if order is None or order.user_id != user_id or self._clock() >= order.expires_at:
            return None
        return order

    def take(self, nonce: str, user_id: int) -> PendingOrder | None:
        """Like :meth:`get`, but the order is removed: it can be taken once only.

        Another user's tap leaves the order for its owner; an expired one is left for
        :meth:`expire` (which marks its message).
        """
        order = self.get(nonce, user_id)
        if order is not None:
            del self._orders[nonce]
        return order

    def cancel_user(self, user_id: int) -> int:
        """Drop every pending order of ``user_id`` (their /stop); returns how many."""
        mine = [nonce for nonce, order in self._orders.items() if order.user_id == user_id]
        for nonce in mine:
            del self._orders[nonce]
        return len(mine)

    def expire(self, nonce: str) -> PendingOrder | None:
        """Remove and return the order if it is still pending (its time ran out)."""
        return self._orders.pop(nonce, None)

    # -- consuming, in one process or in a fleet -----------------------------------------------

    async def claim(self, nonce: str, user_id: int) -> PendingOrder | None:
        """:meth:`take`, and in a fleet consume the stored order too: None unless this call
        is the one that consumed it (whichever instance tried at the same time). The claim
        leaves the order's tombstone (in one process, written here)."""
        order = self.take(nonce, user_id)
        if order is None:
            return None
        if self.store is not None:
            if await self.store.claim_order(nonce, user_id, self.holder) is None:
                return None
        elif self.tombstones is not None:
            await self.tombstones.record_claim(nonce, user_id, _order_json(order), self.holder)
        return order

    async def sending(self, nonce: str) -> None:
        """The claimed order's trade is about to be sent (its tombstone says so)."""
        if self.tombstones is not None:
            await self.tombstones.order_sending(nonce)

    async def finished(self, nonce: str, outcome: str) -> None:
        """What the claimed order's card says in the end (its tombstone keeps it)."""
        if self.tombstones is not None:
            await self.tombstones.order_finished(nonce, outcome)

    async def consumed(self, nonce: str, user_id: int) -> Any:
        """The tombstone of the user's order a Confirm consumed (a
        :class:`~derivkit.storage.tombstones.ConsumedOrder`); None if there is none."""
        if self.tombstones is None:
            return None
        return await self.tombstones.consumed_order(nonce, user_id)

    async def expire_now(self, nonce: str) -> PendingOrder | None:
        """:meth:`expire`, and in a fleet only if the stored order was still there."""
        order = self.expire(nonce)
        if order is None or self.store is None:
            return order
        return order if await self.store.drop_order(nonce) is not None else None

    # -- a fleet's copy ----------------------------------------------------------------------

    def export(self, user_id: int, wall: Callable[[], float] = time.time) -> dict[str, Any]:
        """The user's pending orders as JSON: ``nonce -> (expires_at epoch, order)``."""
        offset = wall() - self._clock()
        return {
            nonce: (order.expires_at + offset, _order_json(order))
            for nonce, order in self._orders.items()
            if order.user_id == user_id
        }

    def load(
        self,
        user_id: int,
        stored: dict[str, Any],
        cards: Callable[[str], Any],
        wall: Callable[[], float] = time.time,
    ) -> None:
        """Replace the user's orders with the stored ones (``cards``: card id -> Card)."""
        for nonce in [n for n, order in self._orders.items() if order.user_id == user_id]:
            del self._orders[nonce]
        offset = self._clock() - wall()
        for nonce, (expires_at, body) in stored.items():
            order = _order_from_json(body, cards)
            order.expires_at = expires_at + offset
            self._orders[nonce] = order


def _order_json(order: PendingOrder) -> dict[str, Any]:
    """Every field as JSON (the spec and the quote by their data, the card by its id)."""
    body: dict[str, Any] = {}
    for item in dataclasses.fields(order):
        value = getattr(order, item.name)
        if item.name == "expires_at":
            continue
        if item.name == "card":
            value = None if value is None else value.id
        elif item.name == "spec" and value is not None:
            value = {"spec": spec_to_json(value)}
        elif isinstance(value, Proposal):
            value = {"proposal": dict(value.raw) or _proposal_fields(value)}
        body[item.name] = value
    return body


def _proposal_fields(proposal: Proposal) -> dict[str, Any]:
    names = ("id", "ask_price", "payout", "spot", "spot_time", "longcode", "date_expiry")
    return {name: getattr(proposal, name) for name in names}


def _order_from_json(body: dict[str, Any], cards: Callable[[str], Any]) -> PendingOrder:
    values: dict[str, Any] = {}
    for name, value in body.items():
        if name == "card":
            value = None if value is None else cards(value)
        elif name == "spec" and isinstance(value, dict):
            value = spec_from_json(value["spec"])
        elif name == "proposal" and isinstance(value, dict):
            value = Proposal.from_dict(value["proposal"])
        values[name] = value
    return PendingOrder(expires_at=0.0, **values)
