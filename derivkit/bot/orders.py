"""Server-side pending orders: what a Confirm button stands for.

A Confirm/Cancel button carries only an opaque single-use nonce; the order itself (who may
confirm it, what it buys or sells, at what price) stays here. :meth:`PendingOrders.take` removes
the order before anything is sent to Deriv, so a double tap, a forged nonce, another user's tap or
a tap after expiry can never trade. Not thread-safe; use from the event loop only.
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

    def __init__(self, ttl: float = 30.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self._clock = clock
        self._orders: dict[str, PendingOrder] = {}

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
