"""``derivkit stats`` arithmetic: journal entries grouped by day, ISO week and strategy."""

from __future__ import annotations

from datetime import UTC, datetime

from derivkit.storage import JournalEntry
from derivkit.storage.stats import summarize


def at(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


def entry(
    when: str, status: str = "settled", profit: float | None = None, **fields
) -> JournalEntry:
    values = {
        "loginid": "VRTC1",
        "is_virtual": True,
        "currency": "USD",
        "symbol": "R_100",
        "contract_type": "CALL",
        "stake": 2.0,
        "max_price": 2.0,
        "request": {},
        "status": status,
        "requested_at": at(when),
        "settled_at": at(when) + 15 if status == "settled" else None,
        "buy_price": 2.0,
        "profit": profit,
    }
    values.update(fields)
    return JournalEntry(**values)


ENTRIES = [
    entry("2026-11-29 23:59:50", profit=1.9),  # a Sunday; settles on Monday 30th (ISO week 49)
    entry("2026-11-30 10:00:00", profit=-2.0, origin="strategy", strategy="martingale"),
    entry("2026-11-30 11:00:00", profit=-2.0, origin="strategy", strategy="martingale"),
    entry("2026-11-30 12:00:00", status="failed"),
    entry("2026-12-01 09:00:00", profit=3.8, origin="strategy", strategy="dalembert"),
    entry("2026-12-01 09:30:00", status="bought", origin="strategy", strategy="dalembert"),
    entry("2026-12-01 09:40:00", status="unknown"),
    entry("2026-12-01 09:50:00", status="not_bought"),
]


def test_by_day_groups_by_the_settlement_day_and_leaves_refusals_out():
    rows = {row.group: row.as_dict() for row in summarize(ENTRIES, "day")}
    assert list(rows) == ["2026-11-30", "2026-12-01"]
    monday = rows["2026-11-30"]
    assert (monday["trades"], monday["won"], monday["lost"]) == (3, 1, 2)
    assert monday["profit"] == -2.1 and monday["staked"] == 6.0
    assert monday["best"] == 1.9 and monday["worst"] == -2.0
    assert monday["win_rate"] == round(1 / 3, 4)
    tuesday = rows["2026-12-01"]
    assert (tuesday["trades"], tuesday["open"], tuesday["unknown"]) == (1, 1, 1)


def test_by_week_uses_iso_weeks():
    rows = summarize(ENTRIES, "week")
    assert [(row.group, row.trades) for row in rows] == [("2026-W49", 4)]


def test_by_strategy_names_the_bot_and_each_strategy():
    rows = {row.group: row for row in summarize(ENTRIES, "strategy")}
    assert set(rows) == {"bot", "dalembert", "martingale"}
    assert rows["martingale"].profit == -4.0 and rows["martingale"].lost == 2
    assert rows["dalembert"].won == 1 and rows["dalembert"].open == 1
    assert rows["bot"].trades == 1 and rows["bot"].unknown == 1
