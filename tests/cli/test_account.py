"""Account and trading commands against a simulator the test keeps a handle on."""

from __future__ import annotations

import json

import pytest

from derivkit.cli import trade
from tests.cli.conftest import REAL_TOKEN


def invoke_json(cli, sim, *args, token=None):
    result = cli(*sim.args(token), "--json", *args)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def test_balance_human_and_json(cli):
    human = cli("--sim", "balance")
    assert human.exit_code == 0
    assert human.stdout.startswith("10,000.00 USD") and "VRTC" in human.stdout
    data = json.loads(cli("--sim", "balance", "--json").stdout)
    assert data["balance"] == 10000 and data["currency"] == "USD"


def test_account_command_without_a_token_exits_4(cli):
    result = cli("balance")
    assert result.exit_code == 4
    assert "needs an API token" in result.stderr and result.stdout == ""


def test_bad_token_exits_4_and_is_never_echoed(cli, sim):
    result = cli("--endpoint", sim.url, "--token", "wrong-token-5555", "balance")
    assert result.exit_code == 4
    assert "InvalidToken" in result.stderr
    assert "wrong-token-5555" not in result.stderr + result.stdout


def test_unreachable_endpoint_exits_3(cli):
    result = cli("--endpoint", "ws://127.0.0.1:9/websockets/v3", "price", "R_100")
    assert result.exit_code == 3 and "Error:" in result.stderr


def test_quote_shows_payout_and_long_description(cli):
    human = cli("--sim", "quote", "R_100", "--type", "CALL", "--stake", "10", "--duration", "5t")
    assert human.exit_code == 0, human.stderr
    assert "Payout:" in human.stdout and "Win payout if" in human.stdout
    data = json.loads(
        cli(
            "--sim", "--json", "quote", "R_10", "-t", "DIGITMATCH", "-d", "1t", "--barrier", "5"
        ).stdout
    )
    assert data["contract_type"] == "DIGITMATCH" and data["payout"] > data["ask_price"] * 5


def test_quote_with_bad_input(cli):
    bad_duration = cli("--sim", "quote", "R_100", "--type", "CALL", "--duration", "5x")
    assert bad_duration.exit_code == 2 and "not a duration" in bad_duration.stderr
    bad_type = cli("--sim", "quote", "R_100", "--type", "NOPE")
    assert bad_type.exit_code == 2
    assert bad_type.stderr.startswith("Error: unknown contract type 'NOPE'; one of: CALL, PUT,")
    assert "DIGITUNDER" in bad_type.stderr


def test_trading_lifecycle_buy_watch_profit_statement(cli, sim):
    bought = invoke_json(cli, sim, "buy", "1HZ100V", "--type", "CALL", "-d", "3t", "--yes")
    contract_id = bought["contract_id"]
    assert bought["balance_after"] == pytest.approx(10000 - bought["buy_price"])
    portfolio = invoke_json(cli, sim, "portfolio")
    assert [c["contract_id"] for c in portfolio] == [contract_id]
    updates = cli(*sim.args(), "--json", "contract", str(contract_id), "--watch")
    assert updates.exit_code == 0, updates.stderr
    lines = [json.loads(line) for line in updates.stdout.splitlines()]
    assert lines[-1]["is_sold"] and all(not line["is_sold"] for line in lines[:-1])
    assert {line["symbol"] for line in lines} == {"1HZ100V"}  # "symbol", as in every command
    final = lines[-1]
    assert invoke_json(cli, sim, "portfolio") == []
    (closed,) = invoke_json(cli, sim, "profit")
    assert closed["contract_id"] == contract_id
    assert closed["profit"] == pytest.approx(final["profit"])
    statement = invoke_json(cli, sim, "statement")
    assert [entry["action"] for entry in statement] == ["sell", "buy"]
    assert statement[1]["longcode"] == bought["longcode"]  # one name for one concept
    assert statement[1]["transaction_time"] == bought["purchase_time"]
    balance = invoke_json(cli, sim, "balance")["balance"]
    assert balance == pytest.approx(10000 + closed["profit"])


def test_contract_once_shows_its_state(cli, sim):
    bought = invoke_json(cli, sim, "buy", "R_100", "--type", "PUT", "-d", "5m", "--yes")
    state = invoke_json(cli, sim, "contract", str(bought["contract_id"]))
    assert state["contract_id"] == bought["contract_id"] and not state["is_sold"]
    human = cli(*sim.args(), "contract", str(bought["contract_id"]))
    assert str(bought["contract_id"]) in human.stdout and "bid" in human.stdout


def test_sell_before_expiry(cli, sim):
    bought = invoke_json(cli, sim, "buy", "R_100", "--type", "CALL", "-d", "10m", "--yes")
    for _ in range(100):  # a contract can be sold once its entry tick exists
        if invoke_json(cli, sim, "contract", str(bought["contract_id"]))["entry_tick"]:
            break
    sold = invoke_json(cli, sim, "sell", str(bought["contract_id"]))
    assert sold["contract_id"] == bought["contract_id"] and sold["sell_price"] >= 0
    again = cli(*sim.args(), "sell", str(bought["contract_id"]))
    assert again.exit_code == 1 and "Error:" in again.stderr


def test_buy_refuses_without_confirmation_when_not_interactive(cli, sim):
    result = cli(*sim.args(), "buy", "R_100", "--type", "CALL")
    assert result.exit_code == 2 and "confirmation" in result.stderr
    assert invoke_json(cli, sim, "portfolio") == []


def test_buy_asks_and_a_no_buys_nothing(cli, sim, monkeypatch):
    monkeypatch.setattr(trade, "interactive", lambda: True)
    declined = cli(*sim.args(), "buy", "R_100", "--type", "CALL", input="n\n")
    assert declined.exit_code == 0 and "Nothing bought" in declined.stderr
    assert invoke_json(cli, sim, "portfolio") == []
    accepted = cli(*sim.args(), "buy", "R_100", "--type", "CALL", "-d", "5m", input="y\n")
    assert accepted.exit_code == 0 and "Bought contract" in accepted.stdout
    assert len(invoke_json(cli, sim, "portfolio")) == 1


def test_max_stake_guard(cli, sim):
    result = cli(
        *sim.args(), "buy", "R_100", "--type", "CALL", "--stake", "20", "--max-stake", "5", "--yes"
    )
    assert result.exit_code == 1 and "max-stake" in result.stderr
    assert invoke_json(cli, sim, "statement") == []


def test_real_money_account_is_refused_unless_confirmed(cli, sim):
    refused = cli(*sim.args(REAL_TOKEN), "buy", "R_100", "--type", "CALL", "--yes")
    assert refused.exit_code == 2 and "real-money" in refused.stderr
    assert invoke_json(cli, sim, "portfolio", token=REAL_TOKEN) == []
    allowed = cli(
        *sim.args(REAL_TOKEN), "buy", "R_100", "-t", "CALL", "-d", "5m", "--yes", "--real-money"
    )
    assert allowed.exit_code == 0, allowed.stderr


def test_insufficient_balance_is_an_api_error(cli, sim):
    result = cli(*sim.args(), "buy", "R_100", "--type", "CALL", "--stake", "15000", "--yes")
    assert result.exit_code == 1 and "InsufficientBalance" in result.stderr


def test_statement_and_profit_empty_and_limits(cli):
    assert cli("--sim", "--json", "statement").stdout.strip() == "[]"
    assert cli("--sim", "--json", "profit", "--count", "5").stdout.strip() == "[]"
    assert cli("--sim", "statement", "--count", "0").exit_code == 2
    assert cli("--sim", "--json", "profit", "--limit", "5").exit_code == 0  # the old name
    assert "--limit" not in cli("statement", "--help").stdout


def test_count_takes_effect_under_both_names(cli, sim):
    for _ in range(3):
        invoke_json(cli, sim, "buy", "R_100", "--type", "CALL", "-d", "10m", "--yes")
    assert len(invoke_json(cli, sim, "statement", "--count", "2")) == 2
    assert len(invoke_json(cli, sim, "statement", "--limit", "1")) == 1


def test_quote_spot_has_the_symbol_decimals(cli):
    for symbol, decimals in (("R_50", 4), ("R_100", 2), ("1HZ100V", 2)):
        result = cli("--sim", "quote", symbol, "--type", "CALL")
        spot_line = next(line for line in result.stdout.splitlines() if "Spot:" in line)
        assert len(spot_line.split()[1].split(".")[1]) == decimals, spot_line


def test_quote_text_pads_the_spot_to_the_pip_size():
    from types import SimpleNamespace

    from derivkit.formatting import contract_spec

    spec = contract_spec("R_50", "CALL", 10, "5t")
    proposal = SimpleNamespace(
        ask_price=10.0, payout=19.5, spot=221.58, spot_time=1, longcode="Win payout if ..."
    )
    assert "Spot:    221.5800  at" in trade.quote_text(spec, proposal, 4)


def test_piped_statement_keeps_whole_descriptions(cli, sim):
    bought = invoke_json(cli, sim, "buy", "R_100", "--type", "PUT", "-d", "10m", "--yes")
    lines = cli(*sim.args(), "statement").stdout.splitlines()
    assert lines[0].split("\t")[-1] == "Description"
    assert lines[1].split("\t")[-1] == bought["longcode"] and len(bought["longcode"]) > 60


def test_buy_under_sim_says_how_to_keep_a_simulator(cli):
    result = cli("--sim", "buy", "R_100", "--type", "CALL", "--yes")
    assert result.exit_code == 0 and result.stdout.startswith("Bought contract")
    assert "--watch" not in result.output  # that contract ends with this simulator
    assert "derivkit sim serve --token" in result.stderr and "--endpoint" in result.stderr


def test_buy_on_a_lasting_server_says_how_to_follow_it(cli, sim):
    result = cli(*sim.args(), "buy", "R_100", "--type", "CALL", "-d", "5m", "--yes")
    contract_id = result.stdout.split()[2]
    assert f"derivkit contract {contract_id} --watch" in result.stderr


def test_human_account_views_after_trading(cli, sim):
    # The 10-minute contract is bought first: the 1-tick one may settle at any moment after its
    # buy, so buying it last keeps the statement's order (sell, buy, buy) independent of timing.
    held = invoke_json(cli, sim, "buy", "R_100", "--type", "PUT", "-d", "10m", "--yes")
    bought = invoke_json(cli, sim, "buy", "1HZ100V", "--type", "CALL", "-d", "1t", "--yes")
    watch = cli(*sim.args(), "contract", str(bought["contract_id"]), "--watch")
    assert watch.exit_code == 0 and watch.stdout.strip().splitlines()[-1].count("profit") == 1
    portfolio = cli(*sim.args(), "portfolio").stdout.splitlines()
    assert portfolio[0].startswith("Contract\tType\tSymbol")
    assert [line.split("\t")[0] for line in portfolio[1:]] == [str(held["contract_id"])]
    statement = cli(*sim.args(), "statement").stdout.splitlines()
    assert [line.split("\t")[1] for line in statement[1:]] == ["sell", "buy", "buy"]
    profit = cli(*sim.args(), "profit")
    assert profit.stdout.splitlines()[1].split("\t")[0] == str(bought["contract_id"])
    assert "Total over 1 contracts" in profit.stderr
    for _ in range(100):  # a contract can be sold once its entry tick exists
        if invoke_json(cli, sim, "contract", str(held["contract_id"]))["entry_tick"]:
            break
    sold = cli(*sim.args(), "sell", str(held["contract_id"]))
    assert sold.exit_code == 0 and sold.stdout.startswith(f"Sold contract {held['contract_id']}")
    symbols = cli("--sim", "symbols")
    assert symbols.stdout.splitlines()[0] == "Symbol\tName\tMarket\tSubmarket\tDecimals\tOpen"


def test_verbose_logging_never_shows_the_token(cli, sim):
    result = cli(*sim.args(), "-v", "balance")
    assert result.exit_code == 0
    assert '"authorize": "<not shown>"' in result.stderr
    assert sim.token not in result.stderr + result.stdout


def test_day_durations_go_to_the_server_as_days():
    """The CLI side of ``--duration 1d`` (whether a symbol offers days is the server's call)."""
    from types import SimpleNamespace

    spec = trade.typed_spec("R_100", "CALL", 10, "1d", barrier=None)
    assert (spec.duration, spec.duration_unit) == (1, "d")
    assert spec.parameters()["duration_unit"] == "d"
    proposal = SimpleNamespace(ask_price=10.0, payout=19.5, spot=None, longcode="Win payout")
    assert trade.quote_text(spec, proposal).startswith("CALL on R_100, 1 day")
