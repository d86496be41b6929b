"""The CLI's shape: help everywhere, options where habit puts them, fast and lean start-up."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import typer.main

from derivkit import __version__
from derivkit.cli import app
from derivkit.cli.app import hoist_global_options


def all_commands():
    group = typer.main.get_command(app)
    stack = [((), group)]
    while stack:
        path, command = stack.pop()
        yield path, command
        for name, sub in getattr(command, "commands", {}).items():
            stack.append(((*path, name), sub))


def test_every_command_has_help_text(cli):
    commands = list(all_commands())
    assert len(commands) > 15
    for path, command in commands:
        assert (command.help or "").strip(), f"no help for {' '.join(path)}"
        result = cli(*path, "--help")
        assert result.exit_code == 0 and "Usage:" in result.stdout


def test_global_options_work_before_and_after_the_command(cli):
    before = cli("--json", "--sim", "balance")
    after = cli("balance", "--json", "--sim")
    mixed = cli("--sim", "balance", "--json")
    assert before.exit_code == after.exit_code == mixed.exit_code == 0
    assert json.loads(before.stdout)["balance"] == json.loads(after.stdout)["balance"] == 10000


def test_hoisting_leaves_command_arguments_alone():
    assert hoist_global_options(["price", "R_100", "--json"]) == ["--json", "price", "R_100"]
    assert hoist_global_options(["balance", "--token", "t", "--watch"]) == [
        "--token",
        "t",
        "balance",
        "--watch",
    ]
    assert hoist_global_options(["--app-id", "5", "ticks", "R_1", "--endpoint=ws://x"]) == [
        "--app-id",
        "5",
        "--endpoint=ws://x",
        "ticks",
        "R_1",
    ]
    assert hoist_global_options(["sim", "serve", "--token", "abc"]) == [
        "sim",
        "serve",
        "--token",
        "abc",
    ]
    assert hoist_global_options(["ticks", "--", "--json"]) == ["ticks", "--", "--json"]


def test_version(cli):
    result = cli("--version")
    assert result.exit_code == 0 and result.stdout.strip() == f"derivkit {__version__}"


def test_unknown_command_is_a_usage_error(cli):
    assert cli("nope").exit_code == 2


def test_help_does_not_import_the_dashboard_or_bot_libraries():
    probe = (
        "import sys\n"
        "from derivkit.cli import main\n"
        "sys.argv = ['derivkit', '--help']\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('textual', 'telegram', 'plotext', 'cryptography', 'derivkit.sim'))\n"
        "print('HEAVY', heavy, 'SIM', 'derivkit.sim' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    assert "HEAVY [] SIM False" in result.stdout


def test_shell_completion_completes_commands():
    derivkit = str(Path(sys.executable).with_name("derivkit"))
    env = {
        **os.environ,
        "_DERIVKIT_COMPLETE": "complete_bash",
        "COMP_WORDS": "derivkit pri",
        "COMP_CWORD": "1",
    }
    result = subprocess.run([derivkit], env=env, capture_output=True, text=True, timeout=30)
    assert result.returncode == 0 and "price" in result.stdout.split()
    plain = {**os.environ, "_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION": "1"}
    script = subprocess.run(
        [derivkit, "--show-completion", "bash"],
        env=plain,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert script.returncode == 0 and "_DERIVKIT_COMPLETE" in script.stdout


MAIN_COMMANDS = ("price", "ticks", "history", "quote", "buy", "balance", "statement", "profit")


def test_help_has_no_type_artefacts_and_main_commands_have_examples(cli):
    import re

    for path, _ in all_commands():
        text = cli(*path, "--help").stdout
        for artefact in (r"\{\w+\}", r"<\w[\w \[\]]*>", r"FLOAT RANGE", r"INTEGER RANGE"):
            assert not re.search(artefact, text), (path, artefact, text)
    for command in MAIN_COMMANDS:
        text = cli(command, "--help").stdout
        assert "Examples:" in text and f"derivkit {command}" in text.replace("--sim ", "")


def test_how_many_is_count_everywhere(cli):
    for command in ("ticks", "history", "statement", "profit"):
        text = cli(command, "--help").stdout
        assert "--count" in text and "--limit" not in text, command


def complete(words: str) -> list[str]:
    derivkit = str(Path(sys.executable).with_name("derivkit"))
    env = {
        **os.environ,
        "_DERIVKIT_COMPLETE": "complete_bash",
        "COMP_WORDS": words,
        "COMP_CWORD": str(len(words.split()) - 1),
    }
    result = subprocess.run([derivkit], env=env, capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    return result.stdout.split()


def test_shell_completion_of_symbols_and_contract_types(cli):
    assert {"R_100", "R_10"} <= set(complete("derivkit price R_1"))
    assert {"r_100", "r_10"} <= set(complete("derivkit price r_1"))  # the case typed so far
    assert "1hz100v" in complete("derivkit buy 1hz1")
    assert set(complete("derivkit quote R_100 --type DIGIT")) == {
        "DIGITMATCH",
        "DIGITDIFF",
        "DIGITEVEN",
        "DIGITODD",
        "DIGITOVER",
        "DIGITUNDER",
    }
    assert "digitmatch" in complete("derivkit buy R_100 -t digitm")
    # Symbols a server listed replace the built-in list: any later command completes them.
    assert cli("--sim", "price", "R_100").exit_code == 0
    assert "frxEURUSD" not in complete("derivkit ticks frx")  # the simulator has no forex


def test_json_everywhere(cli):
    assert json.loads(cli("config", "path", "--json").stdout)["config_dir"]
    saved = cli("--json", "config", "set", "app_id", "4242")
    assert json.loads(saved.stdout) == {
        "saved": "app_id",
        "value": 4242,
        "path": str(Path(os.environ["DERIVKIT_CONFIG_DIR"]) / "config.toml"),
    }
    assert json.loads(cli("--json", "config", "clear-token").stdout) == {"removed": False}


def test_sim_serve_json_prints_its_address_and_tokens():
    from tests.cli.conftest import spawn

    with spawn("sim", "serve", "--port", "0", "--token", "demo1", "--json") as process:
        try:
            first = json.loads(process.stdout.readline())
            assert first["url"].startswith("ws://127.0.0.1:") and first["tokens"] == ["demo1"]
            process.send_signal(signal.SIGINT)
            assert process.wait(timeout=15) == 130
        finally:
            if process.poll() is None:
                process.kill()
