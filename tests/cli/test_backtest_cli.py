"""``derivkit backtest`` and ``history --csv``: the report's keys, a plot, a sweep, recorded ticks,
and errors before any work."""

from __future__ import annotations

import json

REPORT_KEYS = {
    "runs",
    "won",
    "lost",
    "win_rate",
    "profit",
    "max_drawdown",
    "longest_losing_streak",
    "max_stake",
    "ticks",
    "seconds",
}


def test_json_report_has_every_figure_and_repeats_for_a_seed(cli):
    args = ("--json", "backtest", "dalembert", "-s", "r_100", "--ticks", "3000", "--seed", "5")
    first = cli(*args)
    assert first.exit_code == 0, first.stderr
    report = json.loads(first.stdout)
    assert set(report) >= REPORT_KEYS
    assert report["symbol"] == "R_100" and report["ticks"] == 3000 and report["runs"] == 1000
    again = json.loads(cli(*args).stdout)
    assert {k: v for k, v in again.items() if k not in ("seconds", "contracts_per_second")} == {
        k: v for k, v in report.items() if k not in ("seconds", "contracts_per_second")
    }


def test_plot_writes_a_png(cli, tmp_path):
    picture = tmp_path / "equity.png"
    result = cli("backtest", "martingale", "--ticks", "900", "--plot", str(picture))
    assert result.exit_code == 0, result.stderr
    assert picture.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    runs_line = next(line for line in result.stdout.splitlines() if "Runs:" in line)
    assert runs_line.split()[1] == "300"


def test_sweep_reports_each_combination(cli):
    result = cli(
        "--json",
        "backtest",
        "martingale",
        "--ticks",
        "600",
        "--sweep",
        "multiplier=2,3",
        "--sweep",
        "max_stake=10,20",
    )
    assert result.exit_code == 0, result.stderr
    reports = json.loads(result.stdout)
    assert len(reports) == 4
    combos = {(r["params"]["multiplier"], r["params"]["max_stake"]) for r in reports}
    assert combos == {(2.0, 10.0), (2.0, 20.0), (3.0, 10.0), (3.0, 20.0)}


def test_history_csv_feeds_backtest_history(cli, sim, tmp_path):
    recorded = cli(*sim.args(), "history", "R_50", "-n", "900", "--csv")
    assert recorded.exit_code == 0, recorded.stderr
    lines = recorded.stdout.splitlines()
    assert lines[0] == "epoch,quote" and len(lines) == 901
    path = tmp_path / "r50.csv"
    path.write_text(recorded.stdout)
    result = cli("--json", "backtest", "flat", "-s", "R_50", "--history", str(path))
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["ticks"] == 900 and report["runs"] == 300
    quotes = [float(line.split(",")[1]) for line in lines[1:]]
    assert report["won"] == sum(quotes[3 * i + 2] > quotes[3 * i + 1] for i in range(300))


def test_errors_before_any_work(cli, tmp_path):
    unknown = cli("backtest", "martingale", "-s", "EURUSD")
    assert unknown.exit_code == 2 and "no symbol 'EURUSD'" in unknown.stderr
    assert cli("backtest", "martingale", "--sweep", "multiplier").exit_code == 2
    missing = cli("backtest", "flat", "--history", str(tmp_path / "none.csv"))
    assert missing.exit_code == 2 and "cannot read" in missing.stderr
