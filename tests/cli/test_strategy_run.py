"""``derivkit run``: JSON events, parameter errors, and Ctrl-C (once: wait for open contracts;
twice: leave them running and say so)."""

from __future__ import annotations

import json
import signal

from tests.cli.conftest import spawn
from tests.cli.test_processes import Lines


def events_of(stdout: str) -> list[dict]:
    return [json.loads(line) for line in stdout.splitlines() if line.strip()]


def test_json_events_from_start_to_stop(cli, sim):
    result = cli(*sim.args(), "--json", "run", "martingale", "-s", "1hz100v", "-p", "max_runs=3")
    assert result.exit_code == 0, result.stderr
    events = events_of(result.stdout)
    kinds = [event["event"] for event in events]
    assert kinds[0] == "started" and kinds[-1] == "stopped"
    assert kinds.count("bought") == kinds.count("settled") == 3
    assert events[-1]["runs"] == 3 and "3 runs" in events[-1]["reason"]
    bought = [e["contract_id"] for e in events if e["event"] == "bought"]
    on_sim = sim.call(
        lambda: [
            t.contract.contract_id
            for t in sim.simulator.accounts[sim.token].transactions
            if t.action_type == "buy"
        ]
    )
    assert bought == on_sim


def test_a_bad_parameter_is_a_usage_error_that_lists_the_known_ones(cli, sim):
    result = cli(*sim.args(), "run", "martingale", "-p", "unit=2")
    assert result.exit_code == 2
    assert "unknown parameter(s) unit" in result.stderr and "multiplier" in result.stderr
    assert cli(*sim.args(), "run", "nope").exit_code == 2


def test_ctrl_c_once_waits_for_the_open_contract_to_settle(sim):
    args = (*sim.args(), "--json", "run", "flat", "-s", "1HZ100V")
    with spawn(*args, "-p", "duration=5") as process:
        lines = Lines(process)
        assert json.loads(lines.next() or "{}")["event"] == "started"
        sim.call(lambda: sim.simulator.faults.pause_symbol("1HZ100V"))  # nothing settles now
        first = json.loads(lines.next() or "{}")
        assert first["event"] == "bought"
        process.send_signal(signal.SIGINT)
        rest = [json.loads(lines.next(timeout=20) or "{}")]
        sim.call(lambda: sim.simulator.faults.resume_symbol("1HZ100V"))
        while (line := lines.next(timeout=20)) is not None:
            rest.append(json.loads(line))
        assert process.wait(timeout=10) == 130
    kinds = [event["event"] for event in rest]
    assert kinds == ["stopping", "settled", "stopped"]
    assert rest[-1]["left_open"] == []


def test_ctrl_c_twice_leaves_the_contract_running_and_says_so(sim):
    args = (*sim.args(), "--json", "run", "flat", "-s", "R_100", "-p", "duration_unit=m")
    with spawn(*args, "-p", "duration=60") as process:
        lines = Lines(process)
        assert json.loads(lines.next() or "{}")["event"] == "started"
        assert json.loads(lines.next() or "{}")["event"] == "bought"
        process.send_signal(signal.SIGINT)
        assert json.loads(lines.next() or "{}")["event"] == "stopping"
        process.send_signal(signal.SIGINT)
        assert json.loads(lines.next() or "{}")["left_open"]
        assert process.wait(timeout=20) == 130
        stderr = process.stderr.read()
    assert "left 1 contract(s) open" in stderr
    assert sim.call(lambda: len(sim.simulator.accounts[sim.token].open_contracts())) == 1


def test_strategies_lists_a_run_and_stop_ends_it_gracefully(cli, sim):
    args = (*sim.args(), "--json", "run", "flat", "-s", "1HZ100V", "-p", "duration=5")
    with spawn(*args) as process:
        lines = Lines(process)
        assert json.loads(lines.next() or "{}")["event"] == "started"
        sim.call(lambda: sim.simulator.faults.pause_symbol("1HZ100V"))
        assert json.loads(lines.next() or "{}")["event"] == "bought"
        listed = json.loads(cli("--json", "strategies").stdout)
        assert [(r["pid"], r["strategy"], r["open"]) for r in listed] == [(process.pid, "flat", 1)]
        stopped = cli("--json", "stop")
        assert json.loads(stopped.stdout)[0]["pid"] == process.pid
        assert json.loads(lines.next(timeout=20) or "{}")["event"] == "stopping"
        sim.call(lambda: sim.simulator.faults.resume_symbol("1HZ100V"))
        kinds = []
        while (line := lines.next(timeout=20)) is not None:
            kinds.append(json.loads(line)["event"])
        assert process.wait(timeout=10) == 0  # an orderly stop, not an interruption
    assert kinds == ["settled", "stopped"]
    assert json.loads(cli("--json", "strategies").stdout) == []
    assert cli("stop", "no-such-run").exit_code == 1


def test_a_stale_status_file_is_dropped(tmp_path):
    import subprocess
    import sys

    from derivkit.strategy.registry import RunRecord, RunRegistry

    registry = RunRegistry(tmp_path)
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    registry.publish(RunRecord("old", int(gone.stdout), "flat", "R_100"))
    assert registry.running() == [] and not registry.path("old").exists()


def test_a_token_without_trade_or_read_is_refused_before_anything_is_bought(cli, sim):
    sim.call(lambda: sim.simulator.add_account("read-only-0001", scopes=("read",)))
    sim.call(lambda: sim.simulator.add_account("trade-only-0001", scopes=("trade",)))
    refused = cli(*sim.args("read-only-0001"), "run", "flat", "-p", "max_runs=1")
    assert refused.exit_code == 4 and "lacks the trade scope" in refused.stderr
    refused = cli(*sim.args("trade-only-0001"), "run", "flat", "-p", "max_runs=1")
    assert refused.exit_code == 4 and "lacks the read scope" in refused.stderr
    accounts = sim.call(lambda: list(sim.simulator.accounts.values()))
    assert not any(t.action_type == "buy" for a in accounts for t in a.transactions)
