"""Market data: ticks, history and candles, active symbols, contracts on offer."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from typing import Any

from derivkit.sim import pricing
from derivkit.sim.errors import ApiError, validation_error
from derivkit.sim.feed import SymbolFeed, Tick
from derivkit.sim.handlers.common import Body, market_context, symbol_spec, wants_stream
from derivkit.sim.products import turbos, vanilla
from derivkit.sim.products.registry import PRODUCTS
from derivkit.sim.session import Request, Session
from derivkit.sim.symbols import (
    ACCUMULATOR,
    ASIAN,
    CALLPUT,
    CALLPUTEQUAL,
    DIGITS,
    ENDSINOUT,
    HIGHLOWTICKS,
    MULTIPLIER,
    RUNS,
    STAYSINOUT,
    SYMBOLS,
    TOUCH,
    TURBOS,
    VANILLA,
    SymbolSpec,
)


def _tick_listener(stream: Any) -> Callable[[Tick], None]:
    def on_tick(tick: Tick) -> None:
        stream.emit_core(tick.core())

    return on_tick


def _attach_ticks(s: Session, r: Request, feed: SymbolFeed) -> Any:
    """A ticks stream of ``feed``, from the feed as it stands (not advanced again: a tick due
    since the caller read it comes through the stream, not before it)."""
    stream = s.open_stream("ticks", ("ticks", feed.symbol), "tick", r)
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
    now = s.sim.clock.now()  # one reading: the reply's tick and the stream's start agree
    for spec in specs:
        feed = s.sim.market.feed(spec.symbol, now)
        payload = feed.latest().payload()
        body: Body = {"msg_type": "tick", "tick": payload}
        if subscribe:
            stream = _attach_ticks(s, r, feed)
            payload["id"] = stream.id
            body["subscription"] = {"id": stream.id}
        out.append(body)
    return out


def ticks_history(s: Session, r: Request) -> Body:
    a = r.args
    spec = symbol_spec(a["ticks_history"])
    market = s.sim.market
    reading = s.sim.clock.now()  # one reading: the history and the stream's start agree
    feed = market.feed(spec.symbol, reading)
    now = int(reading)
    end = now if a["end"] == "latest" else min(int(a["end"]), now)
    start = a.get("start", 0)
    count = a.get("count", 1000)
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
            stream = _attach_ticks(s, r, feed)
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


def contracts_for(s: Session, r: Request) -> Body:
    spec = symbol_spec(r.args["contracts_for"])
    currency = r.args.get("currency", s.sim.currency)
    if currency != s.sim.currency:
        raise ApiError("InvalidCurrency", f"The currency {currency} is not offered.")
    now = s.sim.clock.epoch()
    ctx = market_context(s, spec.symbol)
    available = [item for product in PRODUCTS for item in product.offers(spec, ctx)]
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


def _markets() -> dict[tuple[str, str], list[SymbolSpec]]:
    """Symbols grouped by (market display name, submarket display name), in display order."""
    groups: dict[tuple[str, str], list[SymbolSpec]] = {}
    for spec in SYMBOLS.values():
        groups.setdefault((spec.market_display_name, spec.submarket_display_name), []).append(spec)
    return groups


def trading_times(s: Session, r: Request) -> Body:
    """Opening times: synthetic indices trade around the clock, every day."""
    day = r.args["trading_times"]
    if day != "today":
        try:
            dt.date.fromisoformat("-".join(f"{int(x):02d}" for x in day.split("-")))
        except ValueError:
            raise validation_error({"trading_times": "Invalid date."}) from None
    markets: dict[str, list[dict[str, Any]]] = {}
    for (market, submarket), specs in _markets().items():
        markets.setdefault(market, []).append(
            {
                "name": submarket,
                "symbols": [
                    {
                        "name": spec.display_name,
                        "symbol": spec.symbol,
                        "events": [],
                        "times": {
                            "open": ["00:00:00"],
                            "close": ["23:59:59"],
                            "settlement": "23:59:59",
                        },
                        "trading_days": ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"],
                    }
                    for spec in specs
                ],
            }
        )
    return {
        "msg_type": "trading_times",
        "trading_times": {
            "markets": [{"name": name, "submarkets": subs} for name, subs in markets.items()]
        },
    }


#: trade type -> (display name, categories offering it, offering)
_TRADE_TYPES: tuple[tuple[str, str, tuple[str, ...], pricing.Offering], ...] = (
    ("rise_fall", "Rise/Fall", (CALLPUT,), pricing.OFFERINGS["risefall"]),
    ("rise_fall_equal", "Rise/Fall Equal", (CALLPUTEQUAL,), pricing.OFFERINGS["risefall"]),
    ("high_low", "Higher/Lower", (CALLPUT,), pricing.OFFERINGS["higherlower"]),
    ("touchnotouch", "Touch/No Touch", (TOUCH,), pricing.OFFERINGS["touch"]),
    ("endsinout", "Ends Between/Ends Outside", (ENDSINOUT,), pricing.OFFERINGS["range"]),
    ("staysinout", "Stays Between/Goes Outside", (STAYSINOUT,), pricing.OFFERINGS["range"]),
    ("digits", "Digits", (DIGITS,), pricing.OFFERINGS["digits"]),
    ("asian", "Asians", (ASIAN,), pricing.OFFERINGS["asian"]),
    ("highlowticks", "High/Low Ticks", (HIGHLOWTICKS,), pricing.OFFERINGS["highlowticks"]),
    ("runs", "Only Ups/Only Downs", (RUNS,), pricing.OFFERINGS["runs"]),
    ("turbos", "Turbos", (TURBOS,), turbos.OFFERING),
    ("vanilla", "Vanilla Options", (VANILLA,), vanilla.OFFERING),
)
_NO_EXPIRY = (
    ("multiplier", "Multipliers", (MULTIPLIER,)),
    ("accumulator", "Accumulators", (ACCUMULATOR,)),
)


def _durations(offering: pricing.Offering) -> list[dict[str, Any]]:
    out = []
    if offering.ticks is not None:
        out.append(
            {
                "name": "ticks",
                "display_name": "Ticks",
                "min": offering.ticks[0],
                "max": offering.ticks[1],
            }
        )
    if offering.seconds is not None:
        lo, hi = offering.seconds
        if lo < 60:
            out.append({"name": "s", "display_name": "Seconds", "min": lo, "max": hi})
        out.append(
            {"name": "m", "display_name": "Minutes", "min": max(1, -(-lo // 60)), "max": hi // 60}
        )
        out.append(
            {"name": "h", "display_name": "Hours", "min": max(1, -(-lo // 3600)), "max": hi // 3600}
        )
    if offering.days is not None:
        out.append(
            {
                "name": "days",
                "display_name": "Days",
                "min": offering.days[0],
                "max": offering.days[1],
            }
        )
    return out


def trading_durations(s: Session, r: Request) -> Body:
    """Duration bounds per market, submarket and trade type (products doc §6.2)."""
    items = []
    for (market_name, submarket_name), specs in _markets().items():
        spec0 = specs[0]
        market = {"name": spec0.market, "display_name": market_name}
        submarket = {"name": spec0.submarket, "display_name": submarket_name}
        trade_durations = []
        for name, display, cats, offering in _TRADE_TYPES:
            if any(c in spec0.categories for c in cats):
                trade_durations.append(
                    {
                        "trade_type": {"name": name, "display_name": display},
                        "durations": _durations(offering),
                    }
                )
        for name, display, cats in _NO_EXPIRY:
            if any(c in spec0.categories for c in cats):
                trade_durations.append(
                    {
                        "trade_type": {"name": name, "display_name": display},
                        "durations": [
                            {"name": "no_expiry", "display_name": "No expiry", "min": 0, "max": 0}
                        ],
                    }
                )
        data = {
            "market": market,
            "submarket": submarket,
            "symbol": [{"name": sp.symbol, "display_name": sp.display_name} for sp in specs],
            "trade_durations": trade_durations,
        }
        items.append({"market": market, "submarket": submarket, "data": [data]})
    return {"msg_type": "trading_durations", "trading_durations": items}


def _batch_item(s: Session, tick: Tick) -> dict[str, Any]:
    feed = s.sim.market.feed(tick.symbol, tick.epoch)  # as of the tick: no advance
    spec = feed.spec
    day_ago = feed.ticks(0, tick.epoch - 86400, 1)[1] or [feed.quotes[0]]
    p = tick.payload()
    return {
        "ask": spec.fmt(p["ask"]),
        "bid": spec.fmt(p["bid"]),
        "change": f"{100 * (tick.quote / day_ago[0] - 1):.2f}",
        "epoch": tick.epoch,
        "quote": spec.fmt(tick.quote),
        "symbol": tick.symbol,
    }


def ticks_batch(s: Session, r: Request) -> Body:
    """The latest tick of every symbol of a market; streamed, one batch per second (the ticks
    of each second together)."""
    market = r.args["market"]
    specs = [spec for spec in SYMBOLS.values() if spec.market == market]
    now = s.sim.clock.now()  # one reading: the reply's ticks and the stream's start agree
    feeds = [s.sim.market.feed(spec.symbol, now) for spec in specs]
    latest = [feed.latest() for feed in feeds]
    body: Body = {"msg_type": "ticks_batch", "ticks_batch": [_batch_item(s, t) for t in latest]}
    if not wants_stream(r):
        return body
    stream = s.open_stream("ticks", ("ticks_batch", market), "ticks_batch", r)
    pending: dict[str, Tick] = {}
    second = [max((t.epoch for t in latest), default=0)]

    def on_tick(tick: Tick) -> None:
        if tick.epoch > second[0] and pending:
            stream.emit_list([_batch_item(s, t) for t in pending.values()])
            pending.clear()
        second[0] = max(second[0], tick.epoch)
        pending[tick.symbol] = tick

    for feed in feeds:
        feed.add_listener(on_tick)
        stream.on_close(functools.partial(feed.remove_listener, on_tick))
    body["subscription"] = {"id": stream.id}
    return body
