"""One synchronous function per API call: ``handler(session, request) -> reply body | [bodies]``.

A reply body holds ``msg_type``, the payload and optional ``subscription``/``pip_size``; the
session adds ``echo_req``, ``req_id`` and ``passthrough``. Handlers raise :class:`ApiError` for
error replies and never await, so each request sees a consistent state. Streams they open are
closed by ``forget``, ``forget_all``, logout/re-authorize (account streams), stream end (sold
contracts) or disconnect. One module per group of calls.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from derivkit.sim.handlers.account import (
    account_list,
    authorize,
    balance,
    get_account_status,
    get_limits,
    get_self_exclusion,
    logout,
    payout_currencies,
    portfolio,
    profit_table,
    set_self_exclusion,
    statement,
    topup_virtual,
    transaction,
)
from derivkit.sim.handlers.market import (
    active_symbols,
    contracts_for,
    ticks,
    ticks_batch,
    ticks_history,
    trading_durations,
    trading_times,
)
from derivkit.sim.handlers.system import forget, forget_all, ping, time_, website_status
from derivkit.sim.handlers.trading import (
    buy,
    cancel,
    contract_update,
    contract_update_history,
    proposal,
    proposal_open_contract,
    sell,
)
from derivkit.sim.session import Request, Session

__all__ = ["HANDLERS"]

#: call name -> (handler, requires authorize)
HANDLERS: dict[str, tuple[Callable[[Session, Request], Any], bool]] = {
    "authorize": (authorize, False),
    "logout": (logout, False),
    "balance": (balance, True),
    "ticks": (ticks, False),
    "ticks_history": (ticks_history, False),
    "active_symbols": (active_symbols, False),
    "contracts_for": (contracts_for, False),
    "proposal": (proposal, False),
    "buy": (buy, True),
    "sell": (sell, True),
    "portfolio": (portfolio, True),
    "proposal_open_contract": (proposal_open_contract, True),
    "transaction": (transaction, True),
    "statement": (statement, True),
    "profit_table": (profit_table, True),
    "website_status": (website_status, False),
    "time": (time_, False),
    "ping": (ping, False),
    "forget": (forget, False),
    "forget_all": (forget_all, False),
    "topup_virtual": (topup_virtual, True),
    "cancel": (cancel, True),
    "contract_update": (contract_update, True),
    "contract_update_history": (contract_update_history, True),
    "trading_times": (trading_times, False),
    "trading_durations": (trading_durations, False),
    "payout_currencies": (payout_currencies, False),
    "get_limits": (get_limits, True),
    "get_account_status": (get_account_status, True),
    "account_list": (account_list, True),
    "ticks_batch": (ticks_batch, False),
    "get_self_exclusion": (get_self_exclusion, True),
    "set_self_exclusion": (set_self_exclusion, True),
}
