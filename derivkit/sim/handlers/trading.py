"""Trading: proposals, buy, sell and open-contract streams."""

from __future__ import annotations

import contextlib
from typing import Any

from derivkit.sim.contracts import Contract
from derivkit.sim.errors import ApiError
from derivkit.sim.feed import Tick
from derivkit.sim.handlers.common import Body, account_of, symbol_spec, wants_stream
from derivkit.sim.pricing import (
    Terms,
    longcode,
    parse_terms,
    quote,
)
from derivkit.sim.session import ProposalEntry, Request, Session
from derivkit.sim.streams import dumps, new_id
from derivkit.sim.symbols import SYMBOLS
from derivkit.sim.validation import CONTRACT_FIELDS, check_fields


def _terms(s: Session, params: dict[str, Any]) -> Terms:
    spec = symbol_spec(params["symbol"])
    if params.get("duration_unit") == "d":
        raise ApiError(
            "ContractBuyValidationError",
            "Trading is not offered for this duration.",
            {"field": "duration"},
        )
    return parse_terms(params, spec, s.sim.clock.now(), s.sim.currency)


def _proposal_payload(s: Session, terms: Terms, pid: str, tick: Tick) -> dict[str, Any]:
    spec = SYMBOLS[terms.symbol]
    q = quote(terms, spec, tick.quote)
    now = s.sim.clock.epoch()
    payload: dict[str, Any] = {
        "id": pid,
        "ask_price": q.ask_price,
        "display_value": f"{q.ask_price:.2f}",
        "payout": q.payout,
        "spot": tick.quote,
        "spot_time": tick.epoch,
        "date_start": now,
        "longcode": longcode(terms, spec),
        "contract_details": {},
    }
    if terms.ticks is None:
        payload["date_expiry"] = now + terms.seconds
    if q.barrier is not None:
        payload["contract_details"]["barrier"] = q.barrier
    return payload


def proposal(s: Session, r: Request) -> Body:
    terms = _terms(s, r.args)
    feed = s.sim.market.feed(terms.symbol)
    pid = new_id()
    payload = _proposal_payload(s, terms, pid, feed.latest())
    if not wants_stream(r):
        s.remember_proposal(pid, ProposalEntry(terms, None))
        return {"msg_type": "proposal", "proposal": payload}
    key_fields = {
        k: v for k, v in r.args.items() if k not in ("req_id", "passthrough", "subscribe")
    }
    key = ("proposal", dumps(dict(sorted(key_fields.items()))))
    s.check_not_subscribed(key, "this proposal")
    live = sum(1 for st in s.streams.values() if st.kind == "proposal")
    if live >= s.sim.rate_limits.max_proposal_subscriptions:
        raise ApiError(
            "RateLimit",
            f"You have reached the limit of {s.sim.rate_limits.max_proposal_subscriptions} "
            "concurrent proposal subscriptions.",
        )
    stream = s.open_stream("proposal", key, "proposal", r, stream_id=pid)

    def on_tick(tick: Tick) -> None:
        # Not offered at this spot (e.g. barrier == spot): skip this tick.
        with contextlib.suppress(ApiError):
            stream.emit(_proposal_payload(s, terms, pid, tick))

    feed.add_listener(on_tick)
    stream.on_close(lambda: feed.remove_listener(on_tick))
    s.remember_proposal(pid, ProposalEntry(terms, stream))
    return {"msg_type": "proposal", "proposal": payload, "subscription": {"id": pid}}


def _poc_stream_for(s: Session, r: Request, contract: Contract) -> Any:
    acc = account_of(s)
    stream = s.open_stream(
        "proposal_open_contract",
        ("proposal_open_contract", contract.contract_id),
        "proposal_open_contract",
        r,
    )

    def on_event(kind: str, obj: Any) -> None:
        if kind == "contract" and obj is contract:
            stream.emit(contract.poc(acc.currency))
            if contract.is_sold:
                stream.close()

    stream.on_close(acc.subscribe(on_event))
    return stream


def buy(s: Session, r: Request) -> Body:
    acc = account_of(s)
    ref = r.args["buy"]
    entry: ProposalEntry | None = None
    if ref == "1" and "parameters" in r.args:
        params = r.args["parameters"]
        check_fields(CONTRACT_FIELDS, params)
        terms = _terms(s, params)
    else:
        entry = s.proposals.get(ref)
        if entry is None:
            raise ApiError("InvalidContractProposal", "Unknown contract proposal")
        terms = entry.terms
    subscribe = wants_stream(r)
    contract, txn = s.sim.broker.buy(acc, terms, float(r.args["price"]))
    if entry is not None:
        s.proposals.pop(ref, None)
        if entry.stream is not None:
            entry.stream.close()
    body: Body = {
        "msg_type": "buy",
        "buy": {
            "contract_id": contract.contract_id,
            "transaction_id": txn.transaction_id,
            "buy_price": contract.buy_price,
            "payout": contract.payout,
            "balance_after": txn.balance_after,
            "purchase_time": contract.date_start,
            "start_time": contract.date_start,
            "shortcode": contract.shortcode,
            "longcode": contract.longcode,
        },
    }
    if subscribe and ("proposal_open_contract", contract.contract_id) not in s.keys:
        stream = _poc_stream_for(s, r, contract)
        s.after_reply(lambda: stream.emit(contract.poc(acc.currency)))
    return body


def sell(s: Session, r: Request) -> Body:
    acc = account_of(s)
    txn = s.sim.broker.sell(acc, r.args["sell"], float(r.args["price"]))
    c = txn.contract
    assert c is not None
    return {
        "msg_type": "sell",
        "sell": {
            "contract_id": c.contract_id,
            "sold_for": txn.amount,
            "balance_after": txn.balance_after,
            "transaction_id": txn.transaction_id,
            "reference_id": c.transaction_id,
        },
    }


def proposal_open_contract(s: Session, r: Request) -> Body | list[Body]:
    acc = account_of(s)
    cid = r.args.get("contract_id")
    subscribe = wants_stream(r)
    msg = "proposal_open_contract"
    if cid is not None:
        contract = acc.contracts.get(cid)
        if contract is None:
            raise ApiError("InvalidContractId", "Contract not found.", {"field": "contract_id"})
        s.sim.market.feed(contract.spec.symbol)
        payload = contract.poc(acc.currency)
        if not subscribe or contract.is_sold:
            return {"msg_type": msg, msg: payload}
        s.check_not_subscribed((msg, cid), str(cid))
        stream = _poc_stream_for(s, r, contract)
        payload["id"] = stream.id
        return {"msg_type": msg, msg: payload, "subscription": {"id": stream.id}}
    for c in acc.open_contracts():
        s.sim.market.feed(c.spec.symbol)
    open_now = acc.open_contracts()
    if not subscribe:
        return [{"msg_type": msg, msg: c.poc(acc.currency)} for c in open_now] or [
            {"msg_type": msg, msg: {}}
        ]
    stream = s.open_stream(msg, (msg, "all"), msg, r)

    def on_event(kind: str, obj: Any) -> None:
        if kind == "contract":
            stream.emit(obj.poc(acc.currency))

    stream.on_close(acc.subscribe(on_event))
    sub = {"id": stream.id}
    bodies = [
        {"msg_type": msg, msg: {**c.poc(acc.currency), "id": stream.id}, "subscription": sub}
        for c in open_now
    ]
    return bodies or [{"msg_type": msg, msg: {}, "subscription": sub}]
