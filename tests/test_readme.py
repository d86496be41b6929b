"""The README stays true: its library example runs, and CI runs its test command."""

from __future__ import annotations

import re
from pathlib import Path

from derivkit.sim import RateLimits, Simulator

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def _python_block(marker: str) -> str:
    """The README's one Python example that contains ``marker``."""
    (block,) = [b for b in re.findall(r"```python\n(.*?)```", README, re.S) if marker in b]
    return block


def test_the_library_example_runs_against_the_simulator(capsys):
    code = re.search(r"```python\n(.*?)```", README, re.S).group(1)
    assert 'DerivClient(token="YOUR_TOKEN")' in code
    code = code.replace('DerivClient(token="YOUR_TOKEN")', "DerivClient(URL, token=TOKEN)")
    code = code.replace("asyncio.run(main())", "")
    namespace: dict = {}
    exec(compile(code, "README.md", "exec"), namespace)

    async def run() -> None:
        async with Simulator(seed=1, speed=50, rate_limits=RateLimits.unlimited()) as sim:
            namespace["URL"], namespace["TOKEN"] = sim.url, sim.token
            await namespace["main"]()

    import asyncio

    asyncio.run(run())
    printed = capsys.readouterr().out.splitlines()
    assert printed[0].startswith("Balance(balance=10000.0")
    assert printed[-1].split()[0] in {"won", "lost"}


def test_the_products_example_runs_against_the_simulator(capsys):
    code = _python_block("MultiplierSpec")
    assert "MultiplierSpec" in code
    namespace: dict = {}
    exec(compile(code, "README.md", "exec"), namespace)

    async def run() -> None:
        from derivkit.core import DerivClient

        async with (
            Simulator(seed=2, speed=50, rate_limits=RateLimits.unlimited()) as sim,
            DerivClient(sim.url, token=sim.token) as api,
        ):
            await namespace["products"](api)

    import asyncio

    asyncio.run(run())
    printed = capsys.readouterr().out.splitlines()
    commission, stop_out = printed[0].split()
    assert float(commission) == 0.5 and float(stop_out) > 0
    assert printed[-1].split()[-1] in {"won", "lost"}


def test_ci_runs_the_readme_test_command():
    first_lines = README.split("```sh\n", 1)[1].split("```", 1)[0].strip().splitlines()
    setup_and_run, setup_and_test = first_lines
    assert "--sim" in setup_and_run
    test_command = setup_and_test.rsplit("&&", 1)[1].strip()
    assert test_command == ".venv/bin/python -m pytest"
    assert test_command in (ROOT / ".ci" / "run").read_text()


def test_the_one_simulator_recipe_works(isolated_env):
    """The README's recipe, line by line, against a real `derivkit sim serve` (on a free port;
    `--watch` and the dashboard, which run until stopped, are checked once instead)."""
    import json
    import os
    import shlex
    import signal
    import subprocess
    import sys

    section = README.split("### One simulator for several commands", 1)[1]
    block = section.split("```sh\n", 1)[1].split("```", 1)[0]
    lines = [line.split("  #", 1)[0].strip() for line in block.strip().splitlines()]
    serve, export, *commands = lines
    assert serve == "derivkit sim serve --token demo1" and export.startswith("export ")
    entry = [sys.executable, "-c", "from derivkit.cli import main; main()"]
    server = subprocess.Popen(
        [*entry, *shlex.split(serve)[1:], "--port", "0", "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        url = json.loads(server.stdout.readline())["url"]
        env = dict(os.environ)
        for assignment in shlex.split(export)[1:]:
            name, value = assignment.split("=", 1)
            env[name] = value.replace("ws://127.0.0.1:8765/websockets/v3", url)
        bought = []
        for line in commands:
            args = shlex.split(line)[1:]
            if args[0] == "dashboard":
                continue
            if args[0] == "contract":
                assert args[1] == bought[0]  # the README names the id the first buy prints
                args = [arg for arg in args if arg != "--watch"]
            done = subprocess.run(
                [*entry, *args], env=env, capture_output=True, text=True, timeout=60
            )
            assert done.returncode == 0, (line, done.stderr)
            if args[0] == "buy":
                bought.append(done.stdout.split()[2])
        portfolio = subprocess.run(
            [*entry, "--json", "portfolio"], env=env, capture_output=True, text=True, timeout=60
        )
        assert sorted(str(c["contract_id"]) for c in json.loads(portfolio.stdout)) == bought
    finally:
        server.send_signal(signal.SIGINT)
        server.communicate(timeout=15)


def test_the_strategy_example_backtests(tmp_path):
    code = next(
        block
        for block in re.findall(r"```python\n(.*?)```", README, re.S)
        if "class EvenAfterTwoOdds" in block
    )
    path = tmp_path / "even.py"
    path.write_text(code)
    from derivkit.strategy import load_plan
    from derivkit.strategy.backtest import run_backtest

    plan = load_plan(str(path), {"stake": "1", "max_stake": "8"})
    assert plan.name == "even-after-two-odds" and plan.rule.name == "martingale"
    report = run_backtest(plan, "1HZ100V", ticks=2000, seed="1")
    assert report.summary["runs"] > 100  # it found two odd digits in a row many times


def test_the_new_api_example_runs_against_the_simulator(capsys):
    code = _python_block("OTPEndpoint(")
    assert "OTPEndpoint(token, app_id=app_id)" in code and "PublicEndpoint()" in code
    code = code.replace(
        "OTPEndpoint(token, app_id=app_id)", "OTPEndpoint(token, app_id=app_id, rest_url=REST)"
    )
    code = code.replace("PublicEndpoint()", "PublicEndpoint(PUBLIC)")
    namespace: dict = {}
    exec(compile(code, "README.md", "exec"), namespace)

    async def run() -> None:
        async with Simulator(seed=1, rate_limits=RateLimits.unlimited(), new_api=True) as sim:
            namespace["REST"], namespace["PUBLIC"] = sim.rest_url, sim.public_url
            await namespace["new_api"](sim.token, 1089)

    import asyncio

    asyncio.run(run())
    account, symbols = capsys.readouterr().out.splitlines()
    assert account.startswith("VRTC") and account.endswith("10000.0")
    assert symbols.startswith("['")


def test_the_mock_transport_example_runs():
    code = _python_block("MockTransport(server)")
    assert "MockTransport(server)" in code
    namespace: dict = {}
    exec(compile(code, "README.md", "exec"), namespace)
    import asyncio

    asyncio.run(namespace["test_my_code"]())
