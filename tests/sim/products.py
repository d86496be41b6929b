"""Helpers to price, open and drive simulator contracts directly (no sockets), on chosen ticks."""

from __future__ import annotations

from typing import Any

from derivkit.sim.products.base import Context, Contract, Quote
from derivkit.sim.products.registry import product_for
from derivkit.sim.symbols import SYMBOLS

NOW = 1_800_000_000.0


def context(now: float, reference: float) -> Context:
    return Context(now, lambda: reference, lambda n: [])


def parse(contract_type: str, symbol: str, now: float = NOW, spot: float = 1000.0, **params: Any):
    """Validated terms of a contract (raises the simulator's ApiError)."""
    spec = SYMBOLS[symbol]
    full = {"contract_type": contract_type, "symbol": symbol, "currency": "USD", **params}
    return product_for(contract_type).parse(full, spec, context(now, spot))


def open_contract(
    contract_type: str,
    symbol: str,
    spot: float,
    now: float = NOW,
    reference: float | None = None,
    terms: Any = None,
    **params: Any,
) -> tuple[Contract, Quote]:
    """A contract bought at ``now`` with the latest tick ``spot`` (at ``int(now)``)."""
    spec = SYMBOLS[symbol]
    product = product_for(contract_type)
    ctx = context(now, reference if reference is not None else spot)
    if terms is None:
        terms = parse(contract_type, symbol, now, ctx.reference_spot(), **params)
    quote = product.quote(terms, spec, (int(now), spot), ctx)
    return product.open((1, 2), terms, spec, quote, (int(now), spot), now), quote


def feed(contract: Contract, quotes: list[float], first_epoch: int | None = None) -> bool:
    """Feed ticks one interval apart after the purchase; True once the contract has closed."""
    interval = contract.spec.interval
    epoch = first_epoch if first_epoch is not None else int(contract.purchase_time) + interval
    for q in quotes:
        if contract.on_tick(epoch, q):
            return True
        epoch += interval
    return contract.is_sold
