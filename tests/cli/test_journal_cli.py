"""The trade journal on the command line: a strategy run's trades in ``journal`` (tagged with the
strategy and run) and in ``stats``; ``--csv`` on ``statement``, ``profit`` and ``journal``."""

from __future__ import annotations

import csv
import io
import json


def csv_rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_a_runs_trades_land_in_the_journal_and_its_stats(cli, sim):
    result = cli(*sim.args(), "--json", "run", "flat", "-s", "1HZ100V", "-p", "max_runs=3")
    assert result.exit_code == 0, result.stderr
    events = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    settled = {e["contract_id"]: e["profit"] for e in events if e["event"] == "settled"}
    assert len(settled) == 3

    journal = cli("journal", "--csv")
    assert journal.exit_code == 0, journal.stderr
    rows = csv_rows(journal.stdout)
    assert {int(row["contract_id"]): float(row["profit"]) for row in rows} == settled
    assert {(row["origin"], row["strategy"], row["status"]) for row in rows} == {
        ("strategy", "flat", "settled")
    }
    (run_id,) = {row["run_id"] for row in rows}
    assert cli("journal", "--run", run_id, "--csv").stdout == journal.stdout
    assert csv_rows(cli("journal", "--run", "another", "--csv").stdout) == []

    stats = cli("--json", "stats", "--by", "strategy")
    assert stats.exit_code == 0, stats.stderr
    (row,) = json.loads(stats.stdout)
    assert row["group"] == "flat" and row["trades"] == 3
    assert row["won"] + row["lost"] == 3
    assert row["profit"] == round(sum(settled.values()), 2)


def test_stats_refuses_an_unknown_grouping(cli):
    result = cli("stats", "--by", "month")
    assert result.exit_code == 2 and "day, week, strategy" in result.stderr


def test_an_unreadable_database_is_a_clear_error_without_its_password(cli):
    result = cli("journal", "--database", "postgresql+nosuchdriver://me:s3cret@localhost/x")
    assert result.exit_code == 2
    assert "cannot open the trade journal" in result.stderr and "s3cret" not in result.stderr


def test_statement_and_profit_export_csv(cli, sim):
    sim.call(lambda: sim.simulator.faults.pause_symbol("1HZ100V"))  # it stays open: one row
    bought = cli(*sim.args(), "buy", "1HZ100V", "--type", "CALL", "-d", "3t", "--yes")
    assert bought.exit_code == 0, bought.stderr
    statement = csv_rows(cli(*sim.args(), "statement", "--csv").stdout)
    assert [row["action"] for row in statement] == ["buy"]
    assert float(statement[0]["amount"]) < 0
    json_rows = json.loads(cli(*sim.args(), "--json", "statement").stdout)
    assert [row["transaction_id"] for row in json_rows] == [
        int(row["transaction_id"]) for row in statement
    ]
    profit = cli(*sim.args(), "profit", "--csv")
    assert profit.exit_code == 0 and profit.stdout.startswith("contract_id,contract_type,")
