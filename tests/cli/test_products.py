"""Multipliers and Accumulators from the command line, against a simulator: quote, buy, follow,
update, cancel, and the usage errors caught before anything is sent."""

from __future__ import annotations

import asyncio
import json

import pytest


def invoke_json(cli, sim, *args):
    result = cli(*sim.args(), "--json", *args)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def wait_until(sim, epoch: int) -> None:
    """Block until the simulator's clock reaches ``epoch`` (a pure function of real time)."""
    sim.run(asyncio.sleep(sim.simulator.clock.real_delay_until(epoch)))


def watch(cli, sim, contract_id: int) -> list[dict]:
    result = cli(*sim.args(), "--json", "contract", str(contract_id), "--watch")
    assert result.exit_code == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_multiplier_quote(cli):
    human = cli(
        "--sim", "quote", "R_100", "-t", "MULTUP", "--multiplier", "100", "--take-profit", "5"
    )
    assert human.exit_code == 0, human.stderr
    assert "x100, no expiry" in human.stdout and "Stop out:" in human.stdout
    assert "Take profit: 5.00 USD at" in human.stdout
    data = json.loads(
        cli(
            "--sim",
            "--json",
            "quote",
            "R_100",
            "-t",
            "MULTDOWN",
            "--multiplier",
            "50",
            "--cancellation",
            "60m",
        ).stdout
    )
    assert data["contract_type"] == "MULTDOWN" and data["payout"] == 0
    assert data["cancellation_fee"] > 0
    assert data["ask_price"] == pytest.approx(10 + data["cancellation_fee"])
    assert data["stop_out"]["amount"] == -10 and data["commission"] > 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-t", "MULTUP"], "needs --multiplier"),
        (["-t", "MULTUP", "--multiplier", "100", "-d", "5m"], "has no expiry"),
        (
            ["-t", "MULTUP", "--multiplier", "100", "--growth-rate", "0.01"],
            "--growth-rate is for ACCU",
        ),
        (
            ["-t", "MULTUP", "--multiplier", "100", "--cancellation", "60m", "--take-profit", "5"],
            "cannot be combined",
        ),
        (["-t", "CALL", "--multiplier", "100"], "--multiplier is for MULTUP/MULTDOWN"),
        (["-t", "ACCU"], "needs --growth-rate"),
        (["-t", "VANILLALONGCALL", "--strike", "+0.00", "-d", "5t"], "not ticks"),
    ],
)
def test_product_usage_errors_exit_2_before_sending(cli, args, message):
    result = cli("quote", "R_100", *args)  # no --sim and no token: refused before connecting
    assert result.exit_code == 2, result.output
    assert message in result.stderr


def test_server_refusals_exit_1_with_the_reason(cli):
    result = cli("--sim", "quote", "R_100", "-t", "MULTUP", "--multiplier", "15")
    assert result.exit_code == 1
    assert "Multiplier is not in acceptable range. Accepts 10,20,30,50,100." in result.stderr


def test_multiplier_buy_update_and_sell(cli, sim):
    bought = invoke_json(
        cli,
        sim,
        "buy",
        "R_100",
        "-t",
        "MULTUP",
        "--multiplier",
        "100",
        "--take-profit",
        "50",
        "--yes",
    )
    cid = bought["contract_id"]
    assert bought["payout"] == 0 and bought["buy_price"] == 10
    updated = invoke_json(
        cli, sim, "update", str(cid), "--take-profit", "60", "--stop-loss", "none"
    )
    assert updated["contract_id"] == cid
    assert updated["take_profit"]["amount"] == 60 and updated["stop_loss"] is None
    human = cli(*sim.args(), "update", str(cid))
    assert human.exit_code == 2 and "--take-profit and/or --stop-loss" in human.stderr
    wait_until(sim, bought["purchase_time"] + 3)  # past the purchase second and the entry tick
    sold = invoke_json(cli, sim, "sell", str(cid))
    assert sold["contract_id"] == cid
    final = invoke_json(cli, sim, "contract", str(cid))
    assert final["status"] == final["outcome"] == "sold"
    assert final["profit"] == pytest.approx(sold["sell_price"] - 10)


def test_multiplier_with_deal_cancellation_is_cancelled(cli, sim):
    bought = invoke_json(
        cli,
        sim,
        "buy",
        "R_100",
        "-t",
        "MULTUP",
        "--multiplier",
        "100",
        "--cancellation",
        "5m",
        "--yes",
    )
    cid = bought["contract_id"]
    assert bought["buy_price"] > 10  # the stake plus the fee
    refused = cli(*sim.args(), "update", str(cid), "--take-profit", "5")
    assert refused.exit_code == 1 and "after deal cancellation has expired" in refused.stderr
    wait_until(sim, bought["purchase_time"] + 1)  # the purchase second refuses a cancel
    done = invoke_json(cli, sim, "cancel", str(cid))
    assert done["sold_for"] == 10 and done["contract_id"] == cid
    again = cli(*sim.args(), "cancel", str(cid))
    assert again.exit_code == 1 and "This contract has been sold." in again.stderr
    final = invoke_json(cli, sim, "contract", str(cid))
    assert final["status"] == "cancelled" and final["outcome"] == "cancelled"


def test_accumulator_quote_buy_and_settlement(cli, sim):
    quote = invoke_json(cli, sim, "quote", "R_25", "-t", "ACCU", "--growth-rate", "0.05")
    assert quote["maximum_ticks"] == 60 and quote["payout"] == 0
    assert float(quote["low_barrier"]) < quote["spot"] < float(quote["high_barrier"])
    bought = invoke_json(cli, sim, "buy", "R_25", "-t", "ACCU", "--growth-rate", "0.05", "--yes")
    cid = bought["contract_id"]
    refused = cli(*sim.args(), "update", str(cid), "--take-profit", "5")
    assert refused.exit_code == 1 and "UpdateNotAllowed" in refused.stderr
    states = watch(cli, sim, cid)
    final = states[-1]
    assert final["is_sold"] and final["contract_type"] == "ACCU"
    assert final["outcome"] in ("won", "lost")
    assert (final["outcome"] == "lost") == (final["bid_price"] == 0)
