"""Authorization, balance and the account views: statement, profit table, portfolio."""

from __future__ import annotations

import datetime as dt
from typing import Any

from derivkit.sim import account as ledger
from derivkit.sim.errors import ApiError, validation_error
from derivkit.sim.handlers.common import Body, account_of, wants_stream
from derivkit.sim.session import Request, Session

#: Every account of the simulator belongs to this one user.
USER_ID = 1000


def authorize(s: Session, r: Request) -> Body:
    """Log in with one token, plus the extra ``tokens``; every account of the simulator belongs
    to one user, so ``account_list`` lists them all and ``loginid`` may pick any authorized one."""
    acc = s.sim.accounts.get(r.args["authorize"])
    if acc is None:
        raise ApiError("InvalidToken")
    extra = []
    for tok in r.args.get("tokens", []):
        other = s.sim.accounts.get(tok)
        if other is None:
            raise ApiError("InvalidToken", "The token is invalid.", {"field": "tokens"})
        extra.append(other)
    if s.account is not None and s.account is not acc:
        s.close_account_streams()
    s.account = acc
    s.accounts = {a.loginid: a for a in [acc, *extra]}
    return {
        "msg_type": "authorize",
        "authorize": {
            "account_list": [a.list_item() for a in s.sim.accounts.values()],
            "balance": acc.balance,
            "country": "id",
            "currency": acc.currency,
            "email": "client@derivkit.sim",
            "fullname": "" if acc.is_virtual else "Sim Client",
            "is_virtual": int(acc.is_virtual),
            "landing_company_fullname": "Deriv Limited" if acc.is_virtual else "Deriv (SVG) LLC",
            "landing_company_name": acc.landing_company,
            "local_currencies": {acc.currency: {"fractional_digits": 2}},
            "loginid": acc.loginid,
            "preferred_language": "EN",
            "scopes": ["read", "trade", "trading_information", "payments", "admin"],
            "upgradeable_landing_companies": [],
            "user_id": USER_ID,
        },
    }


def logout(s: Session, r: Request) -> Body:
    s.close_account_streams()
    s.account = None
    s.accounts = {}
    return {"msg_type": "logout", "logout": 1}


def _balance_payload(acc: ledger.Account) -> dict[str, Any]:
    return {"balance": acc.balance, "currency": acc.currency, "loginid": acc.loginid}


def _all_balances(s: Session, current: ledger.Account) -> dict[str, Any]:
    accounts = list(s.sim.accounts.values())
    real = round(sum(a.balance for a in accounts if not a.is_virtual), 2)
    demo = round(sum(a.balance for a in accounts if a.is_virtual), 2)
    cur = current.currency

    def total(amount: float) -> dict[str, Any]:
        return {"amount": amount, "currency": cur}

    return {
        **_balance_payload(current),
        "accounts": {
            a.loginid: {
                "balance": a.balance,
                "converted_amount": a.balance,
                "currency": a.currency,
                "demo_account": int(a.is_virtual),
                "status": 1,
                "type": "deriv",
            }
            for a in accounts
        },
        "total": {
            "deriv": total(real),
            "deriv_demo": total(demo),
            "mt5": total(0.0),
            "mt5_demo": total(0.0),
        },
    }


def balance(s: Session, r: Request) -> Body:
    """``account``: ``current`` (default), ``all`` (every account of the user, with totals; a
    stream then sends each account's balance as it changes) or one authorized loginid."""
    which = r.args.get("account", "current")
    acc = account_of(s, r)
    if which not in ("current", "all"):
        if which not in s.accounts:
            raise ApiError("PermissionDenied", "Permission denied.")
        acc = s.accounts[which]
    if which == "all":
        payload = _all_balances(s, acc)
        watched = list(s.sim.accounts.values())
    else:
        payload = _balance_payload(acc)
        watched = [acc]
    if not wants_stream(r):
        return {"msg_type": "balance", "balance": payload}
    stream = s.open_stream("balance", ("balance", which, acc.loginid), "balance", r)
    for watched_acc in watched:

        def on_event(kind: str, obj: Any, who: ledger.Account = watched_acc) -> None:
            if kind == "transaction":
                update = _balance_payload(who)
                if which == "all":
                    update["total"] = _all_balances(s, who)["total"]
                stream.emit(update)

        stream.on_close(watched_acc.subscribe(on_event))
    payload["id"] = stream.id
    return {"msg_type": "balance", "balance": payload, "subscription": {"id": stream.id}}


def get_self_exclusion(s: Session, r: Request) -> Body:
    """The limits the account holder set (only those set)."""
    return {
        "msg_type": "get_self_exclusion",
        "get_self_exclusion": account_of(s, r).self_exclusion.view(),
    }


def set_self_exclusion(s: Session, r: Request) -> Body:
    """Set limits the server enforces on every buy; real-money accounts only, and a limit may
    only be lowered."""
    acc = account_of(s, r)
    if acc.is_virtual:
        raise ApiError("PermissionDenied", "Self-exclusion is not available for virtual accounts.")
    acc.self_exclusion.update(r.args)
    return {"msg_type": "set_self_exclusion", "set_self_exclusion": 1}


def topup_virtual(s: Session, r: Request) -> Body:
    acc = account_of(s, r)
    txn = s.sim.broker.topup(acc)
    return {
        "msg_type": "topup_virtual",
        "topup_virtual": {"amount": txn.amount, "currency": acc.currency},
    }


def transaction(s: Session, r: Request) -> Body:
    acc = account_of(s, r)
    stream = s.open_stream("transaction", ("transaction", acc.loginid), "transaction", r)

    def on_event(kind: str, obj: Any) -> None:
        if kind == "transaction":
            stream.emit(obj.stream_payload(acc.currency))

    stream.on_close(acc.subscribe(on_event))
    return {
        "msg_type": "transaction",
        "transaction": {"id": stream.id},
        "subscription": {"id": stream.id},
    }


def statement(s: Session, r: Request) -> Body:
    a = r.args
    limit = a.get("limit", 100)
    return {
        "msg_type": "statement",
        "statement": ledger.statement(
            account_of(s, r),
            limit=int(limit),
            offset=a.get("offset", 0),
            action_type=a.get("action_type"),
            date_from=a.get("date_from"),
            date_to=a.get("date_to"),
            description=a.get("description") == 1,
        ),
    }


def _epoch_arg(v: Any, name: str) -> int | None:
    """A ``profit_table`` date (a string: an epoch or ``YYYY-MM-DD``) as an epoch."""
    if v is None:
        return None
    if "-" in v:
        try:
            d = dt.datetime.strptime(v, "%Y-%m-%d").replace(tzinfo=dt.UTC)
        except ValueError:
            raise validation_error({name: "Invalid date."}) from None
        return int(d.timestamp())
    return int(v)


def profit_table(s: Session, r: Request) -> Body:
    a = r.args
    limit = a.get("limit", 50)
    return {
        "msg_type": "profit_table",
        "profit_table": ledger.profit_table(
            account_of(s, r),
            limit=int(limit),
            offset=a.get("offset", 0),
            date_from=_epoch_arg(a.get("date_from"), "date_from"),
            date_to=_epoch_arg(a.get("date_to"), "date_to"),
            sort=a.get("sort", "DESC"),
            contract_types=a.get("contract_type"),
            description=a.get("description") == 1,
        ),
    }


def portfolio(s: Session, r: Request) -> Body:
    acc = account_of(s, r)
    for c in acc.open_contracts():
        s.sim.market.feed(c.spec.symbol)  # settle anything due before reporting
    return {
        "msg_type": "portfolio",
        "portfolio": ledger.portfolio(acc, r.args.get("contract_type")),
    }


def account_list(s: Session, r: Request) -> Body:
    return {
        "msg_type": "account_list",
        "account_list": [a.list_item() for a in s.sim.accounts.values()],
    }


def payout_currencies(s: Session, r: Request) -> Body:
    currency = s.account.currency if s.account is not None else s.sim.currency
    return {"msg_type": "payout_currencies", "payout_currencies": [currency]}


def get_limits(s: Session, r: Request) -> Body:
    """Trading limits of the account (Deriv's default virtual-account profile)."""
    return {
        "msg_type": "get_limits",
        "get_limits": {
            "account_balance": 200_000.0 if account_of(s, r).is_virtual else None,
            "daily_transfers": {},
            "daily_turnover": 50_000.0,
            "lifetime_limit": 99_999_999.0,
            "market_specific": {
                "synthetic_index": [
                    {
                        "level": "market",
                        "name": "Derived",
                        "payout_limit": 50_000.0,
                        "profile_name": "low_risk",
                        "turnover_limit": 50_000.0,
                    }
                ]
            },
            "num_of_days": 30,
            "num_of_days_limit": 99_999_999.0,
            "open_positions": 100,
            "payout": 50_000.0,
            "payout_per_symbol": None,
            "payout_per_symbol_and_contract_type": 50_000.0,
            "remainder": 99_999_999.0,
            "withdrawal_for_x_days_monetary": 0.0,
            "withdrawal_since_inception_monetary": 0.0,
        },
    }


def get_account_status(s: Session, r: Request) -> Body:
    acc = account_of(s, r)
    return {
        "msg_type": "get_account_status",
        "get_account_status": {
            "authentication": {
                "document": {"status": "none"},
                "identity": {"status": "none"},
                "needs_verification": [],
            },
            "currency_config": {
                acc.currency: {"is_deposit_suspended": 0, "is_withdrawal_suspended": 0}
            },
            "p2p_status": "none",
            "prompt_client_to_authenticate": 0,
            "risk_classification": "low",
            "status": ["financial_information_not_complete", "trading_experience_not_complete"],
        },
    }
