"""The simulator's symbol catalogue: names, markets, pip sizes, tick intervals and price models.

Immutable module data; importing it has no side effects.
"""

from __future__ import annotations

from dataclasses import dataclass

from derivkit.sim.models import GBM, CrashBoom, Jump, PriceModel, Step

# contracts_for categories (products doc §7).
CALLPUT = "callput"
CALLPUTEQUAL = "callputequal"
TOUCH = "touchnotouch"
ENDSINOUT = "endsinout"
STAYSINOUT = "staysinout"
DIGITS = "digits"
ASIAN = "asian"
HIGHLOWTICKS = "highlowticks"
RUNS = "runs"
MULTIPLIER = "multiplier"
ACCUMULATOR = "accumulator"
TURBOS = "turbos"
VANILLA = "vanilla"


@dataclass(frozen=True)
class SymbolSpec:
    """One underlying. ``pip_size`` is the number of decimals of a quote."""

    symbol: str
    display_name: str
    submarket: str
    submarket_display_name: str
    pip_size: int
    interval: int
    start_level: float
    model: PriceModel
    categories: tuple[str, ...]
    display_order: int
    daily_reset: bool = False
    market: str = "synthetic_index"
    market_display_name: str = "Derived"
    subgroup: str = "synthetics"
    subgroup_display_name: str = "Synthetics"

    @property
    def is_volatility(self) -> bool:
        """A Volatility index (``R_*``, ``1HZ*V``): the symbols deal cancellation, accumulators,
        turbos and vanillas are offered on."""
        return self.submarket == "random_index"

    @property
    def sigma(self) -> float:
        """Nominal annual volatility of the index's model."""
        return float(getattr(self.model, "sigma", 0.0))

    @property
    def pip(self) -> float:
        return float(10.0**-self.pip_size)

    def fmt(self, price: float) -> str:
        """A price formatted to this symbol's pip size."""
        return f"{price:.{self.pip_size}f}"


def _build() -> dict[str, SymbolSpec]:
    specs: list[SymbolSpec] = []
    order = 0

    def add(**kw: object) -> None:
        nonlocal order
        order += 1
        specs.append(SymbolSpec(display_order=order, **kw))  # type: ignore[arg-type]

    volatility = (
        CALLPUT,
        CALLPUTEQUAL,
        TOUCH,
        ENDSINOUT,
        STAYSINOUT,
        DIGITS,
        ASIAN,
        HIGHLOWTICKS,
        RUNS,
        MULTIPLIER,
        ACCUMULATOR,
        TURBOS,
        VANILLA,
    )
    vol_pips = {10: 3, 25: 3, 50: 4, 75: 4, 100: 2}
    vol_levels = {10: 6300.0, 25: 2800.0, 50: 218.0, 75: 48000.0, 100: 1417.0}
    for n in (10, 25, 50, 75, 100):
        add(
            symbol=f"R_{n}",
            display_name=f"Volatility {n} Index",
            submarket="random_index",
            submarket_display_name="Continuous Indices",
            pip_size=vol_pips[n],
            interval=2,
            start_level=vol_levels[n],
            model=GBM(sigma=n / 100, interval=2),
            categories=volatility,
        )
    for n in (10, 25, 50, 75, 100):
        add(
            symbol=f"1HZ{n}V",
            display_name=f"Volatility {n} (1s) Index",
            submarket="random_index",
            submarket_display_name="Continuous Indices",
            pip_size=2,
            interval=1,
            start_level={10: 9100.0, 25: 6900.0, 50: 2600.0, 75: 5200.0, 100: 1650.0}[n],
            model=GBM(sigma=n / 100, interval=1),
            categories=volatility,
        )
    for kind, boom in (("Boom", True), ("Crash", False)):
        for n in (500, 1000):
            add(
                symbol=f"{kind.upper()}{n}",
                display_name=f"{kind} {n} Index",
                submarket="crash_index",
                submarket_display_name="Crash/Boom Indices",
                pip_size=3,
                interval=1,
                start_level=6000.0 if boom else 9000.0,
                model=CrashBoom(n=n, boom=boom),
                categories=(CALLPUT, TOUCH, MULTIPLIER),
            )
    for n in (10, 25, 50, 75, 100):
        add(
            symbol=f"JD{n}",
            display_name=f"Jump {n} Index",
            submarket="jump_index",
            submarket_display_name="Jump Indices",
            pip_size=2,
            interval=1,
            start_level=float(10000 + 1000 * n // 10),
            model=Jump(sigma=n / 100),
            categories=(CALLPUT, CALLPUTEQUAL, TOUCH, DIGITS, MULTIPLIER),
        )
    add(
        symbol="stpRNG",
        display_name="Step Index",
        submarket="step_index",
        submarket_display_name="Step Indices",
        pip_size=1,
        interval=1,
        start_level=8000.0,
        model=Step(size=0.1, decimals=1),
        # Every step flips the last digit's parity, so Deriv offers no digit contracts here.
        categories=(CALLPUT, CALLPUTEQUAL, TOUCH, MULTIPLIER),
    )
    add(
        symbol="RDBULL",
        display_name="Bull Market Index",
        submarket="random_daily",
        submarket_display_name="Daily Reset Indices",
        pip_size=4,
        interval=2,
        start_level=1000.0,
        model=GBM(sigma=1.75, interval=2, drift=35.0),
        categories=(CALLPUT, CALLPUTEQUAL, TOUCH),
        daily_reset=True,
    )
    add(
        symbol="RDBEAR",
        display_name="Bear Market Index",
        submarket="random_daily",
        submarket_display_name="Daily Reset Indices",
        pip_size=4,
        interval=2,
        start_level=1000.0,
        model=GBM(sigma=1.55, interval=2, drift=-20.0),
        categories=(CALLPUT, CALLPUTEQUAL, TOUCH),
        daily_reset=True,
    )
    return {s.symbol: s for s in specs}


#: Every simulated symbol, in display order.
SYMBOLS: dict[str, SymbolSpec] = _build()
