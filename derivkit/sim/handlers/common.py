"""What every handler shares: the reply body type and small argument helpers."""

from __future__ import annotations

from typing import Any

from derivkit.sim import account as ledger
from derivkit.sim.errors import ApiError
from derivkit.sim.feed import SymbolFeed
from derivkit.sim.products.base import Context
from derivkit.sim.session import Request, Session
from derivkit.sim.symbols import SYMBOLS, SymbolSpec

Body = dict[str, Any]


def symbol_spec(symbol: Any) -> SymbolSpec:
    """The catalogue entry of ``symbol``; ``InvalidSymbol`` when there is none."""
    spec = SYMBOLS.get(symbol) if isinstance(symbol, str) else None
    if spec is None:
        raise ApiError("InvalidSymbol", f"Symbol {symbol} is invalid.")
    return spec


def wants_stream(r: Request) -> bool:
    return r.args.get("subscribe") == 1


def account_of(s: Session, r: Request | None = None) -> ledger.Account:
    """The account a request acts on: its ``loginid`` (one of the accounts this connection
    authorized, checked by the session) or the first authorized account."""
    assert s.account is not None
    loginid = r.args.get("loginid") if r is not None else None
    if loginid is None:
        return s.account
    return s.accounts[loginid]


def market_context(s: Session, symbol: str) -> Context:
    """What products may know about the market of ``symbol`` now."""
    return feed_context(s.sim.market.feed(symbol), s.sim.clock.now())


def feed_context(feed: SymbolFeed, now: float) -> Context:
    """What products may know about ``feed``'s market at ``now``."""

    def reference_spot() -> float:
        hour = int(now) - int(now) % 3600
        return feed.first_at_or_after(hour)[1]

    return Context(now, reference_spot, feed.recent)
