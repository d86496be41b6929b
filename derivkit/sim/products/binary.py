"""Binary options (win the payout or nothing): Rise/Fall (+ Equal), Higher/Lower, Touch/No
Touch, Ends/Stays between, digits, Asians, High/Low ticks, Only ups/downs.

Settlement (products doc §1.5): the entry tick is the first tick strictly after the purchase;
relative barriers are fixed on it. Rise/Fall, Higher/Lower and Touch exit on the N-th tick after
the entry, digits and Asians on the N-th counting the entry (a 1-tick digit contract settles on
its entry tick), High/Low ticks on the fifth, Only ups/downs after N ticks beyond the entry. Timed
contracts exit on the last tick at or before expiry. A touch counts when a tick reaches the
barrier (equality counts); Touch and Stays/Goes outside end at it, High/Low ticks and Only
ups/downs at the first tick that decides them.
"""

from __future__ import annotations

from typing import Any

from derivkit.sim import pricing as bp
from derivkit.sim.products.base import (
    RESALE_NOT_OFFERED,
    Context,
    Contract,
    Product,
    Quote,
)
from derivkit.sim.symbols import (
    ASIAN,
    CALLPUT,
    CALLPUTEQUAL,
    DIGITS,
    ENDSINOUT,
    HIGHLOWTICKS,
    RUNS,
    STAYSINOUT,
    TOUCH,
    SymbolSpec,
)

#: Symbols whose constant prices Deriv does not stream (proposal ``subscribe`` description).
SKIP_STREAMING_SYMBOLS = frozenset({"R_10", "R_25", "R_50", "R_75", "R_100", "RDBULL", "RDBEAR"})

_DISPLAY = {
    "CALL": ("Higher", "up"),
    "PUT": ("Lower", "down"),
    "CALLE": ("Higher", "up"),
    "PUTE": ("Lower", "down"),
    "ONETOUCH": ("Touches", "high_vol"),
    "NOTOUCH": ("Does Not Touch", "low_vol"),
    "EXPIRYRANGE": ("Ends Between", "low_vol"),
    "EXPIRYMISS": ("Ends Outside", "high_vol"),
    "RANGE": ("Stays Between", "low_vol"),
    "UPORDOWN": ("Goes Outside", "high_vol"),
    "DIGITMATCH": ("Digit Matches", "match"),
    "DIGITDIFF": ("Digit Differs", "differ"),
    "DIGITEVEN": ("Digit Even", "even"),
    "DIGITODD": ("Digit Odd", "odd"),
    "DIGITOVER": ("Digit Over", "over"),
    "DIGITUNDER": ("Digit Under", "under"),
    "ASIANU": ("Asian Up", "up"),
    "ASIAND": ("Asian Down", "down"),
    "TICKHIGH": ("High Tick", "high"),
    "TICKLOW": ("Low Tick", "low"),
    "RUNHIGH": ("Only Ups", "up"),
    "RUNLOW": ("Only Downs", "down"),
}
_CATEGORY_DISPLAY = {
    CALLPUT: "Up/Down",
    CALLPUTEQUAL: "Rise/Fall Equal",
    TOUCH: "Touch/No Touch",
    ENDSINOUT: "Ends Between/Ends Outside",
    STAYSINOUT: "Stays Between/Goes Outside",
    DIGITS: "Digits",
    ASIAN: "Asians",
    HIGHLOWTICKS: "High/Low Ticks",
    RUNS: "Only Ups/Only Downs",
}
_UNIT_NAMES = {"t": "ticks", "s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def _default_offset(spec: SymbolSpec) -> float:
    return max(spec.pip, round(spec.start_level * 0.0005, spec.pip_size))


class BinaryProduct(Product):
    contract_types = dict(bp.CATEGORY)

    def offered_on(self, spec: SymbolSpec, contract_type: str) -> bool:
        return bp.CATEGORY[contract_type] in spec.categories

    def parse(self, params: dict[str, Any], spec: SymbolSpec, ctx: Context) -> bp.Terms:
        return bp.parse_terms(params, spec, ctx.now, params["currency"])

    def quote(
        self, terms: bp.Terms, spec: SymbolSpec, spot: tuple[int, float], ctx: Context
    ) -> Quote:
        priced = bp.price(terms, spec, spot[1], ctx.now)
        details: dict[str, Any] = {}
        if terms.category in bp.TWO_BARRIERS:
            details["high_barrier"] = priced.barrier
            details["low_barrier"] = priced.barrier2
        elif priced.barrier is not None:
            details["barrier"] = priced.barrier
        expiry = None if terms.ticks is not None else terms.expiry(ctx.now)
        return Quote(
            ask_price=priced.ask_price,
            payout=priced.payout,
            longcode=bp.longcode(terms, spec),
            date_expiry=expiry,
            fields={"contract_details": details},
            constant=self.skips_streaming(terms, spec),
        )

    @staticmethod
    def skips_streaming(terms: bp.Terms, spec: SymbolSpec) -> bool:
        """Constant-price contracts that Deriv does not stream (products doc §1.7)."""
        if spec.symbol not in SKIP_STREAMING_SYMBOLS:
            return False
        if terms.category in (DIGITS, ASIAN, HIGHLOWTICKS):
            return True
        return terms.trade_type == "risefall" and terms.duration_unit != "d"

    def open(
        self,
        ids: tuple[int, int],
        terms: bp.Terms,
        spec: SymbolSpec,
        quote: Quote,
        spot: tuple[int, float],
        now: float,
    ) -> BinaryContract:
        code = bp.shortcode(terms, spec, quote.payout, int(now))
        return BinaryContract(ids, terms, spec, quote, spot, now, code)

    def offers(self, spec: SymbolSpec, ctx: Context) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        offset = _default_offset(spec)
        for ct, category in bp.CATEGORY.items():
            if category not in spec.categories:
                continue
            variants: list[tuple[str, int, str]] = []  # trade type, barriers, barrier category
            if category in (CALLPUT, CALLPUTEQUAL):
                variants.append(("risefall", 0, "euro_atm"))
                if category == CALLPUT:
                    variants.append(("higherlower", 1, "euro_non_atm"))
            elif category == TOUCH:
                variants.append(("touch", 1, "american"))
            elif category == ENDSINOUT:
                variants.append(("range", 2, "euro_non_atm"))
            elif category == STAYSINOUT:
                variants.append(("range", 2, "american"))
            elif category == DIGITS:
                variants.append(("digits", 0 if ct in ("DIGITEVEN", "DIGITODD") else 1, ""))
            elif category == ASIAN:
                variants.append(("asian", 0, "asian"))
            elif category == HIGHLOWTICKS:
                variants.append(("highlowticks", 0, "american"))
            else:
                variants.append(("runs", 1, "american"))
            for trade_type, barriers, barrier_category in variants:
                o = bp.OFFERINGS[trade_type]
                rows: list[tuple[str, str, str]] = []
                if o.ticks is not None:
                    rows.append(("tick", f"{o.ticks[0]}t", f"{o.ticks[1]}t"))
                if o.seconds is not None:
                    least = o.seconds[0]
                    shown = f"{least}s" if least < 60 else f"{least // 60}m"
                    rows.append(("intraday", shown, "1d"))
                if o.days is not None:
                    rows.append(("daily", f"{o.days[0]}d", f"{o.days[1]}d"))
                display, sentiment = _DISPLAY[ct]
                for expiry_type, lo, hi in rows:
                    item: dict[str, Any] = {
                        "contract_type": ct,
                        "contract_category": category,
                        "contract_category_display": _CATEGORY_DISPLAY[category],
                        "contract_display": display,
                        "barrier_category": barrier_category or "non_financial",
                        "barriers": barriers,
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
                    if barriers == 1 and category != DIGITS:
                        item["barrier"] = f"+{spec.fmt(offset)}"
                    elif barriers == 2:
                        item["high_barrier"] = f"+{spec.fmt(offset)}"
                        item["low_barrier"] = f"-{spec.fmt(offset)}"
                    if ct in bp.DIGIT_RANGES:
                        item["last_digit_range"] = list(bp.DIGIT_RANGES[ct])
                    out.append(item)
        return out


class BinaryContract(Contract):
    terms: bp.Terms

    """A binary option: pays ``payout`` if it wins, else nothing."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        terms = self.terms
        self.barrier: float | None = None
        self.barrier2: float | None = None
        self.touched = False
        self.asian_barrier: float | None = None
        if terms.ticks is not None:
            interval = self.spec.interval
            self.date_expiry = self.date_start + terms.settle_tick * interval
        else:
            self.date_expiry = terms.expiry(self.purchase_time)
        cat = terms.category
        self.barrier_count = (
            2 if cat in bp.TWO_BARRIERS else 0 if cat in bp.NO_BARRIER or self._digit_free() else 1
        )
        self.path_dependent = cat in (TOUCH, STAYSINOUT, HIGHLOWTICKS, RUNS)

    def _digit_free(self) -> bool:
        return self.terms.contract_type in ("DIGITEVEN", "DIGITODD")

    @property
    def barrier_text(self) -> str | None:
        if self.terms.barrier is not None and self.terms.barrier.kind == "digit":
            return self.terms.barrier.raw
        return None if self.barrier is None else self.spec.fmt(self.barrier)

    # -- lifecycle -----------------------------------------------------------------------------
    def on_entry(self, epoch: int, quote: float) -> bool:
        terms, nd = self.terms, self.spec.pip_size
        b = terms.barrier_price(quote)
        self.barrier = None if b is None else round(b, nd)
        b2 = terms.barrier2_price(quote)
        self.barrier2 = None if b2 is None else round(b2, nd)
        if terms.barrier_kind == "absolute" and self._touches(quote):
            return self._settle((epoch, quote))
        return self._progress(epoch, quote)

    def on_next(self, epoch: int, quote: float) -> bool:
        terms = self.terms
        if terms.ticks is None and epoch > self.date_expiry:
            # Settle on the last tick at or before expiry; this tick is past it.
            self.ticks.pop()
            self.current = self.ticks[-1]
            return self._settle(self.ticks[-1])
        if self._touches(quote):
            return self._settle((epoch, quote))
        cat = terms.category
        if cat == HIGHLOWTICKS and self._tick_beaten():
            return self._settle((epoch, quote))
        if cat == RUNS and not self._still_running():
            return self._settle((epoch, quote))
        return self._progress(epoch, quote)

    def _progress(self, epoch: int, quote: float) -> bool:
        terms = self.terms
        if terms.ticks is not None:
            if len(self.ticks) >= terms.settle_tick:
                return self._settle((epoch, quote))
            return False
        if epoch >= self.date_expiry:
            return self._settle((epoch, quote))
        return False

    def _touches(self, quote: float) -> bool:
        """Whether this tick touches a barrier of a path-dependent contract (and so ends it)."""
        cat = self.terms.category
        if cat not in (TOUCH, STAYSINOUT) or self.barrier is None or self.entry is None:
            return False
        nd = self.spec.pip_size
        q = round(quote, nd)
        if cat == TOUCH:
            up = self.barrier > self.entry[1] or (
                len(self.ticks) == 1 and self.barrier >= self.entry[1]
            )
            hit = q >= self.barrier if up else q <= self.barrier
        else:
            assert self.barrier2 is not None
            hit = q >= self.barrier or q <= self.barrier2
        if hit:
            self.touched = True
        return hit

    def _tick_beaten(self) -> bool:
        k = self.terms.selected_tick or 1
        if len(self.ticks) < k:
            return False
        sign = 1 if self.terms.contract_type == "TICKHIGH" else -1
        target = sign * self.ticks[k - 1][1]
        return any(sign * q > target for _, q in self.ticks)

    def _still_running(self) -> bool:
        up = self.terms.contract_type == "RUNHIGH"
        qs = [q for _, q in self.ticks]
        return all((b > a) if up else (b < a) for a, b in zip(qs, qs[1:], strict=False))

    def _settle(self, exit_tick: tuple[int, float]) -> bool:
        won = self._won(exit_tick[1])
        if (
            self.terms.ticks is not None
            or self.touched
            or self.terms.category
            in (
                HIGHLOWTICKS,
                RUNS,
            )
        ):
            self.date_expiry = exit_tick[0]
        return self.close("won" if won else "lost", self.payout if won else 0.0, exit_tick)

    def _won(self, q: float) -> bool:
        terms, ct, cat = self.terms, self.terms.contract_type, self.terms.category
        if cat == DIGITS:
            d = int(self.spec.fmt(q)[-1])
            target = terms.digit()
            return {
                "DIGITMATCH": d == target,
                "DIGITDIFF": d != target,
                "DIGITOVER": d > target,
                "DIGITUNDER": d < target,
                "DIGITEVEN": d % 2 == 0,
                "DIGITODD": d % 2 == 1,
            }[ct]
        if cat == TOUCH:
            return self.touched == (ct == "ONETOUCH")
        if cat == STAYSINOUT:
            return self.touched == (ct == "UPORDOWN")
        if cat == ASIAN:
            n = terms.duration
            avg = sum(x for _, x in self.ticks[:n]) / n
            self.asian_barrier = round(avg, self.spec.pip_size + 1)
            return q > self.asian_barrier if ct == "ASIANU" else q < self.asian_barrier
        if cat == HIGHLOWTICKS:
            return len(self.ticks) >= 5 and not self._tick_beaten()
        if cat == RUNS:
            return self._still_running()
        assert self.barrier is not None
        if cat == ENDSINOUT:
            assert self.barrier2 is not None
            inside = self.barrier2 < q < self.barrier
            return inside if ct == "EXPIRYRANGE" else (q <= self.barrier2 or q >= self.barrier)
        return {
            "CALL": q > self.barrier,
            "PUT": q < self.barrier,
            "CALLE": q >= self.barrier,
            "PUTE": q <= self.barrier,
        }[ct]

    # -- valuation -----------------------------------------------------------------------------
    def remaining_ticks(self, now: float) -> float:
        terms = self.terms
        if self.entry is None:
            return bp.horizon_ticks(terms, self.spec, now)
        if terms.ticks is not None:
            return float(terms.settle_tick - len(self.ticks))
        return max(0.0, (self.date_expiry - self.current[0]) / self.spec.interval)

    def bid_price(self, now: float) -> float:
        if self.closed:
            return float(self.sell_price or 0.0)
        terms, spot = self.terms, self.current[1]
        if self.entry is not None:
            barrier, barrier2 = self.barrier, self.barrier2
        else:
            barrier, barrier2 = terms.barrier_price(spot), terms.barrier2_price(spot)
        seen = [q for _, q in self.ticks]
        p = bp.win_probability(
            terms, self.spec, spot, barrier, self.remaining_ticks(now), barrier2, seen
        )
        return round(self.payout * bp.bid_probability(p, terms), 2)

    def sell_error(self, now: float) -> str | None:
        reason = super().sell_error(now)
        if reason is None and self.terms.ticks is not None:
            return RESALE_NOT_OFFERED
        return reason

    # -- reports -------------------------------------------------------------------------------
    def duration_type(self) -> str:
        return _UNIT_NAMES.get(self.terms.duration_unit, "seconds")

    def tick_stream(self) -> list[tuple[int, float]] | None:
        return self.ticks if self.terms.ticks is not None else None

    def extras(self, now: float) -> dict[str, Any]:
        terms, spec = self.terms, self.spec
        out: dict[str, Any] = {}
        if terms.ticks is not None:
            out["tick_count"] = terms.ticks
        if terms.barrier is not None and terms.barrier.kind == "digit":
            out["barrier"] = terms.barrier.raw
        elif terms.category in bp.TWO_BARRIERS:
            if self.barrier is not None and self.barrier2 is not None:
                out["high_barrier"] = spec.fmt(self.barrier)
                out["low_barrier"] = spec.fmt(self.barrier2)
        elif self.barrier is not None:
            out["barrier"] = spec.fmt(self.barrier)
        if terms.category == ASIAN and self.asian_barrier is not None:
            out["barrier"] = f"{self.asian_barrier:.{spec.pip_size + 1}f}"
        if terms.category == HIGHLOWTICKS:
            out["selected_tick"] = terms.selected_tick
            k = terms.selected_tick or 1
            if len(self.ticks) >= k:
                out["selected_spot"] = self.ticks[k - 1][1]
        return out
