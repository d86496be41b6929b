"""Request-shape checks: JSON sanity, per-call field types, token masking for ``echo_req``.

Pure functions; the session calls them before any handler runs.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

from derivkit.sim.errors import ApiError, validation_error
from derivkit.sim.pricing import CATEGORY

_KEY = re.compile(r"^[A-Za-z0-9_-]{1,50}$")
_TOKEN = re.compile(r"^[\w\-]{1,128}$")
MAX_STRING = 300
SENSITIVE = ("authorize", "tokens", "new_password", "old_password")

Check = Callable[[Any], str | None]  # returns an error message or None


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


def nonneg(v: Any) -> str | None:
    return None if _is_int(v) and v >= 0 else "Must be a non-negative integer."


def number(v: Any) -> str | None:
    return None if _is_num(v) else "Must be a number."


def string(v: Any) -> str | None:
    return None if isinstance(v, str) and v else "Must be a non-empty string."


def token(v: Any) -> str | None:
    return None if isinstance(v, str) and _TOKEN.match(v) else "Invalid token format."


def int_or_digits(v: Any) -> str | None:
    if _is_int(v) or (isinstance(v, str) and v.isdigit() and len(v) <= 12):
        return None
    return "Must be an integer."


def str_or_num(v: Any) -> str | None:
    return None if (isinstance(v, str) and v) or _is_num(v) else "Must be a string."


def string_list(v: Any) -> str | None:
    if isinstance(v, list) and v and all(isinstance(x, str) and x for x in v):
        return None
    return "Must be a non-empty list of strings."


def str_or_list(v: Any) -> str | None:
    return string(v) if isinstance(v, str) else string_list(v)


def obj(v: Any) -> str | None:
    return None if isinstance(v, dict) else "Must be an object."


def enum(*values: Any) -> Check:
    def check(v: Any) -> str | None:
        ok = any(v == x and type(v) is type(x) for x in values)
        return None if ok else f"Must be one of: {', '.join(str(x) for x in values)}."

    return check


def end_value(v: Any) -> str | None:
    return None if v == "latest" else int_or_digits(v)


def date_value(v: Any) -> str | None:
    if int_or_digits(v) is None:
        return None
    if isinstance(v, str) and re.match(r"^\d{4}-\d{2}-\d{2}$", v):
        return None
    return "Must be an epoch or YYYY-MM-DD."


CONTRACT_FIELDS: dict[str, tuple[Check, bool]] = {
    "contract_type": (enum(*CATEGORY), True),
    "currency": (string, False),
    "symbol": (string, True),
    "amount": (number, False),
    "basis": (enum("stake", "payout"), False),
    "duration": (integer, False),
    "duration_unit": (enum("t", "s", "m", "h", "d"), False),
    "date_expiry": (integer, False),
    "barrier": (str_or_num, False),
    "product_type": (string, False),
}

#: Per-call field checks: ``{field: (check, required)}``. Unknown fields are ignored.
SPECS: dict[str, dict[str, tuple[Check, bool]]] = {
    "authorize": {
        "authorize": (token, True),
        "add_to_login_history": (flag, False),
        "tokens": (string_list, False),
    },
    "logout": {"logout": (one, True)},
    "balance": {
        "balance": (one, True),
        "subscribe": (flag, False),
        "account": (string, False),
    },
    "ticks": {"ticks": (str_or_list, True), "subscribe": (flag, False)},
    "ticks_history": {
        "ticks_history": (string, True),
        "end": (end_value, True),
        "start": (int_or_digits, False),
        "count": (int_or_digits, False),
        "style": (enum("ticks", "candles"), False),
        "granularity": (
            enum(60, 120, 180, 300, 600, 900, 1800, 3600, 7200, 14400, 28800, 86400),
            False,
        ),
        "adjust_start_time": (flag, False),
        "subscribe": (flag, False),
    },
    "active_symbols": {
        "active_symbols": (enum("brief", "full"), True),
        "product_type": (string, False),
        "landing_company": (string, False),
        "landing_company_short": (string, False),
    },
    "contracts_for": {
        "contracts_for": (string, True),
        "currency": (string, False),
        "landing_company": (string, False),
        "landing_company_short": (string, False),
        "product_type": (string, False),
    },
    "proposal": {"proposal": (one, True), "subscribe": (flag, False), **CONTRACT_FIELDS},
    "buy": {
        "buy": (string, True),
        "price": (number, True),
        "parameters": (obj, False),
        "subscribe": (flag, False),
    },
    "sell": {"sell": (integer, True), "price": (number, True)},
    "portfolio": {"portfolio": (one, True), "contract_type": (string_list, False)},
    "proposal_open_contract": {
        "proposal_open_contract": (one, True),
        "contract_id": (integer, False),
        "subscribe": (flag, False),
    },
    "transaction": {"transaction": (one, True), "subscribe": (enum(1), True)},
    "statement": {
        "statement": (one, True),
        "limit": (number, False),
        "offset": (nonneg, False),
        "date_from": (integer, False),
        "date_to": (integer, False),
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
    },
    "profit_table": {
        "profit_table": (one, True),
        "limit": (number, False),
        "offset": (nonneg, False),
        "date_from": (date_value, False),
        "date_to": (date_value, False),
        "sort": (enum("ASC", "DESC"), False),
        "contract_type": (string_list, False),
        "description": (flag, False),
    },
    "website_status": {"website_status": (one, True), "subscribe": (flag, False)},
    "time": {"time": (one, True)},
    "ping": {"ping": (one, True)},
    "forget": {"forget": (string, True)},
    "forget_all": {"forget_all": (str_or_list, True)},
    "topup_virtual": {"topup_virtual": (one, True)},
}


def check_fields(spec: dict[str, tuple[Check, bool]], req: dict[str, Any]) -> None:
    """Raise ``InputValidationFailed`` with per-field ``details`` for missing or mistyped fields."""
    details: dict[str, str] = {}
    for field, (check, required) in spec.items():
        if field not in req:
            if required:
                details[field] = "This field is required."
            continue
        msg = check(req[field])
        if msg:
            details[field] = msg
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
