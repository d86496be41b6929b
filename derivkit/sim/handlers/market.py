"""Market data: ticks, history and candles, active symbols, contracts on offer."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from derivkit.sim.errors import ApiError, validation_error
from derivkit.sim.feed import Tick
from derivkit.sim.handlers.common import Body, symbol_spec, wants_stream
from derivkit.sim.pricing import (
    CATEGORY,
    DIGIT_RANGES,
    DURATIONS,
)
from derivkit.sim.session import Request, Session
from derivkit.sim.symbols import CALLPUT, DIGITS, SYMBOLS, TOUCH, SymbolSpec


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
    specs = [symbol_spec(sym) for sym in symbols]
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
    spec = symbol_spec(a["ticks_history"])
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
    subscribe = wants_stream(r)
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
    spec = symbol_spec(r.args["contracts_for"])
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
