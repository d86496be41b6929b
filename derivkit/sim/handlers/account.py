"""Authorization, balance and the account views: statement, profit table, portfolio."""

from __future__ import annotations

import datetime as dt
from typing import Any

from derivkit.sim import account as ledger
from derivkit.sim.errors import ApiError, validation_error
from derivkit.sim.handlers.common import Body, account_of, wants_stream
from derivkit.sim.session import Request, Session


def authorize(s: Session, r: Request) -> Body:
    acc = s.sim.accounts.get(r.args["authorize"])
    if acc is None:
        raise ApiError("InvalidToken")
    if s.account is not None and s.account is not acc:
        s.close_account_streams()
    s.account = acc
    return {
        "msg_type": "authorize",
        "authorize": {
            **acc.info(),
            "balance": acc.balance,
            "email": f"{acc.loginid.lower()}@derivkit.sim",
            "fullname": f"Sim {acc.loginid}",
            "country": "id",
            "preferred_language": "EN",
            "scopes": list(acc.scopes),
            "user_id": 1000 + list(s.sim.accounts).index(acc.token),
            "local_currencies": {acc.currency: {"fractional_digits": 2}},
            "account_list": [acc.info()],
            "upgradeable_landing_companies": [],
        },
    }


def logout(s: Session, r: Request) -> Body:
    s.close_account_streams()
    s.account = None
    return {"msg_type": "logout", "logout": 1}


def _balance_payload(acc: ledger.Account) -> dict[str, Any]:
    return {"balance": acc.balance, "currency": acc.currency, "loginid": acc.loginid}


def balance(s: Session, r: Request) -> Body:
    acc = account_of(s)
    payload = _balance_payload(acc)
    if not wants_stream(r):
        return {"msg_type": "balance", "balance": payload}
    stream = s.open_stream("balance", ("balance",), "balance", r)

    def on_event(kind: str, obj: Any) -> None:
        if kind == "transaction":
            stream.emit(_balance_payload(acc))

    stream.on_close(acc.subscribe(on_event))
    payload["id"] = stream.id
    return {"msg_type": "balance", "balance": payload, "subscription": {"id": stream.id}}


def topup_virtual(s: Session, r: Request) -> Body:
    acc = account_of(s)
    txn = s.sim.broker.topup(acc)
    return {
        "msg_type": "topup_virtual",
        "topup_virtual": {"amount": txn.amount, "currency": acc.currency},
    }


def transaction(s: Session, r: Request) -> Body:
    acc = account_of(s)
    stream = s.open_stream("transaction", ("transaction",), "transaction", r)

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
    if not 1 <= limit <= 999:
        raise validation_error({"limit": "Must be between 1 and 999."})
    return {
        "msg_type": "statement",
        "statement": ledger.statement(
            account_of(s),
            limit=int(limit),
            offset=a.get("offset", 0),
            action_type=a.get("action_type"),
            date_from=a.get("date_from"),
            date_to=a.get("date_to"),
            description=a.get("description") == 1,
        ),
    }


def _epoch_arg(v: Any) -> int | None:
    if v is None:
        return None
    if isinstance(v, str) and "-" in v:
        try:
            d = dt.datetime.strptime(v, "%Y-%m-%d").replace(tzinfo=dt.UTC)
        except ValueError:
            raise validation_error({"date": "Invalid date."}) from None
        return int(d.timestamp())
    return int(v)


def profit_table(s: Session, r: Request) -> Body:
    a = r.args
    limit = a.get("limit", 50)
    if not 1 <= limit <= 500:
        raise validation_error({"limit": "Must be between 1 and 500."})
    return {
        "msg_type": "profit_table",
        "profit_table": ledger.profit_table(
            account_of(s),
            limit=int(limit),
            offset=a.get("offset", 0),
            date_from=_epoch_arg(a.get("date_from")),
            date_to=_epoch_arg(a.get("date_to")),
            sort=a.get("sort", "DESC"),
            contract_types=a.get("contract_type"),
            description=a.get("description") == 1,
        ),
    }


def portfolio(s: Session, r: Request) -> Body:
    acc = account_of(s)
    for c in acc.open_contracts():
        s.sim.market.feed(c.spec.symbol)  # settle anything due before reporting
    return {
        "msg_type": "portfolio",
        "portfolio": ledger.portfolio(acc, r.args.get("contract_type")),
    }
