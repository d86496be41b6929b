"""Market commands against the embedded simulator (--sim), human and JSON."""

from __future__ import annotations

import json


def test_price_of_several_symbols(cli):
    result = cli("--sim", "price", "R_100", "R_50", "stpRNG")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split("\t") == ["Symbol", "Quote", "Time (UTC)"]
    quotes = {line.split("\t")[0]: line.split("\t")[1] for line in lines[1:]}
    assert set(quotes) == {"R_100", "R_50", "stpRNG"}
    assert len(quotes["R_100"].split(".")[1]) == 2  # pip size 2
    assert len(quotes["R_50"].split(".")[1]) == 4  # pip size 4


def test_price_json_is_stable_and_alone_on_stdout(cli):
    result = cli("--sim", "--json", "price", "R_100")
    assert result.exit_code == 0
    (row,) = json.loads(result.stdout)
    assert row["symbol"] == "R_100" and isinstance(row["quote"], float)
    assert row["pip_size"] == 2 and isinstance(row["epoch"], int)


def test_price_of_a_bad_symbol_fails_with_exit_1_and_one_line(cli):
    result = cli("--sim", "price", "NOPE")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.strip().splitlines() == [
        "Error: unknown symbol 'NOPE' (`derivkit symbols` lists them)"
    ]
    assert "Traceback" not in result.stderr


def test_price_with_one_bad_symbol_still_shows_the_good_ones(cli):
    result = cli("--sim", "--json", "price", "R_10", "NOPE")
    assert result.exit_code == 1
    assert [row["symbol"] for row in json.loads(result.stdout)] == ["R_10"]
    assert "NOPE" in result.stderr


def test_ticks_stops_after_count(cli):
    result = cli("--sim", "ticks", "1HZ100V", "--count", "3")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 3 and all("1HZ100V" in line for line in lines)


def test_ticks_json_lines(cli):
    result = cli("--sim", "ticks", "1HZ10V", "-n", "2", "--json")
    assert result.exit_code == 0
    ticks = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(ticks) == 2 and ticks[1]["epoch"] > ticks[0]["epoch"]
    assert {tick["symbol"] for tick in ticks} == {"1HZ10V"}


def test_ticks_of_a_bad_symbol(cli):
    result = cli("--sim", "ticks", "NOPE", "-n", "1")
    assert result.exit_code == 1 and "unknown symbol 'NOPE'" in result.stderr


def test_history_ticks_and_candles(cli):
    ticks = cli("--sim", "--json", "history", "R_100", "--count", "10")
    assert ticks.exit_code == 0
    rows = json.loads(ticks.stdout)
    assert len(rows) == 10 and all(row["epoch"] % 2 == 0 for row in rows)  # 2 s index
    candles = cli("--sim", "history", "R_100", "-n", "5", "--granularity", "60", "--json")
    assert candles.exit_code == 0
    rows = json.loads(candles.stdout)
    assert len(rows) == 5
    assert all(r["low"] <= min(r["open"], r["close"]) <= r["high"] for r in rows)
    human = cli("--sim", "history", "R_100", "-n", "3", "--granularity", "60")
    assert human.stdout.splitlines()[0].split("\t") == [
        "Time (UTC)",
        "Open",
        "High",
        "Low",
        "Close",
    ]
    r_50 = cli("--sim", "history", "R_50", "-n", "3", "--granularity", "60").stdout.splitlines()
    prices = [price for line in r_50[1:] for price in line.split("\t")[1:]]
    assert len(prices) == 12 and all(len(price.split(".")[1]) == 4 for price in prices)


def test_history_chart_draws_in_the_terminal(cli):
    result = cli("--sim", "history", "R_100", "-n", "50", "--chart")
    assert result.exit_code == 0, result.stderr
    assert "R_100: last 50 ticks" in result.stdout
    assert "┤" in result.stdout  # the y axis of the chart
    candles = cli("--sim", "history", "R_100", "-n", "30", "--granularity", "60", "--chart")
    assert candles.exit_code == 0 and "R_100: 30 candles" in candles.stdout


def test_history_rejects_a_granularity_the_api_does_not_allow(cli):
    result = cli("--sim", "history", "R_100", "--granularity", "61")
    assert result.exit_code == 2 and "61" not in result.stdout


def test_symbols_with_market_filter(cli):
    result = cli("--sim", "--json", "symbols", "--market", "synthetic_index")
    assert result.exit_code == 0
    symbols = {row["symbol"]: row for row in json.loads(result.stdout)}
    assert {"R_100", "1HZ100V", "stpRNG", "BOOM500", "JD10"} <= set(symbols)
    assert symbols["R_50"]["pip_size"] == 4
    none = cli("--sim", "symbols", "--market", "forex")
    assert none.exit_code == 0 and none.stdout == "" and "No symbols" in none.stderr


def test_contracts_for_a_symbol(cli):
    result = cli("--sim", "--json", "contracts", "R_100")
    assert result.exit_code == 0
    types = {row["contract_type"] for row in json.loads(result.stdout)}
    assert {"CALL", "PUT", "DIGITMATCH", "ONETOUCH"} <= types
    human = cli("--sim", "contracts", "R_100")
    assert "DIGITEVEN" in human.stdout
    assert "--multiplier 10,20,30,50,100; --cancellation 5m,10m,15m,30m,60m" in human.stdout


def test_contracts_gives_the_choices_of_each_products_options(cli):
    rows = json.loads(cli("--sim", "--json", "contracts", "R_100").stdout)
    by_type = {row["contract_type"]: row for row in rows}
    assert by_type["MULTUP"]["choices"]["multiplier"] == ["10", "20", "30", "50", "100"]
    assert by_type["ACCU"]["choices"] == {"growth_rate": ["0.01", "0.02", "0.03", "0.04", "0.05"]}
    assert len(by_type["TURBOSLONG"]["choices"]["barrier"]) == 20
    assert by_type["VANILLALONGCALL"]["choices"]["strike"]
    assert "choices" not in by_type["CALL"]  # the binary options take none


def test_status_human_and_json(cli):
    result = cli("--sim", "--json", "status")
    assert result.exit_code == 0
    status = json.loads(result.stdout)
    assert status["site_status"] == "up" and status["latency_ms"] >= 0
    assert "max_requests_outcome" in status["api_call_limits"]
    human = cli("--sim", "status")
    assert "Latency:" in human.stdout
    assert "Group\tApplies to\tPer minute\tPer hour" in human.stdout


def test_a_failed_command_under_json_leaves_stdout_empty(cli):
    result = cli("--sim", "--json", "price", "NOPE_XYZ")
    assert result.exit_code == 1 and result.stdout == ""
    assert "NOPE_XYZ" in result.stderr
    for args in (["ticks", "NOPE", "-n", "1"], ["history", "NOPE"], ["contracts", "NOPE"]):
        failed = cli("--sim", "--json", *args)
        assert failed.exit_code == 1 and failed.stdout == "", args


def test_contracts_json_names_match_the_api(cli):
    rows = json.loads(cli("--sim", "--json", "contracts", "R_100").stdout)
    assert {"contract_type", "contract_category", "barrier_category", "expiry_type"} <= set(rows[0])
    assert "barrier" not in rows[0]  # a barrier is a level (quote --barrier), not a category
