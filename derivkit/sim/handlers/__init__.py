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
from derivkit.sim.scopes import CALL_AUTH
from derivkit.sim.session import Request, Session

__all__ = ["HANDLERS"]

#: call name -> handler; whether it needs a login (and which scopes) is
#: :data:`derivkit.sim.scopes.CALL_AUTH`'s, one entry per call.
_HANDLERS: dict[str, Callable[[Session, Request], Any]] = {
    "authorize": authorize,
    "logout": logout,
    "balance": balance,
    "ticks": ticks,
    "ticks_history": ticks_history,
    "active_symbols": active_symbols,
    "contracts_for": contracts_for,
    "proposal": proposal,
    "buy": buy,
    "sell": sell,
    "portfolio": portfolio,
    "proposal_open_contract": proposal_open_contract,
    "transaction": transaction,
    "statement": statement,
    "profit_table": profit_table,
    "website_status": website_status,
    "time": time_,
    "ping": ping,
    "forget": forget,
    "forget_all": forget_all,
    "topup_virtual": topup_virtual,
    "cancel": cancel,
    "contract_update": contract_update,
    "contract_update_history": contract_update_history,
    "trading_times": trading_times,
    "trading_durations": trading_durations,
    "payout_currencies": payout_currencies,
    "get_limits": get_limits,
    "get_account_status": get_account_status,
    "account_list": account_list,
    "ticks_batch": ticks_batch,
    "get_self_exclusion": get_self_exclusion,
    "set_self_exclusion": set_self_exclusion,
}

#: call name -> (handler, requires authorize), the session's dispatch table.
HANDLERS: dict[str, tuple[Callable[[Session, Request], Any], bool]] = {
    call: (handler, CALL_AUTH[call].required) for call, handler in _HANDLERS.items()
}
