"""Request-shape checks: JSON sanity, per-call field types as strict as the official v3 send
schemas, token masking for ``echo_req``.

Every call's schema sets ``additionalProperties: false``: a field the call does not take, a field
of the wrong type, a value outside its enum or pattern, or a missing required field is
``InputValidationFailed`` with ``details`` naming each offending field (nested objects such as
``limit_order`` and ``buy.parameters`` are checked the same way). Account calls take ``loginid``.

Pure functions; the session calls them before any handler runs.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

from derivkit.sim.errors import ApiError, validation_error
from derivkit.sim.products.registry import ALL_CONTRACT_TYPES

_KEY = re.compile(r"^[A-Za-z0-9_-]{1,50}$")
_TOKEN = re.compile(r"^[\w\-]{1,128}$")
_SYMBOL = re.compile(r"^\w{2,30}$")
_CURRENCY = re.compile(r"^[a-zA-Z0-9]{2,20}$")
_BARRIER = re.compile(r"^(?=.{1,20}$)[+-]?[0-9]+\.?[0-9]*$")
_LOGINID = re.compile(r"^[A-Za-z]+[0-9]+$")
_STREAM_ID = re.compile(r"^[\w-]{32,128}$")
_PROPOSAL_ID = re.compile(r"^(?:[\w-]{32,128}|1)$")
_END = re.compile(r"^(latest|[0-9]{1,10})$")
_DATE = re.compile(r"^([0-9]{4}-(0?[1-9]|1[012])-(0?[1-9]|[12][0-9]|3[01])|[0-9]{1,10})$")
_TRADING_DAY = re.compile(r"^([0-9]{4}-[0-9]{1,2}-[0-9]{1,2}|today)$")
_ACCOUNT = re.compile(r"^(current|all|[A-Z]{2,4}[0-9]{1,10})$")
_CANCELLATION = re.compile(r"^\w+$")
MAX_STRING = 300
MAX_EPOCH = 9_999_999_999
SENSITIVE = ("authorize", "tokens", "new_password", "old_password")
ENVELOPE = ("req_id", "passthrough")
LANDING_COMPANIES = (
    "iom",
    "malta",
    "maltainvest",
    "svg",
    "virtual",
    "vanuatu",
    "champion",
    "champion-virtual",
)
FORGET_TYPES = (
    "balance",
    "candles",
    "cashier_payments",
    "p2p_advert",
    "p2p_advertiser",
    "p2p_order",
    "proposal",
    "proposal_open_contract",
    "ticks",
    "transaction",
    "trading_platform_asset_listing",
    "website_status",
    "p2p_settings",
    "crypto_estimations",
)

Check = Callable[[Any], str | None]  # returns an error message or None
Spec = dict[str, tuple[Check, bool]]  # field -> (check, required)


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_num(v: Any) -> bool:
    if isinstance(v, bool) or not isinstance(v, int | float):
        return False
    try:
        return math.isfinite(float(v)) and abs(v) < 1e15
    except OverflowError:
        return False


def one(v: Any) -> str | None:
    return None if _is_int(v) and v == 1 else "Must be 1."


def flag(v: Any) -> str | None:
    return None if _is_int(v) and v in (0, 1) else "Must be 0 or 1."


def integer(v: Any) -> str | None:
    return None if _is_int(v) else "Must be an integer."


def int_range(lo: int, hi: int | None = None) -> Check:
    def check(v: Any) -> str | None:
        if not _is_int(v):
            return "Must be an integer."
        if v < lo or (hi is not None and v > hi):
            return f"Must be between {lo} and {hi}." if hi is not None else f"Must be >= {lo}."
        return None

    return check


def epoch(v: Any) -> str | None:
    return int_range(0, MAX_EPOCH)(v)


def nonneg(v: Any) -> str | None:
    return None if _is_int(v) and v >= 0 else "Must be a non-negative integer."


def number(v: Any) -> str | None:
    return None if _is_num(v) else "Must be a number."


def num_range(lo: float | None = None, hi: float | None = None) -> Check:
    def check(v: Any) -> str | None:
        if not _is_num(v):
            return "Must be a number."
        if lo is not None and v < lo:
            return f"must be greater than or equal to minimum value {lo:g}"
        if hi is not None and v > hi:
            return f"must be less than or equal to maximum value {hi:g}"
        return None

    return check


def nullable_number(v: Any) -> str | None:
    return None if v is None or _is_num(v) else "Please enter a number or a null value."


def string(v: Any) -> str | None:
    return None if isinstance(v, str) and v else "Must be a non-empty string."


def pattern(regex: re.Pattern[str], what: str = "value") -> Check:
    def check(v: Any) -> str | None:
        if not isinstance(v, str):
            return "Must be a string."
        return None if regex.match(v) else f"Invalid {what}."

    return check


def token(v: Any) -> str | None:
    return None if isinstance(v, str) and _TOKEN.match(v) else "Invalid token format."


def list_of(item: Check, max_items: int | None = None) -> Check:
    def check(v: Any) -> str | None:
        if not isinstance(v, list):
            return "Must be a list."
        if max_items is not None and len(v) > max_items:
            return f"At most {max_items} items."
        for x in v:
            msg = item(x)
            if msg:
                return msg
        return None

    return check


def enum(*values: Any) -> Check:
    def check(v: Any) -> str | None:
        ok = any(v == x and type(v) is type(x) for x in values)
        return None if ok else f"Must be one of: {', '.join(str(x) for x in values)}."

    return check


def obj(v: Any) -> str | None:
    return None if isinstance(v, dict) else "Must be an object."


def obj_of(spec: Spec) -> Check:
    """An object with exactly the fields of ``spec`` (additionalProperties: false)."""

    def check(v: Any) -> str | None:
        if not isinstance(v, dict):
            return "Must be an object."
        problems = field_problems(spec, v, ())
        if problems:
            return "; ".join(f"{k}: {m}" for k, m in sorted(problems.items()))
        return None

    return check


symbol = pattern(_SYMBOL, "symbol")
loginid = pattern(_LOGINID, "loginid")
contract_type = enum(*ALL_CONTRACT_TYPES)
barrier = pattern(_BARRIER, "barrier")
LOGIN: Spec = {"loginid": (loginid, False)}
#: The money limits of ``set_self_exclusion`` (each a positive amount in the account currency).
SELF_EXCLUSION_AMOUNTS = (
    "max_balance",
    "max_deposit",
    "max_7day_deposit",
    "max_30day_deposit",
    "max_turnover",
    "max_7day_turnover",
    "max_30day_turnover",
    "max_losses",
    "max_7day_losses",
    "max_30day_losses",
)


def symbols(v: Any) -> str | None:
    return symbol(v) if isinstance(v, str) else list_of(symbol)(v)


def forget_types(v: Any) -> str | None:
    kinds = enum(*FORGET_TYPES)
    return kinds(v) if isinstance(v, str) else list_of(kinds)(v)


def _contract_fields(for_buy: bool) -> Spec:
    spec: Spec = {
        "amount": (num_range(0), False),
        "barrier": (barrier, False),
        "barrier2": (barrier, False),
        "barrier_range": (enum("tight", "middle", "wide"), False),
        "basis": (enum("payout", "stake"), False),
        "cancellation": (pattern(_CANCELLATION, "cancellation"), False),
        "contract_type": (contract_type, True),
        "currency": (pattern(_CURRENCY, "currency"), True),
        "date_expiry": (int_range(1 if for_buy else 0, MAX_EPOCH), False),
        "date_start": (epoch, False),
        "duration": (int_range(0, 99_999_999), False),
        "duration_unit": (enum("d", "m", "s", "h", "t"), False),
        "growth_rate": (number, False),
        "limit_order": (
            obj_of({"stop_loss": (number, False), "take_profit": (number, False)}),
            False,
        ),
        "multiplier": (num_range(0), False),
        "payout_per_point": (number, False),
        "product_type": (enum("basic"), False),
        "selected_tick": (integer, False),
        "symbol": (symbol, True),
        "trade_risk_profile": (enum("low", "medium", "high"), False),
        "trading_period_start": (int_range(1, MAX_EPOCH), False),
    }
    if for_buy:
        spec["app_markup_percentage"] = (number, False)
    return spec


#: The fields of a contract: ``proposal`` and ``buy.parameters``.
CONTRACT_FIELDS: Spec = _contract_fields(for_buy=False)
BUY_PARAMETERS: Spec = _contract_fields(for_buy=True)

#: Per-call field checks, after the official v3 send schemas. Fields not listed are refused.
SPECS: dict[str, Spec] = {
    "authorize": {
        "authorize": (token, True),
        "add_to_login_history": (flag, False),
        "tokens": (list_of(token, max_items=25), False),
    },
    "logout": {"logout": (one, True)},
    "balance": {
        "balance": (one, True),
        "account": (pattern(_ACCOUNT, "account"), False),
        "subscribe": (flag, False),
        **LOGIN,
    },
    "ticks": {"ticks": (symbols, True), "subscribe": (enum(1), False)},
    "ticks_batch": {
        "ticks_batch": (one, True),
        "market": (
            enum("forex", "indices", "commodities", "stocks", "cryptocurrency", "synthetic_index"),
            True,
        ),
        "subscribe": (enum(1), False),
    },
    "ticks_history": {
        "ticks_history": (symbol, True),
        "end": (pattern(_END, "end"), True),
        "start": (epoch, False),
        "count": (integer, False),
        "style": (enum("candles", "ticks"), False),
        "granularity": (
            enum(60, 120, 180, 300, 600, 900, 1800, 3600, 7200, 14400, 28800, 86400),
            False,
        ),
        "adjust_start_time": (enum(1), False),
        "subscribe": (enum(1), False),
    },
    "active_symbols": {
        "active_symbols": (enum("brief", "full"), True),
        "landing_company": (enum(*LANDING_COMPANIES), False),
        "landing_company_short": (enum(*LANDING_COMPANIES), False),
        "product_type": (enum("basic"), False),
        "contract_type": (list_of(contract_type), False),
        "barrier_category": (list_of(string), False),
        **LOGIN,
    },
    "contracts_for": {
        "contracts_for": (symbol, True),
        "currency": (pattern(_CURRENCY, "currency"), False),
        "landing_company": (enum(*LANDING_COMPANIES), False),
        "landing_company_short": (enum(*LANDING_COMPANIES), False),
        "product_type": (enum("basic"), False),
        **LOGIN,
    },
    "trading_times": {"trading_times": (pattern(_TRADING_DAY, "date"), True)},
    "trading_durations": {
        "trading_durations": (one, True),
        "landing_company": (enum(*LANDING_COMPANIES), False),
        "landing_company_short": (enum(*LANDING_COMPANIES), False),
        **LOGIN,
    },
    "payout_currencies": {"payout_currencies": (one, True), **LOGIN},
    "proposal": {
        "proposal": (one, True),
        "subscribe": (enum(1), False),
        **CONTRACT_FIELDS,
        **LOGIN,
    },
    "buy": {
        "buy": (pattern(_PROPOSAL_ID, "proposal id"), True),
        "price": (num_range(0), True),
        "parameters": (obj, False),
        "subscribe": (enum(1), False),
        **LOGIN,
    },
    "sell": {"sell": (integer, True), "price": (num_range(0), True), **LOGIN},
    "cancel": {"cancel": (integer, True), **LOGIN},
    "contract_update": {
        "contract_update": (one, True),
        "contract_id": (integer, True),
        "limit_order": (
            obj_of(
                {"stop_loss": (nullable_number, False), "take_profit": (nullable_number, False)}
            ),
            True,
        ),
        **LOGIN,
    },
    "contract_update_history": {
        "contract_update_history": (one, True),
        "contract_id": (integer, True),
        "limit": (num_range(1, 999), False),
        **LOGIN,
    },
    "portfolio": {
        "portfolio": (one, True),
        "contract_type": (list_of(contract_type), False),
        **LOGIN,
    },
    "proposal_open_contract": {
        "proposal_open_contract": (one, True),
        "contract_id": (integer, False),
        "subscribe": (enum(1), False),
        **LOGIN,
    },
    "transaction": {"transaction": (one, True), "subscribe": (enum(1), True), **LOGIN},
    "statement": {
        "statement": (one, True),
        "limit": (num_range(0, 999), False),
        "offset": (nonneg, False),
        "date_from": (epoch, False),
        "date_to": (epoch, False),
        "action_type": (
            enum(
                "buy",
                "sell",
                "deposit",
                "withdrawal",
                "escrow",
                "adjustment",
                "virtual_credit",
                "transfer",
            ),
            False,
        ),
        "description": (flag, False),
        **LOGIN,
    },
    "profit_table": {
        "profit_table": (one, True),
        "limit": (num_range(0, 500), False),
        "offset": (nonneg, False),
        "date_from": (pattern(_DATE, "date"), False),
        "date_to": (pattern(_DATE, "date"), False),
        "sort": (enum("ASC", "DESC"), False),
        "contract_type": (list_of(contract_type), False),
        "description": (flag, False),
        **LOGIN,
    },
    "get_limits": {"get_limits": (one, True), **LOGIN},
    "get_account_status": {"get_account_status": (one, True), **LOGIN},
    "account_list": {"account_list": (one, True), **LOGIN},
    "website_status": {"website_status": (one, True), "subscribe": (flag, False)},
    "time": {"time": (one, True)},
    "ping": {"ping": (one, True)},
    "forget": {"forget": (pattern(_STREAM_ID, "subscription id"), True)},
    "forget_all": {"forget_all": (forget_types, True)},
    "topup_virtual": {"topup_virtual": (one, True), **LOGIN},
    "get_self_exclusion": {"get_self_exclusion": (one, True), **LOGIN},
    "set_self_exclusion": {
        "set_self_exclusion": (one, True),
        **{name: (num_range(0), False) for name in SELF_EXCLUSION_AMOUNTS},
        "max_open_bets": (int_range(0), False),
        "session_duration_limit": (int_range(0, 60_480), False),
        "exclude_until": (pattern(_DATE, "date"), False),
        "timeout_until": (int_range(0, MAX_EPOCH), False),
        **LOGIN,
    },
}


def field_problems(spec: Spec, req: dict[str, Any], allowed: tuple[str, ...]) -> dict[str, str]:
    """``{field: message}`` for unknown, missing or mistyped fields of ``req``."""
    details: dict[str, str] = {}
    for key in req:
        if key not in spec and key not in allowed:
            details[str(key)] = "Properties not allowed."
    for name, (check, required) in spec.items():
        if name not in req:
            if required:
                details[name] = "This field is required."
            continue
        msg = check(req[name])
        if msg:
            details[name] = msg
    return details


def check_fields(spec: Spec, req: dict[str, Any], allowed: tuple[str, ...] = ENVELOPE) -> None:
    """Raise ``InputValidationFailed`` naming every unknown, missing or mistyped field."""
    details = field_problems(spec, req, allowed)
    if details:
        raise validation_error(details)


def sanity_check(req: dict[str, Any]) -> None:
    """``SanityCheckFailed`` for bad key names or over-long strings (outside passthrough)."""
    stack: list[Any] = [v for k, v in req.items() if k != "passthrough"]
    bad = any(not isinstance(k, str) or not _KEY.match(k) for k in req)
    seen = 0
    while stack and not bad:
        v = stack.pop()
        seen += 1
        if seen > 10_000:
            bad = True
        elif isinstance(v, str):
            bad = len(v) > MAX_STRING
        elif isinstance(v, dict):
            bad = any(not _KEY.match(k) for k in v)
            stack.extend(v.values())
        elif isinstance(v, list):
            stack.extend(v)
    if bad:
        raise ApiError("SanityCheckFailed")


def mask(req: dict[str, Any]) -> dict[str, Any]:
    """A shallow copy of the request with sensitive fields replaced by ``"<not shown>"``."""
    out = dict(req)
    for key in SENSITIVE:
        if key in out:
            out[key] = "<not shown>"
    params = out.get("parameters")
    if isinstance(params, dict) and any(k in params for k in SENSITIVE):
        out["parameters"] = mask(params)
    return out
