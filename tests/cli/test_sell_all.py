"""``derivkit sell --all``: one confirmation, each sellable contract sold once, the rest kept."""

from __future__ import annotations

import json
import time


def buy(cli, sim, symbol: str, duration: str) -> int:
    result = cli(
        *sim.args(), "--json", "buy", symbol, "-t", "CALL", "--stake", "3", "-d", duration, "--yes"
    )
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)["contract_id"]


def open_ids(sim) -> set[int]:
    account = sim.call(lambda: sim.simulator.accounts[sim.token])
    return {c.contract_id for c in account.open_contracts()}


def wait_until_sellable(sim, contract_ids: set[int], timeout: float = 15.0) -> None:
    """Until each contract has its entry tick (before it, Deriv refuses a sell)."""

    def sellable() -> bool:
        simulator = sim.simulator
        contracts = simulator.accounts[sim.token].contracts
        now = simulator.clock.now()
        return all(contracts[cid].sell_error(now) is None for cid in contract_ids)

    deadline = time.monotonic() + timeout
    while not sim.call(sellable):
        assert time.monotonic() < deadline, f"contracts {contract_ids} never became sellable"
        time.sleep(0.02)


def test_sell_all_sells_what_can_be_sold_and_keeps_the_rest(cli, sim):
    timed = {buy(cli, sim, "R_100", "10m"), buy(cli, sim, "R_50", "10m")}
    wait_until_sellable(sim, timed)  # on a loaded machine the entry tick can come late
    sim.call(lambda: sim.simulator.faults.pause_symbol("R_10"))  # its tick contract stays open
    ticks = buy(cli, sim, "R_10", "5t")
    refused = cli(*sim.args(), "sell", "--all")  # no terminal, no --yes: nothing sold
    assert refused.exit_code == 2 and open_ids(sim) == {*timed, ticks}
    result = cli(*sim.args(), "--json", "sell", "--all", "--yes")
    assert result.exit_code == 0, result.stderr
    rows = json.loads(result.stdout)
    assert {row["contract_id"] for row in rows} == timed
    assert all(row["outcome"] == "sold" and row["sell_price"] > 0 for row in rows)
    assert open_ids(sim) == {ticks}
    sells = sim.call(
        lambda: [
            t for t in sim.simulator.accounts[sim.token].transactions if t.action_type == "sell"
        ]
    )
    assert len(sells) == 2  # each sent once
    nothing = cli(*sim.args(), "sell", "--all", "--yes")
    assert nothing.exit_code == 0 and "none valid to sell" in nothing.stderr


def test_sell_takes_an_id_or_all(cli, sim):
    assert cli(*sim.args(), "sell").exit_code == 2
    assert cli(*sim.args(), "sell", "123", "--all").exit_code == 2
