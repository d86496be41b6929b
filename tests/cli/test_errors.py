"""Errors a user can act on: one line on stderr that says what to do, the documented exit code,
nothing on stdout, and no traceback."""

from __future__ import annotations

import json
import socket

import pytest

from derivkit.cli import errors


def one_error_line(result) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.output
    return lines[0]


def test_sim_serve_with_a_port_out_of_range_is_a_usage_error(cli):
    result = cli("sim", "serve", "--port", "99999")
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "--port" in result.stderr and result.stdout == ""


def test_sim_serve_on_a_port_in_use_says_what_to_do(cli):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = cli("sim", "serve", "--port", str(port))
    line = one_error_line(result)
    assert result.exit_code == 3
    assert line.startswith(f"Error: port {port} on 127.0.0.1 is already in use")
    assert "--port 0" in line


@pytest.mark.parametrize("option", ["--idle-timeout", "--speed"])
def test_sim_serve_names_the_option_that_is_wrong(cli, option):
    result = cli("sim", "serve", option, "0")
    assert result.exit_code == 2
    assert option in result.stderr and "--token" not in result.stderr


def test_sim_serve_names_a_bad_token(cli):
    result = cli("sim", "serve", "--token", "has spaces")
    assert result.exit_code == 2 and "--token" in result.stderr


def test_a_connection_error_names_the_endpoint_and_suggests_sim(cli):
    result = cli("--endpoint", "ws://127.0.0.1:9/websockets/v3", "price", "R_100")
    line = one_error_line(result)
    assert result.exit_code == 3 and result.stdout == ""
    assert "ws://127.0.0.1:9/websockets/v3" in line and "--sim" in line and "--endpoint" in line


@pytest.mark.parametrize("source", ["flag", "env"])
def test_a_badly_formatted_token_is_an_authentication_error(cli, sim, monkeypatch, source):
    bad = "not a token!"
    if source == "flag":
        result = cli("--endpoint", sim.url, "--token", bad, "balance")
    else:
        monkeypatch.setenv("DERIV_API_TOKEN", bad)
        result = cli("--endpoint", sim.url, "balance")
    line = one_error_line(result)
    assert result.exit_code == 4  # as documented, like a refused token
    assert ("--token" if source == "flag" else "DERIV_API_TOKEN") in line
    assert bad not in result.output


def test_a_token_the_server_cannot_parse_is_an_authentication_error():
    from derivkit.core.exceptions import api_error_from_reply

    refused = api_error_from_reply(
        {
            "msg_type": "authorize",
            "error": {"code": "InputValidationFailed", "message": "Input validation failed"},
        }
    )
    assert errors.exit_code_for(refused) == errors.EXIT_AUTH


def test_digit_contracts_without_a_barrier_name_the_barrier(cli, sim):
    for kind in ("DIGITMATCH", "digitover"):
        result = cli(*sim.args(), "quote", "R_100", "--type", kind, "-d", "1t")
        line = one_error_line(result)
        assert result.exit_code == 2 and "barrier" in line and "--barrier" in line
        assert "0-9" in line
    assert sim.simulator.connections_accepted == 0  # refused before connecting


def test_symbols_in_any_case_and_the_closest_suggested(cli):
    lower = cli("--sim", "--json", "price", "r_100", "1hz100v", "STPRNG")
    assert lower.exit_code == 0, lower.stderr
    assert [row["symbol"] for row in json.loads(lower.stdout)] == ["R_100", "1HZ100V", "stpRNG"]
    for command in (["ticks", "r_50", "-n", "1"], ["history", "r_50", "-n", "2"]):
        result = cli("--sim", "--json", *command)
        assert result.exit_code == 0, result.stderr
    quote = cli("--sim", "--json", "quote", "r_50", "-t", "call")
    assert json.loads(quote.stdout)["symbol"] == "R_50"
    contracts = cli("--sim", "contracts", "boom1000")
    assert contracts.exit_code == 0 and "CALL" in contracts.stdout
    typo = cli("--sim", "quote", "R_10O", "-t", "CALL")
    line = one_error_line(typo)
    assert typo.exit_code == 1 and "did you mean R_100?" in line


def test_error_text_to_a_pipe_is_not_wrapped(cli, monkeypatch):
    monkeypatch.delenv("COLUMNS")  # a pipe or a file: no terminal width at all
    result = cli("--endpoint", "ws://127.0.0.1:9/websockets/v3", "price", "R_100")
    line = one_error_line(result)
    assert len(line) > 100 and line.endswith("work offline with --sim")
