"""The README stays true: its library example runs, and CI runs its test command."""

from __future__ import annotations

import re
from pathlib import Path

from derivkit.sim import RateLimits, Simulator

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


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
    code = re.findall(r"```python\n(.*?)```", README, re.S)[1]
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
