"""``derivkit dashboard``: errors end before the dashboard starts; the happy path runs the app on
the command's own session (driven here by a Pilot instead of the terminal)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from typer.testing import CliRunner, Result

import derivkit.cli.dashboard as dashboard_cli
from derivkit.cli import app as cli_app
from derivkit.cli.output import Output
from derivkit.settings import Settings
from derivkit.sim import RateLimits, Simulator
from derivkit.tui import DEFAULT_SYMBOLS, DerivDashboard
from derivkit.tui.widgets.account_panel import MARKET_DATA_ONLY
from derivkit.tui.widgets.strategies_panel import StrategiesPanel
from tests.cli.conftest import ThreadedSim
from tests.tui.conftest import SIZE, text_of, wait_for

pytestmark = pytest.mark.usefixtures("isolated_env")


@dataclass
class Launched:
    """What the launcher saw of one app while it ran."""

    app: DerivDashboard
    symbols: list[str]
    account: str
    strategies: bool = False  # the strategies panel is there (hidden while none runs)


@pytest.fixture
def launched(monkeypatch) -> list[Launched]:
    """Replace the terminal launcher: run the app headless, note what it shows once every row
    has ticks, then quit."""
    runs: list[Launched] = []

    async def launch(app: DerivDashboard) -> None:
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, lambda: shows_ticks(app), "ticks in every row")
            panel = bool(app.main_screen.query(StrategiesPanel))
            symbols = app.main_screen.watched_symbols()
            runs.append(Launched(app, symbols, account_text(app), panel))
            await pilot.press("q")

    monkeypatch.setattr(dashboard_cli, "run_app", launch)
    return runs


@pytest.fixture
def threaded_sim() -> Iterator[ThreadedSim]:
    threaded = ThreadedSim().start()
    yield threaded
    threaded.stop()


def invoke(*args: str) -> Result:
    return CliRunner().invoke(cli_app, list(args))


def shows_ticks(app: DerivDashboard) -> bool:
    screen = app.main_screen
    table = screen.query_one("#quotes")
    symbols = screen.watched_symbols()
    return bool(symbols) and all(table.cell_text(s, "ticks") != "0" for s in symbols)


def account_text(app: DerivDashboard) -> str:
    return " ".join(text_of(label) for label in app.main_screen.query("#account Label"))


def test_json_is_a_usage_error(launched):
    for args in (["--json", "--sim", "dashboard"], ["--sim", "dashboard", "--json"]):
        result = invoke(*args)
        assert result.exit_code == 2 and "no JSON output" in result.stderr
        assert result.stdout == ""
    assert launched == []


def test_a_bad_token_fails_before_the_dashboard_starts(launched, threaded_sim):
    result = invoke("--endpoint", threaded_sim.url, "--token", "wrong-token-5555", "dashboard")
    assert result.exit_code == 4 and "InvalidToken" in result.stderr
    assert "wrong-token-5555" not in result.stderr + result.stdout
    assert launched == []


def test_an_unreachable_endpoint_fails_before_the_dashboard_starts(launched):
    result = invoke("--endpoint", "ws://127.0.0.1:9/websockets/v3", "dashboard")
    assert result.exit_code == 3 and result.stderr.startswith("Error:")
    assert launched == []


def test_without_textual_the_command_says_what_to_install(launched, monkeypatch):
    for name in [name for name in sys.modules if name.startswith("derivkit.tui")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "textual", None)  # "import textual" now fails
    result = invoke("--sim", "dashboard")
    assert result.exit_code == 2
    assert "pip install 'derivkit[tui]'" in result.stderr and len(result.stderr.splitlines()) == 1
    assert launched == []


def test_the_command_runs_the_dashboard_with_the_simulator(launched):
    result = invoke("--sim", "dashboard", "R_50", "1HZ100V", "R_50")
    assert result.exit_code == 0, result.stderr
    (run,) = launched
    assert run.symbols == ["R_50", "1HZ100V"]
    assert "DEMO" in run.account  # --sim uses the simulator's demo token
    assert run.strategies  # the command hands the dashboard the user's strategy registry
    assert run.app.client.state == "closed"  # the session closed the client after the app


def test_the_command_line_takes_symbols_in_any_case_and_suggests_on_a_typo(launched):
    result = invoke("--sim", "dashboard", "r_50", "1hz100v")
    assert result.exit_code == 0, result.stderr
    assert launched[0].symbols == ["R_50", "1HZ100V"]
    typo = invoke("--sim", "dashboard", "R_5O")
    assert typo.exit_code == 1 and "did you mean R_50?" in typo.stderr
    assert len(launched) == 1  # the typo stopped it before the dashboard started


async def test_the_command_body_without_a_token_shows_market_data_only():
    async with Simulator(seed=5, speed=20, rate_limits=RateLimits.unlimited()) as sim:
        runs: list[Launched] = []

        async def launch(app: DerivDashboard) -> None:
            async with app.run_test(size=SIZE) as pilot:
                await wait_for(pilot, lambda: shows_ticks(app), "ticks in every row")
                runs.append(Launched(app, app.main_screen.watched_symbols(), account_text(app)))
                await pilot.press("q")

        settings = Settings(endpoint=sim.url)
        await dashboard_cli.open_dashboard(settings, Output(), [], launch=launch)
        (run,) = runs
        assert run.account.strip() == MARKET_DATA_ONLY
        assert run.symbols == list(DEFAULT_SYMBOLS)
        assert run.app.client.account is None and run.app.client.state == "closed"
