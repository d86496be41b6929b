"""The CLI's shape: help everywhere, options where habit puts them, fast and lean start-up."""

from __future__ import annotations

import json
import os
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
