"""What derivkit knows about each API call: its name in a payload and how it may be retried.

Three classes matter to the connection core:

* read-only calls may be re-sent once after a reconnect and retried on ``RateLimit``;
* money-moving calls are never re-sent: a lost reply raises ``OutcomeUnknown``;
* account streams (balance, transactions, open contracts) never drop a message for a slow reader.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = [
    "ACCOUNT_STREAMS",
    "KNOWN_CALLS",
    "MONEY_MOVING_CALLS",
    "READ_ONLY_CALLS",
    "call_name",
    "is_money_moving",
    "is_read_only",
]

READ_ONLY_CALLS = frozenset(
    {
        "account_list",
        "active_symbols",
        "asset_index",
        "balance",
        "contract_update_history",
        "contracts_for",
        "exchange_rates",
        "get_account_status",
        "get_limits",
        "get_self_exclusion",
        "get_settings",
        "landing_company",
        "landing_company_details",
        "payout_currencies",
        "ping",
        "portfolio",
        "profit_table",
        "proposal",
        "proposal_open_contract",
        "residence_list",
        "statement",
        "ticks",
        "ticks_batch",
        "ticks_history",
        "time",
        "trading_durations",
        "trading_times",
        "transaction",
        "website_status",
    }
)

MONEY_MOVING_CALLS = frozenset(
    {
        "buy",
        "buy_contract_for_multiple_accounts",
        "cancel",
        "cashier",
        "contract_update",
        "mt5_deposit",
        "mt5_withdrawal",
        "p2p_order_create",
        "paymentagent_transfer",
        "paymentagent_withdraw",
        "sell",
        "sell_contract_for_multiple_accounts",
        "sell_expired",
        "topup_virtual",
        "trading_platform_deposit",
        "trading_platform_withdrawal",
        "transfer_between_accounts",
    }
)

ACCOUNT_STREAMS = frozenset({"balance", "transaction", "proposal_open_contract", "buy"})

_OTHER_CALLS = frozenset(
    {"authorize", "logout", "forget", "forget_all", "set_settings", "api_token", "app_register"}
)
#: Every call name derivkit knows (a payload's first key is its name when it is one of these).
KNOWN_CALLS = READ_ONLY_CALLS | MONEY_MOVING_CALLS | _OTHER_CALLS
_KNOWN_CALLS = KNOWN_CALLS


def call_name(payload: Mapping[str, Any]) -> str:
    """The API call a request payload makes: its known call key, else its first key."""
    for key in payload:
        if key in _KNOWN_CALLS:
            return key
    for key in payload:
        return key
    return ""


def is_read_only(name: str) -> bool:
    return name in READ_ONLY_CALLS


def is_money_moving(name: str) -> bool:
    return name in MONEY_MOVING_CALLS
