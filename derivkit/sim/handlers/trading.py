"""Trading: proposals, buy, sell, cancel, contract updates and open-contract streams."""

from __future__ import annotations

import contextlib
from typing import Any

from derivkit.sim.account import Account
from derivkit.sim.errors import ApiError, validation_error
from derivkit.sim.feed import Tick
from derivkit.sim.handlers.common import Body, account_of, market_context, wants_stream
from derivkit.sim.products.base import Contract, Product, creation, for_buy, offerings
from derivkit.sim.products.registry import product_for
from derivkit.sim.session import ProposalEntry, Request, Session
from derivkit.sim.streams import dumps, new_id
from derivkit.sim.symbols import SYMBOLS
from derivkit.sim.validation import BUY_PARAMETERS, check_fields

#: Proposal fields that change with every tick without the price changing.
_VOLATILE = ("id", "spot", "spot_time", "date_start", "date_expiry")
_UNMODELLED_INPUTS = ("barrier_range", "trade_risk_profile", "trading_period_start")


def _contract(s: Session, r: Request, params: dict[str, Any]) -> tuple[Product, Any]:
    """The product and validated terms of a contract (proposal fields or buy parameters)."""
    product = product_for(params["contract_type"])
    spec = SYMBOLS.get(params["symbol"])
    if spec is None:
        raise creation("Trading is not offered for this asset.", "symbol")
    account = s.account
    currency = account.currency if account is not None else s.sim.currency
    if params["currency"] != currency:
        raise ApiError(
            "InvalidCurrency",
            f"The currency {params['currency']} is not offered.",
            {"field": "currency"},
        )
    ct = params["contract_type"]
    for name in _UNMODELLED_INPUTS:
        if name in params:
            raise creation(f"{name} is not a valid input for contract type {ct}.", name)
    now = s.sim.clock.now()
    if "date_start" in params and params["date_start"] > now + 1:
        raise offerings("Forward-starting contracts are not offered for this asset.", "date_start")
    if not product.offered_on(spec, ct):
        raise offerings("Trading is not offered for this asset.", "contract_type")
    return product, product.parse(params, spec, market_context(s, spec.symbol))


def _proposal_payload(
    s: Session, product: Product, terms: Any, pid: str, tick: Tick
) -> tuple[dict[str, Any], bool]:
    """The ``proposal`` payload at ``tick`` and whether its price is constant."""
    spec = SYMBOLS[terms.symbol]
    ctx = market_context(s, spec.symbol)
    q = product.quote(terms, spec, (tick.epoch, tick.quote), ctx)
    payload: dict[str, Any] = {
        "id": pid,
        "ask_price": q.ask_price,
        "display_value": f"{q.ask_price:.2f}",
        "payout": q.payout,
        "spot": tick.quote,
        "spot_time": tick.epoch,
        "date_start": int(ctx.now),
        "longcode": q.longcode,
        **q.fields,
    }
    payload.setdefault("contract_details", {})
    if q.date_expiry is not None:
        payload["date_expiry"] = q.date_expiry
    return payload, q.constant


def _price_signature(payload: dict[str, Any]) -> str:
    """What must change for a streamed proposal to send a new message."""
    stable = {k: v for k, v in payload.items() if k not in _VOLATILE}
    details = dict(stable.get("contract_details") or {})
    details.pop("last_tick_epoch", None)
    details.pop("ticks_stayed_in", None)
    stable["contract_details"] = details
    orders = stable.get("limit_order")
    if isinstance(orders, dict):
        stable["limit_order"] = {
            k: {f: v for f, v in o.items() if f != "order_date"} for k, o in orders.items()
        }
    stable.pop("cancellation", None)
    return dumps(stable)


def proposal(s: Session, r: Request) -> Body:
    params = {k: v for k, v in r.args.items() if k not in ("proposal", "subscribe", "loginid")}
    product, terms = _contract(s, r, params)
    feed = s.sim.market.feed(terms.symbol)
    pid = new_id()
    payload, constant = _proposal_payload(s, product, terms, pid, feed.latest())
    if not wants_stream(r):
        s.remember_proposal(pid, ProposalEntry(terms, None, product))
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
    s.remember_proposal(pid, ProposalEntry(terms, stream, product))
    if constant:  # Deriv does not stream prices that cannot change
        return {"msg_type": "proposal", "proposal": payload, "subscription": {"id": pid}}
    last = [_price_signature(payload)]

    def on_tick(tick: Tick) -> None:
        # Not offered at this spot (e.g. barrier == spot): skip this tick.
        with contextlib.suppress(ApiError):
            new, _ = _proposal_payload(s, product, terms, pid, tick)
            signature = _price_signature(new)
            if signature != last[0]:
                last[0] = signature
                stream.emit(new)

    feed.add_listener(on_tick)
    stream.on_close(lambda: feed.remove_listener(on_tick))
    return {"msg_type": "proposal", "proposal": payload, "subscription": {"id": pid}}


def _poc_stream_for(s: Session, r: Request, contract: Contract, acc: Account) -> Any:
    currency = acc.currency
    stream = s.open_stream(
        "proposal_open_contract",
        ("proposal_open_contract", contract.contract_id),
        "proposal_open_contract",
        r,
    )

    def on_event(kind: str, obj: Any) -> None:
        if kind == "contract" and obj is contract:
            stream.emit(contract.poc(currency, s.sim.clock.now()))
            if contract.is_sold:
                stream.close()

    stream.on_close(acc.subscribe(on_event))
    return stream


def buy(s: Session, r: Request) -> Body:
    acc = account_of(s, r)
    ref = r.args["buy"]
    entry: ProposalEntry | None = None
    by_parameters = ref == "1"
    if by_parameters:
        if "parameters" not in r.args:
            raise validation_error({"parameters": "This field is required."})
        params = r.args["parameters"]
        check_fields(BUY_PARAMETERS, params, allowed=())
        try:
            product, terms = _contract(s, r, params)
        except ApiError as error:
            raise for_buy(error) from None
    else:
        entry = s.proposals.get(ref)
        if entry is None or entry.product is None:
            raise ApiError("InvalidContractProposal", "Unknown contract proposal")
        product, terms = entry.product, entry.terms
    subscribe = wants_stream(r)
    ctx = market_context(s, terms.symbol)
    try:
        contract, txn = s.sim.broker.buy(
            acc, product, terms, float(r.args["price"]), ctx, by_parameters
        )
    except ApiError as error:
        raise for_buy(error) from None
    if entry is not None:
        s.proposals.pop(ref, None)
        if entry.stream is not None:
            entry.stream.close()
    body: Body = {
        "msg_type": "buy",
        "buy": {
            "balance_after": txn.balance_after,
            "buy_price": contract.buy_price,
            "contract_id": contract.contract_id,
            "longcode": contract.longcode,
            "payout": contract.payout,
            "purchase_time": contract.date_start,
            "shortcode": contract.shortcode,
            "start_time": contract.date_start,
            "transaction_id": txn.transaction_id,
        },
    }
    if subscribe and ("proposal_open_contract", contract.contract_id) not in s.keys:
        # Deriv: the receipt names the stream (``subscription``); the contract's
        # proposal_open_contract states follow under it and the buy's req_id.
        stream = _poc_stream_for(s, r, contract, acc)
        body["subscription"] = {"id": stream.id}
        s.after_reply(lambda: stream.emit(contract.poc(acc.currency, s.sim.clock.now())))
    return body


def _close_body(name: str, txn: Any) -> Body:
    c = txn.contract
    assert c is not None
    return {
        "msg_type": name,
        name: {
            "balance_after": txn.balance_after,
            "contract_id": c.contract_id,
            "reference_id": c.transaction_id,
            "sold_for": txn.amount,
            "transaction_id": txn.transaction_id,
        },
    }


def sell(s: Session, r: Request) -> Body:
    acc = account_of(s, r)
    return _close_body("sell", s.sim.broker.sell(acc, r.args["sell"], float(r.args["price"])))


def cancel(s: Session, r: Request) -> Body:
    acc = account_of(s, r)
    return _close_body("cancel", s.sim.broker.cancel(acc, r.args["cancel"]))


def contract_update(s: Session, r: Request) -> Body:
    acc = account_of(s, r)
    result = s.sim.broker.update(acc, r.args["contract_id"], dict(r.args["limit_order"]))
    return {"msg_type": "contract_update", "contract_update": result}


def contract_update_history(s: Session, r: Request) -> Body:
    acc = account_of(s, r)
    cid = r.args["contract_id"]
    contract = acc.contracts.get(cid)
    if contract is None:
        raise ApiError("ContractNotFound", f"Contract not found for contract id: {cid}.")
    s.sim.market.feed(contract.spec.symbol)
    limit = int(r.args.get("limit", 500))
    return {
        "msg_type": "contract_update_history",
        "contract_update_history": contract.update_history()[:limit],
    }


def proposal_open_contract(s: Session, r: Request) -> Body | list[Body]:
    acc = account_of(s, r)
    cid = r.args.get("contract_id")
    subscribe = wants_stream(r)
    msg = "proposal_open_contract"
    clock = s.sim.clock
    if cid is not None:
        contract = acc.contracts.get(cid)
        if contract is None:
            raise ApiError("InvalidContractId", "Contract not found.", {"field": "contract_id"})
        s.sim.market.feed(contract.spec.symbol)
        payload = contract.poc(acc.currency, clock.now())
        if not subscribe or contract.is_sold:
            return {"msg_type": msg, msg: payload}
        s.check_not_subscribed((msg, cid), str(cid))
        stream = _poc_stream_for(s, r, contract, acc)
        payload["id"] = stream.id
        return {"msg_type": msg, msg: payload, "subscription": {"id": stream.id}}
    for c in acc.open_contracts():
        s.sim.market.feed(c.spec.symbol)
    open_now = acc.open_contracts()
    if not subscribe:
        return [{"msg_type": msg, msg: c.poc(acc.currency, clock.now())} for c in open_now] or [
            {"msg_type": msg, msg: {}}
        ]
    stream = s.open_stream(msg, (msg, "all", acc.loginid), msg, r)

    def on_event(kind: str, obj: Any) -> None:
        if kind == "contract":
            stream.emit(obj.poc(acc.currency, clock.now()))

    stream.on_close(acc.subscribe(on_event))
    sub = {"id": stream.id}
    bodies = [
        {
            "msg_type": msg,
            msg: {**c.poc(acc.currency, clock.now()), "id": stream.id},
            "subscription": sub,
        }
        for c in open_now
    ]
    return bodies or [{"msg_type": msg, msg: {}, "subscription": sub}]
