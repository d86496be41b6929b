"""What every handler shares: the reply body type and small argument helpers."""

from __future__ import annotations

from typing import Any

from derivkit.sim import account as ledger
from derivkit.sim.errors import ApiError
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


def account_of(s: Session) -> ledger.Account:
    """The authorized account (dispatch checks authorization before account handlers run)."""
    assert s.account is not None
    return s.account
