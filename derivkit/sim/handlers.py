"""One synchronous function per API call: ``handler(session, request) -> reply body | [bodies]``.

A reply body holds ``msg_type``, the payload and optional ``subscription``/``pip_size``; the
session adds ``echo_req``, ``req_id`` and ``passthrough``. Handlers raise :class:`ApiError` for
error replies and never await, so each request sees a consistent state. Streams they open are
closed by ``forget``, ``forget_all``, logout/re-authorize (account streams), stream end (sold
contracts) or disconnect.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Callable
from typing import Any

from derivkit.sim import account as ledger
from derivkit.sim.contracts import Contract
from derivkit.sim.errors import ApiError, validation_error
from derivkit.sim.feed import Tick
from derivkit.sim.pricing import (
    CATEGORY,
    DIGIT_RANGES,
    DURATIONS,
    Terms,
    longcode,
    parse_terms,
    quote,
)
from derivkit.sim.session import ProposalEntry, Request, Session
from derivkit.sim.streams import dumps, new_id
from derivkit.sim.symbols import CALLPUT, DIGITS, SYMBOLS, TOUCH, SymbolSpec
from derivkit.sim.validation import CONTRACT_FIELDS, check_fields

Body = dict[str, Any]
Handler = Callable[[Session, Request], "Body | list[Body]"]

FORGET_TYPES = frozenset(
    {
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
    }
)


def _spec(symbol: Any) -> SymbolSpec:
    spec = SYMBOLS.get(symbol) if isinstance(symbol, str) else None
    if spec is None:
        raise ApiError("InvalidSymbol", f"Symbol {symbol} is invalid.")
    return spec


def _subscribed(r: Request) -> bool:
    return r.args.get("subscribe") == 1


def _account(s: Session) -> ledger.Account:
    assert s.account is not None
    return s.account


# -- session / account --------------------------------------------------------------------------
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
            "scopes": ["read", "trade", "trading_information", "payments", "admin"],
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
    acc = _account(s)
    payload = _balance_payload(acc)
    if not _subscribed(r):
        return {"msg_type": "balance", "balance": payload}
    stream = s.open_stream("balance", ("balance",), "balance", r)

    def on_event(kind: str, obj: Any) -> None:
        if kind == "transaction":
            stream.emit(_balance_payload(acc))

    stream.on_close(acc.subscribe(on_event))
    payload["id"] = stream.id
    return {"msg_type": "balance", "balance": payload, "subscription": {"id": stream.id}}


def topup_virtual(s: Session, r: Request) -> Body:
    acc = _account(s)
    txn = s.sim.broker.topup(acc)
    return {
        "msg_type": "topup_virtual",
        "topup_virtual": {"amount": txn.amount, "currency": acc.currency},
    }


def transaction(s: Session, r: Request) -> Body:
    acc = _account(s)
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
            _account(s),
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
            _account(s),
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
    acc = _account(s)
    for c in acc.open_contracts():
        s.sim.market.feed(c.spec.symbol)  # settle anything due before reporting
    return {
        "msg_type": "portfolio",
        "portfolio": ledger.portfolio(acc, r.args.get("contract_type")),
    }


# -- market data --------------------------------------------------------------------------------
def _tick_listener(stream: Any) -> Callable[[Tick], None]:
    def on_tick(tick: Tick) -> None:
        stream.emit_core(tick.core())

    return on_tick


def _attach_ticks(s: Session, r: Request, symbol: str, msg_type: str) -> Any:
    stream = s.open_stream("ticks", ("ticks", symbol), "tick", r)
    feed = s.sim.market.feed(symbol)
    listener = _tick_listener(stream)
    feed.add_listener(listener)
    stream.on_close(lambda: feed.remove_listener(listener))
    return stream


def ticks(s: Session, r: Request) -> list[Body]:
    raw = r.args["ticks"]
    symbols = [raw] if isinstance(raw, str) else list(dict.fromkeys(raw))
    specs = [_spec(sym) for sym in symbols]
    subscribe = r.args.get("subscribe", 1) == 1
    if subscribe:
        for spec in specs:
            s.check_not_subscribed(("ticks", spec.symbol), spec.symbol)
    out: list[Body] = []
    for spec in specs:
        payload = s.sim.market.feed(spec.symbol).latest().payload()
        body: Body = {"msg_type": "tick", "tick": payload}
        if subscribe:
            stream = _attach_ticks(s, r, spec.symbol, "tick")
            payload["id"] = stream.id
            body["subscription"] = {"id": stream.id}
        out.append(body)
    return out


def ticks_history(s: Session, r: Request) -> Body:
    a = r.args
    spec = _spec(a["ticks_history"])
    market = s.sim.market
    feed = market.feed(spec.symbol)
    now = int(s.sim.clock.now())
    end = now if a["end"] == "latest" else min(int(a["end"]), now)
    start = int(a.get("start", 0))
    count = int(a.get("count", 1000))
    if count < 1:
        raise validation_error({"count": "Must be at least 1."})
    count = min(count, 5000)
    style = a.get("style", "ticks")
    subscribe = _subscribed(r)
    if style == "ticks":
        if subscribe:
            s.check_not_subscribed(("ticks", spec.symbol), spec.symbol)
        times, prices = feed.ticks(start, end, count)
        body: Body = {
            "msg_type": "history",
            "history": {"prices": prices, "times": times},
            "pip_size": spec.pip_size,
        }
        if subscribe:
            stream = _attach_ticks(s, r, spec.symbol, "tick")
            body["subscription"] = {"id": stream.id}
        return body
    g = a.get("granularity", 60)
    key = ("candles", spec.symbol, g)
    if subscribe:
        s.check_not_subscribed(key, spec.symbol)
    candles = feed.candles(g, start, end, count)
    body = {"msg_type": "candles", "candles": candles, "pip_size": spec.pip_size}
    if subscribe:
        stream = s.open_stream("candles", key, "ohlc", r)
        latest = feed.latest()
        slot = latest.epoch - latest.epoch % g
        times, prices = feed.ticks_since(slot)
        state: list[Any] = (
            [slot, prices[0], max(prices), min(prices), prices[-1]] if prices else [None]
        )

        def on_tick(tick: Tick) -> None:
            e, q = tick.epoch, tick.quote
            open_time = e - e % g
            if state[0] != open_time:
                state[:] = [open_time, q, q, q, q]
            else:
                state[2] = max(state[2], q)
                state[3] = min(state[3], q)
                state[4] = q
            f = spec.fmt
            stream.emit(
                {
                    "symbol": spec.symbol,
                    "granularity": g,
                    "open_time": open_time,
                    "epoch": e,
                    "open": f(state[1]),
                    "high": f(state[2]),
                    "low": f(state[3]),
                    "close": f(state[4]),
                    "pip_size": spec.pip_size,
                }
            )

        feed.add_listener(on_tick)
        stream.on_close(lambda: feed.remove_listener(on_tick))
        body["subscription"] = {"id": stream.id}
    return body


def _symbol_item(s: Session, spec: SymbolSpec, full: bool) -> dict[str, Any]:
    item: dict[str, Any] = {
        "allow_forward_starting": 0,
        "display_name": spec.display_name,
        "display_order": spec.display_order,
        "exchange_is_open": 1,
        "is_trading_suspended": int(spec.symbol in s.sim.faults.paused),
        "market": spec.market,
        "market_display_name": spec.market_display_name,
        "pip": spec.pip,
        "subgroup": spec.subgroup,
        "subgroup_display_name": spec.subgroup_display_name,
        "submarket": spec.submarket,
        "submarket_display_name": spec.submarket_display_name,
        "symbol": spec.symbol,
        "symbol_type": "stockindex",
    }
    if full:
        feed = s.sim.market.feed(spec.symbol)
        last = feed.latest()
        day_ago = feed.ticks(0, last.epoch - 86400, 1)[1] or [feed.quotes[0]]
        item.update(
            delay_amount=0,
            exchange_name="RANDOM",
            intraday_interval_minutes=1,
            quoted_currency_symbol="",
            spot=last.quote,
            spot_age=str(max(0, s.sim.clock.epoch() - last.epoch)),
            spot_percentage_change=f"{100 * (last.quote / day_ago[0] - 1):.2f}",
            spot_time=str(last.epoch),
        )
    return item


def active_symbols(s: Session, r: Request) -> Body:
    full = r.args["active_symbols"] == "full"
    return {
        "msg_type": "active_symbols",
        "active_symbols": [_symbol_item(s, spec, full) for spec in SYMBOLS.values()],
    }


_DISPLAY = {
    "CALL": ("Higher", "up"),
    "PUT": ("Lower", "down"),
    "ONETOUCH": ("Touches", "high_vol"),
    "NOTOUCH": ("Does Not Touch", "low_vol"),
    "DIGITMATCH": ("Digit Matches", "match"),
    "DIGITDIFF": ("Digit Differs", "differ"),
    "DIGITEVEN": ("Digit Even", "even"),
    "DIGITODD": ("Digit Odd", "odd"),
    "DIGITOVER": ("Digit Over", "over"),
    "DIGITUNDER": ("Digit Under", "under"),
}
_CATEGORY_DISPLAY = {CALLPUT: "Up/Down", TOUCH: "Touch/No Touch", DIGITS: "Digits"}


def _offerings(spec: SymbolSpec) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for ct, category in CATEGORY.items():
        if category not in spec.categories:
            continue
        units = DURATIONS[category]
        expiries: list[tuple[str, str, str]] = []
        if "t" in units:
            expiries.append(("tick", f"{units['t'][0]}t", f"{units['t'][1]}t"))
        if "s" in units:
            expiries.append(("intraday", f"{units['s'][0]}s", "1d"))
        for expiry_type, lo, hi in expiries:
            barriers = [0, 1] if category == CALLPUT else [1] if category == TOUCH else [0]
            for nb in barriers:
                display, sentiment = _DISPLAY[ct]
                item: dict[str, Any] = {
                    "contract_type": ct,
                    "contract_category": category,
                    "contract_category_display": _CATEGORY_DISPLAY[category],
                    "contract_display": display,
                    "barrier_category": "euro_atm"
                    if category == CALLPUT and nb == 0
                    else "american"
                    if category == TOUCH
                    else "non_financial"
                    if category == DIGITS
                    else "euro_non_atm",
                    "barriers": nb,
                    "expiry_type": expiry_type,
                    "start_type": "spot",
                    "min_contract_duration": lo,
                    "max_contract_duration": hi,
                    "sentiment": sentiment,
                    "market": spec.market,
                    "submarket": spec.submarket,
                    "underlying_symbol": spec.symbol,
                    "exchange_name": "RANDOM",
                }
                if nb:
                    item["barrier"] = f"+{spec.fmt(max(spec.pip, spec.start_level * 0.0005))}"
                if ct in DIGIT_RANGES:
                    item["last_digit_range"] = list(DIGIT_RANGES[ct])
                out.append(item)
    return out


def contracts_for(s: Session, r: Request) -> Body:
    spec = _spec(r.args["contracts_for"])
    currency = r.args.get("currency", s.sim.currency)
    if currency != s.sim.currency:
        raise ApiError("InvalidCurrency", f"The currency {currency} is not offered.")
    now = s.sim.clock.epoch()
    available = _offerings(spec)
    return {
        "msg_type": "contracts_for",
        "contracts_for": {
            "available": available,
            "hit_count": len(available),
            "open": now - now % 86400,
            "close": now - now % 86400 + 86399,
            "spot": s.sim.market.feed(spec.symbol).latest().quote,
            "feed_license": "realtime",
        },
    }


# -- trading ------------------------------------------------------------------------------------
def _terms(s: Session, params: dict[str, Any]) -> Terms:
    spec = _spec(params["symbol"])
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
    if not _subscribed(r):
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
    acc = _account(s)
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
    acc = _account(s)
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
    subscribe = _subscribed(r)
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
    acc = _account(s)
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
    acc = _account(s)
    cid = r.args.get("contract_id")
    subscribe = _subscribed(r)
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


# -- misc -----------------------------------------------------------------------------------------
def website_status(s: Session, r: Request) -> Body:
    payload: dict[str, Any] = {
        "api_call_limits": s.sim.rate_limits.api_call_limits(),
        "clients_country": "id",
        "currencies_config": {
            s.sim.currency: {
                "fractional_digits": 2,
                "is_deposit_suspended": 0,
                "is_suspended": 0,
                "is_withdrawal_suspended": 0,
                "name": "US Dollar" if s.sim.currency == "USD" else s.sim.currency,
                "stake_default": 10,
                "type": "fiat",
            }
        },
        "site_status": "up",
        "supported_languages": ["EN"],
        "terms_conditions_version": "Version 1 2024-01-01",
    }
    if not _subscribed(r):
        return {"msg_type": "website_status", "website_status": payload}
    stream = s.open_stream("website_status", ("website_status",), "website_status", r)
    payload["id"] = stream.id
    return {
        "msg_type": "website_status",
        "website_status": payload,
        "subscription": {"id": stream.id},
    }


def time_(s: Session, r: Request) -> Body:
    return {"msg_type": "time", "time": s.sim.clock.epoch()}


def ping(s: Session, r: Request) -> Body:
    return {"msg_type": "ping", "ping": "pong"}


def forget(s: Session, r: Request) -> Body:
    stream = s.streams.get(r.args["forget"])
    if stream is None:
        return {"msg_type": "forget", "forget": 0}
    stream.close()
    return {"msg_type": "forget", "forget": 1}


def forget_all(s: Session, r: Request) -> Body:
    raw = r.args["forget_all"]
    kinds = [raw] if isinstance(raw, str) else raw
    bad = [k for k in kinds if k not in FORGET_TYPES]
    if bad:
        raise validation_error({"forget_all": f"Invalid stream type: {', '.join(bad)}."})
    ids = []
    for stream in list(s.streams.values()):
        if stream.kind in kinds:
            ids.append(stream.id)
            stream.close()
    return {"msg_type": "forget_all", "forget_all": ids}


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
}
