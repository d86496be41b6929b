"""Settings precedence, the config file and the encrypted token store."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from derivkit.core import UsageError
from derivkit.settings import resolve_settings, save_config

TOKEN = "abcDEF123456tokenXYZ"


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_config_path_honours_the_override(cli):
    result = cli("config", "path")
    assert result.exit_code == 0
    assert result.stdout.strip() == os.environ["DERIVKIT_CONFIG_DIR"]


def test_set_token_stores_it_encrypted_with_private_modes(cli):
    result = cli("config", "set-token", TOKEN)
    assert result.exit_code == 0, result.stderr
    config_dir = Path(os.environ["DERIVKIT_CONFIG_DIR"])
    data_dir = Path(os.environ["DERIVKIT_DATA_DIR"])
    files = [p for p in (*config_dir.rglob("*"), *data_dir.rglob("*")) if p.is_file()]
    assert files and all(mode(p) == 0o600 for p in files)
    assert all(TOKEN.encode() not in p.read_bytes() for p in files)


def test_show_masks_the_token_and_names_its_source(cli):
    cli("config", "set-token", TOKEN)
    shown = cli("config", "show", "--json")
    data = json.loads(shown.stdout)
    assert data["token"] == "****nXYZ" and data["token_source"] == "config"
    assert TOKEN not in shown.stdout
    human = cli("config", "show")
    assert TOKEN not in human.stdout and "****nXYZ" in human.stdout


def test_set_token_reads_stdin_when_not_a_terminal(cli):
    assert cli("config", "set-token", input=TOKEN + "\n").exit_code == 0
    assert json.loads(cli("--json", "config", "show").stdout)["token_source"] == "config"


def test_stored_token_is_used_by_account_commands(cli, sim):
    assert cli("config", "set-token", sim.token).exit_code == 0
    result = cli("--endpoint", sim.url, "--json", "balance")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["loginid"].startswith("VRTC")


def test_bad_token_format_is_refused(cli):
    result = cli("config", "set-token", "has spaces in it")
    assert result.exit_code == 2 and "token" in result.stderr


def test_clear_token(cli):
    cli("config", "set-token", TOKEN)
    assert "removed" in cli("config", "clear-token").stderr
    assert json.loads(cli("--json", "config", "show").stdout)["token"] is None
    assert "No token" in cli("config", "clear-token").stderr


def test_config_set_and_precedence_flag_env_file(cli, monkeypatch):
    assert cli("config", "set", "endpoint", "wss://file.example/websockets/v3").exit_code == 0
    assert cli("config", "set", "app_id", "4242").exit_code == 0
    config_file = Path(os.environ["DERIVKIT_CONFIG_DIR"]) / "config.toml"
    assert mode(config_file) == 0o600

    def show() -> dict:
        return json.loads(cli("--json", "config", "show").stdout)

    assert show()["endpoint"] == "wss://file.example/websockets/v3" and show()["app_id"] == 4242
    monkeypatch.setenv("DERIV_ENDPOINT", "wss://env.example/websockets/v3")
    monkeypatch.setenv("DERIV_APP_ID", "7")
    monkeypatch.setenv("DERIV_API_TOKEN", "env-token-1234")
    assert show()["endpoint"] == "wss://env.example/websockets/v3" and show()["app_id"] == 7
    assert show()["token_source"] == "env"
    flagged = json.loads(
        cli(
            "--endpoint",
            "ws://flag.example/x",
            "--app-id",
            "9",
            "--token",
            "flagtok12345",
            "--json",
            "config",
            "show",
        ).stdout
    )
    assert flagged["endpoint"] == "ws://flag.example/x" and flagged["app_id"] == 9
    assert flagged["token_source"] == "flag" and flagged["token"] == "****2345"


def test_config_set_rejects_bad_values(cli):
    assert cli("config", "set", "colour", "blue").exit_code == 2
    assert cli("config", "set", "app_id", "-3").exit_code == 2
    assert cli("config", "set", "endpoint", "http://nope").exit_code == 2


def test_bad_environment_value_is_a_usage_error(cli, monkeypatch):
    monkeypatch.setenv("DERIV_APP_ID", "abc")
    result = cli("--sim", "price", "R_100")
    assert result.exit_code == 2 and "DERIV_APP_ID" in result.stderr


def test_resolver_reads_sim_from_environment(tmp_path):
    settings = resolve_settings(environ={"DERIVKIT_SIM": "1"}, directory=tmp_path)
    assert settings.sim and settings.app_id == 1089 and settings.endpoint is None
    assert not resolve_settings(environ={"DERIVKIT_SIM": "0"}, directory=tmp_path).sim


def test_settings_repr_never_shows_the_token(tmp_path):
    settings = resolve_settings(token="secret-token-abcd", environ={}, directory=tmp_path)
    assert "secret-token" not in repr(settings) and "****abcd" in repr(settings)


def test_broken_config_file_is_a_clear_error(tmp_path):
    (tmp_path / "config.toml").write_text("endpoint = [unclosed")
    with pytest.raises(UsageError, match="not valid TOML"):
        resolve_settings(environ={}, directory=tmp_path)
    save_config(tmp_path, {"endpoint": 'ws://x/"quoted"'})
    assert resolve_settings(environ={}, directory=tmp_path).endpoint == 'ws://x/"quoted"'
