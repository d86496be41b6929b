"""The dashboard's pure parts: the watchlist model, formats, the picker's validator."""

from __future__ import annotations

import pytest

from derivkit.tui.formatting import change, percent
from derivkit.tui.screens.symbol_picker import KnownSymbol
from derivkit.tui.watchlist import HISTORY, SymbolInfo, Watchlist


def tick(watchlist: Watchlist, symbol: str, price: float, epoch: int, gaps: int = 0) -> bool:
    quote = watchlist.get(symbol)
    received = quote.received + 1 if quote else 1
    return watchlist.record(symbol, price, epoch=epoch, pip_size=2, received=received, gaps=gaps)


def test_duplicates_are_ignored_and_order_is_kept():
    watchlist = Watchlist(["R_100", "R_50", "R_100"])
    assert watchlist.symbols == ["R_100", "R_50"]
    assert watchlist.add("R_50") is None and watchlist.add("R_10") is not None
    assert watchlist.symbols == ["R_100", "R_50", "R_10"]


def test_change_since_open_and_direction():
    watchlist = Watchlist(["R_100"])
    for epoch, price in enumerate([100.0, 101.0, 99.5], start=1):
        assert tick(watchlist, "R_100", price, epoch)
    quote = watchlist.get("R_100")
    assert quote is not None
    assert (quote.open, quote.last, quote.previous) == (100.0, 99.5, 101.0)
    assert quote.change == pytest.approx(-0.5) and quote.change_pct == pytest.approx(-0.5)
    assert quote.direction == -1 and quote.received == 3
    assert list(quote.history) == [100.0, 101.0, 99.5]


def test_only_changed_quotes_are_taken_once_in_display_order():
    watchlist = Watchlist(["A", "B", "C"])
    watchlist.take_changed()
    tick(watchlist, "C", 1.0, 1)
    tick(watchlist, "A", 1.0, 1)
    assert [quote.symbol for quote in watchlist.take_changed()] == ["A", "C"]
    assert watchlist.take_changed() == []
    assert not tick(watchlist, "NOT_WATCHED", 1.0, 1)
    assert watchlist.take_changed() == []


def test_seeded_history_is_not_doubled_by_the_first_live_tick():
    watchlist = Watchlist(["R_100"])
    past = [float(n) for n in range(HISTORY + 30)]
    watchlist.seed("R_100", past, epoch=500, pip_size=2)
    quote = watchlist.get("R_100")
    assert quote is not None and list(quote.history) == past[-HISTORY:]
    tick(watchlist, "R_100", 149.0, 500)  # the stream starts with the current tick
    tick(watchlist, "R_100", 150.0, 502)
    assert list(quote.history)[-2:] == [149.0, 150.0] and len(quote.history) == HISTORY
    assert quote.open == 149.0 and quote.received == 2  # history counts as neither


def test_describe_and_gaps_survive_removal():
    watchlist = Watchlist(["R_100", "R_50"])
    watchlist.describe(SymbolInfo("R_50", "Volatility 50 Index", 4))
    quote = watchlist.get("R_50")
    assert quote is not None and quote.display_name == "Volatility 50 Index"
    assert quote.pip_size == 4
    tick(watchlist, "R_100", 1.0, 1, gaps=1)
    tick(watchlist, "R_50", 1.0, 1, gaps=2)
    assert watchlist.gaps == 3
    watchlist.remove("R_50")
    assert watchlist.gaps == 3 and "R_50" not in watchlist


def test_change_and_percent_formats():
    assert change(1.5, 3) == "+1.500" and change(-0.0049, 2) == "0.00" and change(None, 2) == "-"
    assert change(-0.0098, 4) == "-0.0098"
    assert percent(-1.234) == "-1.23%" and percent(0.001) == "0.00%" and percent(None) == "-"


def test_the_picker_validator():
    validator = KnownSymbol({"R_75": "Volatility 75 Index", "R_50": "Volatility 50"}, {"R_50"})
    assert validator.validate("r_75").is_valid and validator.canonical(" r_75 ") == "R_75"
    unknown = validator.validate("NOPE")
    assert not unknown.is_valid and "Unknown symbol 'NOPE'" in unknown.failure_descriptions[0]
    watched = validator.validate("R_50")
    assert not watched.is_valid and "already in the watchlist" in watched.failure_descriptions[0]
    assert not validator.validate("  ").is_valid
    without_list = KnownSymbol({}, set())  # the symbol list could not be loaded
    assert without_list.validate("ANY").is_valid and without_list.canonical("ANY") == "ANY"
