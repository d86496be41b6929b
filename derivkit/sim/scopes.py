"""Which calls need a login, and which token scopes each one needs: one table, as Deriv's send
schemas declare it (``auth_required``, ``auth_scopes``).

Pure data and one pure function; the session consults them for every request, after the rate
limit and field checks, as Deriv's proxy does (rate limit, input validation, then
``AuthorizationRequired``, then ``PermissionDenied``).

What is verified, and where from:

* Every entry of :data:`CALL_AUTH` is copied from the call's ``config/v3/<call>/send.json`` in
  binary-com/deriv-api-docs (cross-checked against the newer deriv-com/deriv-api-docs copies of
  buy, sell, cancel, contract_update, contract_update_history, portfolio, profit_table and
  proposal_open_contract, which agree); ``account_list`` and ``ticks_batch`` are not in that
  repository and come from binary-com/websockets ``config/v3/<call>/send.json``.
* A token needs ANY ONE of a call's scopes, not all of them: Deriv's own server test
  (``subtest multiscope``) calls ``balance`` (``["read", "trading_information"]``) with a token
  holding only ``trading_information`` and with one holding only ``read``, both succeed; a token
  with ``admin`` and ``trade`` only gets ``PermissionDenied``. That test covers ``balance``; the
  other ``read``/``trading_information`` calls are assumed to behave the same.
* The message for a call with one scope is "Permission denied, requires <scope> scope."
  (Deriv's websocket proxy, ``before_forward``). The message for a call with two scopes is not
  known; "requires read or trading_information scope" is our wording (assumed).
* Whose scopes count: the proxy checks the scopes of the token the connection authorized with.
  That a ``loginid`` picking another authorized account also needs that account's token to hold
  the scope is assumed (the stricter reading).
"""

from __future__ import annotations

from dataclasses import dataclass

from derivkit.sim.errors import ApiError

__all__ = ["CALL_AUTH", "SCOPES", "CallAuth", "missing_scope"]

#: Every scope a Deriv API token can carry.
SCOPES = ("read", "trade", "trading_information", "payments", "admin")


@dataclass(frozen=True, slots=True)
class CallAuth:
    """A call's ``auth_required`` and ``auth_scopes``: a token holding any one of ``scopes``
    may make the call (no scopes: any logged-in connection, or anyone when not required)."""

    required: bool
    scopes: tuple[str, ...] = ()


PUBLIC = CallAuth(False)
READ = CallAuth(True, ("read",))
READ_OR_TRADING_INFO = CallAuth(True, ("read", "trading_information"))
TRADE = CallAuth(True, ("trade",))
ADMIN = CallAuth(True, ("admin",))

#: call name -> what its send schema requires. Every call the simulator answers has an entry
#: (a test fails when a handler is added without one, and the handler table is built from it).
CALL_AUTH: dict[str, CallAuth] = {
    # no login needed
    "authorize": PUBLIC,
    "logout": PUBLIC,
    "ticks": PUBLIC,
    "ticks_history": PUBLIC,
    "ticks_batch": PUBLIC,
    "active_symbols": PUBLIC,
    "contracts_for": PUBLIC,
    "proposal": PUBLIC,
    "trading_times": PUBLIC,
    "trading_durations": PUBLIC,
    "payout_currencies": PUBLIC,
    "website_status": PUBLIC,
    "time": PUBLIC,
    "ping": PUBLIC,
    "forget": PUBLIC,
    "forget_all": PUBLIC,
    # reading the account (its streams included)
    "balance": READ_OR_TRADING_INFO,
    "portfolio": READ_OR_TRADING_INFO,
    "proposal_open_contract": READ_OR_TRADING_INFO,
    "transaction": READ_OR_TRADING_INFO,
    "statement": READ_OR_TRADING_INFO,
    "profit_table": READ_OR_TRADING_INFO,
    "contract_update_history": READ,
    "get_limits": READ,
    "get_account_status": READ,
    "get_self_exclusion": READ,
    "account_list": READ,
    # moving money
    "buy": TRADE,
    "sell": TRADE,
    "cancel": TRADE,
    "contract_update": TRADE,
    "topup_virtual": TRADE,
    # changing the account
    "set_self_exclusion": ADMIN,
}


def missing_scope(call: str, scopes: tuple[str, ...] | list[str]) -> ApiError | None:
    """The ``PermissionDenied`` error when a token with ``scopes`` may not make ``call``, else
    None. A call without an entry is refused (fail closed)."""
    rule = CALL_AUTH.get(call)
    if rule is None:
        return ApiError("PermissionDenied", f"Permission denied: {call} is not allowed.")
    if not rule.scopes or any(scope in scopes for scope in rule.scopes):
        return None
    needed = " or ".join(rule.scopes)
    return ApiError("PermissionDenied", f"Permission denied, requires {needed} scope.")
