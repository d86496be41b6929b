"""Reply parsing: derivkit's validating ``from_dict`` vs the unvalidated one before it vs msgspec.

    .venv/bin/python benchmarks/bench_models.py [--rounds 200000] [--no-write]

Three ways to turn one decoded payload into a typed object, timed side by side in one process
(median of 3 runs each, parses per second):

* ``derivkit``: the models as shipped (every named field checked against its type);
* ``unchecked (before)``: the same models built the way they were before issue 13 (values copied
  as they came, ``_float`` on the numeric ones), reconstructed here for the comparison;
* ``msgspec``: ``msgspec.convert(payload, Struct, strict=False)`` into an equivalent
  ``msgspec.Struct`` (which validates too, but keeps no ``raw`` payload and reads no aliases).

The payloads are a tick and a multiplier's ``proposal_open_contract`` as the simulator sends
them. Writes the ``bench-models`` section of RESULTS.md.
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import msgspec
from results import machine_line, write_section

from derivkit.core.contracts import MultiplierContract
from derivkit.core.models import Tick

TICK = {
    "ask": 1417.66,
    "bid": 1417.64,
    "epoch": 1700000000,
    "id": "b4d42748-0744-c46b-f59b-cb7dd936bafa",
    "pip_size": 2,
    "quote": 1417.65,
    "symbol": "R_100",
}
POC = {
    "contract_id": 250000000008,
    "contract_type": "MULTUP",
    "underlying": "R_100",
    "currency": "USD",
    "status": "open",
    "buy_price": 10,
    "bid_price": 9.73,
    "payout": 0,
    "profit": -0.27,
    "profit_percentage": -2.7,
    "is_sold": 0,
    "is_expired": 0,
    "is_valid_to_sell": 1,
    "entry_tick": 1417.65,
    "current_spot": 1417.1,
    "current_spot_time": 1700000010,
    "date_start": 1700000000,
    "longcode": "Win 100x ...",
    "shortcode": "MULTUP_R_100_10.00_100_1700000000_4853548799_0_0.00_N1",
    "multiplier": 100,
    "commission": "0.13",
    "limit_order": {
        "stop_out": {"display_name": "Stop out", "order_amount": "-10.00", "value": "1403.60"}
    },
    "is_valid_to_update": {"take_profit": 1, "stop_loss": 1},
}


class TickStruct(msgspec.Struct):
    symbol: str = ""
    epoch: int = 0
    quote: float = 0.0
    pip_size: int | None = None
    ask: float | None = None
    bid: float | None = None
    id: str | None = None


class OrderStruct(msgspec.Struct):
    display_name: str = ""
    order_amount: float | None = None
    value: float | None = None


class LimitsStruct(msgspec.Struct):
    stop_out: OrderStruct | None = None
    take_profit: OrderStruct | None = None
    stop_loss: OrderStruct | None = None


class PocStruct(msgspec.Struct):
    contract_id: int = 0
    contract_type: str = ""
    underlying: str = ""
    currency: str = ""
    status: str | None = None
    buy_price: float = 0.0
    bid_price: float | None = None
    payout: float = 0.0
    profit: float = 0.0
    profit_percentage: float | None = None
    is_sold: int = 0
    is_expired: int = 0
    is_valid_to_sell: int = 0
    entry_tick: float | None = None
    current_spot: float | None = None
    current_spot_time: int | None = None
    date_start: int | None = None
    longcode: str = ""
    shortcode: str = ""
    multiplier: float | None = None
    commission: float | None = None
    limit_order: LimitsStruct | None = None


def _loose_float(value: Any) -> float | None:
    if value is None or value == "":
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def unchecked(model: Any) -> Callable[[dict[str, Any]], Any]:
    """``model.from_dict`` as it was before issue 13: no type checks."""

    def build(data: dict[str, Any]) -> Any:
        values: dict[str, Any] = {}
        for item in dataclasses.fields(model):
            derive = model._derived.get(item.name)
            if derive is not None:
                values[item.name] = derive(data)
                continue
            if item.name == "raw" or item.name not in data:
                continue
            value = data[item.name]
            values[item.name] = _loose_float(value) if item.name in model._floats else value
        return model(**values, raw=dict(data))

    return build


def rate(parse: Callable[[dict[str, Any]], Any], payload: dict[str, Any], rounds: int) -> float:
    started = time.perf_counter()
    for _ in range(rounds):
        parse(payload)
    return rounds / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=200_000)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    cases = {
        "tick": (
            TICK,
            {
                "derivkit": Tick.from_dict,
                "unchecked (before)": unchecked(Tick),
                "msgspec": lambda d: msgspec.convert(d, TickStruct, strict=False),
            },
        ),
        "proposal_open_contract (multiplier)": (
            POC,
            {
                "derivkit": MultiplierContract.from_dict,
                "unchecked (before)": unchecked(MultiplierContract),
                "msgspec": lambda d: msgspec.convert(d, PocStruct, strict=False),
            },
        ),
    }
    rows = []
    for case, (payload, parsers) in cases.items():
        medians = {}
        for name, parse in parsers.items():
            parse(payload)
            medians[name] = statistics.median(rate(parse, payload, args.rounds) for _ in range(3))
        base = medians["derivkit"]
        for name, value in medians.items():
            rows.append(f"| {case} | {name} | {value:,.0f} | {value / base:.2f}x |")
            print(rows[-1])
    section = "\n".join(
        [
            "## Reply parsing (`bench_models.py`)",
            "",
            f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC; {machine_line()}; msgspec "
            f"{msgspec.__version__}; `python benchmarks/bench_models.py --rounds {args.rounds}`"
            " (parses per second, median of 3 runs, one process).",
            "",
            "| payload | parser | parses/s | vs derivkit |",
            "| --- | --- | ---: | ---: |",
            *rows,
        ]
    )
    if not args.no_write:
        write_section("bench-models", section)


if __name__ == "__main__":
    main()
