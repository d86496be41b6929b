"""``derivkit bot``: the entry point, its refusals, the stored token, and a real process serving
a fake Bot API over loopback until Ctrl-C."""

from __future__ import annotations

import asyncio
import os
import signal
import sys

import pytest
from typer.testing import CliRunner

from derivkit.cli import app
from tests.bot.conftest import BOT_TOKEN, OWNER
from tests.fakes.telegram_api import FakeTelegramAPI

runner = CliRunner()


pytestmark = pytest.mark.usefixtures("isolated_env")


def test_run_without_a_bot_token_says_how_to_get_one():
    result = runner.invoke(app, ["--sim", "bot", "run"])
    assert result.exit_code == 4
    assert "@BotFather" in result.stderr and "derivkit bot set-token" in result.stderr


def test_run_without_a_deriv_token_says_how_to_give_one(monkeypatch):
    monkeypatch.setenv("DERIVKIT_BOT_TOKEN", BOT_TOKEN)
    result = runner.invoke(app, ["bot", "run", "--allow", "5"])
    assert result.exit_code == 4
    assert result.stderr.startswith("Error: this command needs an API token")
    assert "Traceback" not in result.output


def test_run_refuses_json_and_bad_settings(monkeypatch):
    assert runner.invoke(app, ["bot", "run", "--json"]).exit_code == 2
    monkeypatch.setenv("DERIVKIT_BOT_ALLOWED_USERS", "alice")
    result = runner.invoke(app, ["--sim", "bot", "run"])
    assert result.exit_code == 2
    assert "DERIVKIT_BOT_ALLOWED_USERS" in result.stderr


def test_set_token_stores_it_encrypted_and_clear_token_removes_it(tmp_path):
    bad = runner.invoke(app, ["bot", "set-token"], input="not-a-token\n")
    assert bad.exit_code == 2
    saved = runner.invoke(app, ["bot", "set-token"], input=f"{BOT_TOKEN}\n")
    assert saved.exit_code == 0, saved.stderr
    assert BOT_TOKEN not in saved.output
    shown = runner.invoke(app, ["config", "show"])
    assert "bot_token" in shown.stdout and BOT_TOKEN not in shown.stdout
    assert BOT_TOKEN.split(":")[1] not in shown.stdout
    stored = tmp_path / "config" / "bot-token.enc"
    assert stored.exists() and BOT_TOKEN.encode() not in stored.read_bytes()
    assert runner.invoke(app, ["bot", "clear-token"]).exit_code == 0
    assert not stored.exists()


def test_bot_settings_can_live_in_the_config_file():
    from derivkit.settings import resolve_bot_settings

    for key, value in (("bot_allowed_users", "6, 5"), ("bot_trading", "yes")):
        result = runner.invoke(app, ["config", "set", key, value])
        assert result.exit_code == 0, result.stderr
    assert runner.invoke(app, ["config", "set", "bot_max_stake", "12.5"]).exit_code == 0
    settings = resolve_bot_settings()
    assert settings.allowed_users == {5, 6}
    assert settings.trading and settings.max_stake == 12.5
    refused = runner.invoke(app, ["config", "set", "bot_max_stake", "0"])
    assert refused.exit_code == 2 and "positive" in refused.stderr
    assert resolve_bot_settings().max_stake == 12.5  # the bad value was not saved
    shown = runner.invoke(app, ["--json", "config", "show"])
    assert '"bot_allowed_users": [\n    5,\n    6\n  ]' in shown.stdout


async def read_until(stream: asyncio.StreamReader, marker: str, seen: list[str]) -> None:
    async with asyncio.timeout(20):
        while True:
            line = (await stream.readline()).decode()
            if not line:
                raise AssertionError(f"process ended before {marker!r}: {''.join(seen)}")
            seen.append(line)
            if marker in line:
                return


async def spawn_bot(
    api: FakeTelegramAPI, *args: str, token: str | None = None
) -> asyncio.subprocess.Process:
    env = {
        **os.environ,
        "DERIVKIT_BOT_TOKEN": token or api.token,
        "DERIVKIT_BOT_API_URL": api.base_url,
        "PYTHONUNBUFFERED": "1",
    }
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        "from derivkit.cli import main; main()",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
    )


async def test_a_real_bot_process_serves_until_ctrl_c():
    async with FakeTelegramAPI(token=BOT_TOKEN) as api:
        process = await spawn_bot(
            api, "--sim", "bot", "run", "--allow", str(OWNER), "--trading", "-v"
        )
        stderr: list[str] = []
        try:
            assert process.stderr is not None
            await read_until(process.stderr, "Bot running", stderr)
            await api.wait_until_polling(timeout=10)
            api.user_sends("/price R_100", user_id=OWNER)
            reply = await api.next_bot_message(chat_id=OWNER, timeout=10)
            assert reply["text"].startswith("R_100")
            process.send_signal(signal.SIGINT)
            async with asyncio.timeout(20):
                _, rest = await process.communicate()
            stderr.append(rest.decode())
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
        assert process.returncode == 130
        output = "".join(stderr)
        assert "trading is ON" in output
        assert BOT_TOKEN not in output and BOT_TOKEN.split(":")[1] not in output


async def test_a_wrong_bot_token_fails_cleanly_without_printing_it():
    wrong = "987654321:AAHwrongwrongwrongwrongwrongwrong12"
    async with FakeTelegramAPI(token=BOT_TOKEN) as api:
        process = await spawn_bot(api, "--sim", "bot", "run", token=wrong)
        async with asyncio.timeout(20):
            _, err = await process.communicate()
    assert process.returncode == 4
    text = err.decode()
    assert "Telegram refused the bot token" in text and "Traceback" not in text
    assert wrong not in text and wrong.split(":")[1] not in text


@pytest.mark.parametrize("bot_token", [BOT_TOKEN, None])
def test_without_the_bot_extra_run_says_what_to_install(bot_token):
    """First: without the extra no token or setting can help, so none is asked for."""
    import subprocess

    blocked = "import sys; sys.modules['telegram'] = None; from derivkit.cli import main; main()"
    env = {key: value for key, value in os.environ.items() if key != "DERIVKIT_BOT_TOKEN"}
    if bot_token:
        env["DERIVKIT_BOT_TOKEN"] = bot_token
    done = subprocess.run(
        [sys.executable, "-c", blocked, "--sim", "bot", "run"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "Error: the bot needs its extra: pip install 'derivkit[bot]'"
    ]


async def stop(process: asyncio.subprocess.Process) -> str:
    process.send_signal(signal.SIGINT)
    async with asyncio.timeout(20):
        _, rest = await process.communicate()
    return rest.decode()


async def test_a_multi_user_bot_process_keeps_its_users_across_a_restart(tmp_path):
    from derivkit.sim import Simulator

    user, token = 4242, "cli-user-token-01"
    async with (
        Simulator(seed=3, tokens=[token], scopes=["read", "trade"]) as sim,
        FakeTelegramAPI(token=BOT_TOKEN) as api,
    ):
        args = ("--endpoint", sim.url, "bot", "run", "--mode", "multi-user")
        for round_ in ("first", "second"):
            process = await spawn_bot(api, *args)
            stderr: list[str] = []
            try:
                assert process.stderr is not None
                await read_until(process.stderr, "Bot running", stderr)
                await api.wait_until_polling(timeout=10)
                if round_ == "first":
                    api.user_sends(f"/connect {token}", user_id=user)
                    reply = await api.next_bot_message(chat_id=user, timeout=10)
                    assert "✅ Connected" in reply["text"]
                api.user_sends("/balance", user_id=user)
                reply = await api.next_bot_message(chat_id=user, timeout=10)
                assert "10,000.00 USD" in reply["text"], round_
                stderr.append(await stop(process))
            finally:
                if process.returncode is None:
                    process.kill()
                    await process.wait()
            assert "multi-user mode: everyone may /connect" in "".join(stderr)
    data = b"".join(p.read_bytes() for p in (tmp_path / "data").rglob("*") if p.is_file())
    assert data and token.encode() not in data
