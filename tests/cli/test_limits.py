"""``derivkit limits``: the server's self-exclusion, enforced on every buy whatever the client,
and derivkit's own daily loss default for strategy runs."""

from __future__ import annotations

import json

from tests.cli.conftest import REAL_TOKEN


def buy(cli, sim, stake: str, token: str = REAL_TOKEN):
    return cli(
        *sim.args(token),
        "--json",
        "buy",
        "R_100",
        "-t",
        "CALL",
        "--stake",
        stake,
        "-d",
        "5m",
        "--yes",
        "--real-money",
    )


def test_a_server_daily_loss_limit_refuses_the_buy_beyond_it(cli, sim):
    result = cli(*sim.args(REAL_TOKEN), "limits", "set", "--daily-loss", "25", "--server", "--yes")
    assert result.exit_code == 0, result.stderr
    shown = json.loads(cli(*sim.args(REAL_TOKEN), "--json", "limits", "show").stdout)
    assert shown["server"] == {"max_losses": 25}
    assert buy(cli, sim, "20").exit_code == 0
    refused = buy(cli, sim, "10")  # 20 at stake + 10 more could lose 30 > 25
    assert refused.exit_code == 1 and "DailyLossLimitExceeded" in refused.stderr
    account = sim.call(lambda: sim.simulator.accounts[REAL_TOKEN])
    assert len(account.open_contracts()) == 1  # the server bought nothing more


def test_a_limit_can_be_lowered_but_not_raised(cli, sim):
    args = (*sim.args(REAL_TOKEN), "limits", "set", "--server", "--yes")
    assert cli(*args, "--daily-loss", "50", "--max-open", "3").exit_code == 0
    assert cli(*args, "--daily-loss", "40").exit_code == 0
    raised = cli(*args, "--daily-loss", "60")
    assert raised.exit_code == 1 and "between 0 and 40" in raised.stderr
    shown = json.loads(cli(*sim.args(REAL_TOKEN), "--json", "limits", "show").stdout)
    assert shown["server"] == {"max_losses": 40, "max_open_bets": 3}


def test_max_open_is_enforced_by_the_server(cli, sim):
    assert (
        cli(*sim.args(REAL_TOKEN), "limits", "set", "--max-open", "1", "--server", "-y").exit_code
        == 0
    )
    assert buy(cli, sim, "2").exit_code == 0
    refused = buy(cli, sim, "2")
    assert refused.exit_code == 1 and "OpenPositionLimitExceeded" in refused.stderr


def test_a_token_without_the_admin_scope_is_told_so_and_nothing_changes(cli, sim):
    token = "real-everyday-token-0002"
    sim.call(lambda: sim.simulator.add_account(token, real=True, scopes=["read", "trade"]))
    result = cli(*sim.args(token), "limits", "set", "--daily-loss", "25", "--server", "--yes")
    assert result.exit_code == 4, result.stderr
    assert "lacks the admin scope" in result.stderr and "nothing was changed" in result.stderr
    assert token not in result.stderr
    account = sim.call(lambda: sim.simulator.accounts[token])
    assert account.self_exclusion.view() == {}
    shown = json.loads(cli(*sim.args(token), "--json", "limits", "show").stdout)  # read is enough
    assert shown["server"] == {}


def test_a_demo_account_has_no_self_exclusion(cli, sim):
    result = cli(*sim.args(), "limits", "set", "--daily-loss", "5", "--server", "--yes")
    assert result.exit_code == 2 and "demo account" in result.stderr


def test_derivkit_s_own_daily_loss_becomes_every_runs_default(cli, sim):
    saved = cli("limits", "set", "--daily-loss", "1.5")
    assert saved.exit_code == 0, saved.stderr
    result = cli(*sim.args(), "--json", "run", "martingale", "-s", "1HZ100V", "-p", "stake=1")
    assert result.exit_code == 0, result.stderr
    events = [json.loads(line) for line in result.stdout.splitlines()]
    assert "daily limit" in events[-1]["reason"]
    assert events[-1]["profit"] >= -1.5  # no buy could have taken the day past the limit
