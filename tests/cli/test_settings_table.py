"""The settings table: what it declares is what the CLI shows, stores and resolves."""

from __future__ import annotations

import json
import os
import tomllib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from derivkit.core import UsageError
from derivkit.settings import (
    CONFIG_KEYS,
    SETTINGS,
    load_config,
    resolve_bot_settings,
    resolve_settings,
    save_config,
)


def config_file() -> Path:
    return Path(os.environ["DERIVKIT_CONFIG_DIR"]) / "config.toml"


def test_a_value_ending_in_a_carriage_return_cannot_break_every_command(cli):
    stored = cli("config", "set", "endpoint", "ws://127.0.0.1:9/websockets/v3\r")
    assert stored.exit_code == 0, stored.stderr
    tomllib.loads(config_file().read_text())  # still valid TOML
    result = cli("--sim", "--json", "price", "R_100")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)[0]["symbol"] == "R_100"


def test_control_characters_inside_a_value_are_refused_and_nothing_is_saved(cli):
    assert cli("config", "set", "app_id", "77").exit_code == 0
    before = config_file().read_bytes()
    refused = cli("config", "set", "endpoint", "ws://a\nb/websockets/v3")
    assert refused.exit_code == 2 and "control characters" in refused.stderr
    assert config_file().read_bytes() == before


@settings(max_examples=200, deadline=None)
@given(value=st.text(max_size=40))
def test_whatever_is_saved_reads_back(tmp_path_factory, value):
    directory = tmp_path_factory.mktemp("config")
    endpoint = f"ws://127.0.0.1/{value}"
    try:
        save_config(directory, {"endpoint": endpoint})
    except UsageError:
        assert not (directory / "config.toml").exists()
        return
    resolved = resolve_settings(environ={}, directory=directory)
    assert resolved.endpoint == endpoint.strip()


@pytest.mark.parametrize(
    ("key", "given", "resolved"),
    [
        ("endpoint", "wss://file.example/websockets/v3", "wss://file.example/websockets/v3"),
        ("app_id", "4242", 4242),
        ("bot_allowed_users", "6, 5 7", frozenset({5, 6, 7})),
        ("bot_trading", "yes", True),
        ("bot_max_stake", "12.5", 12.5),
        ("bot_max_open", "3", 3),
        ("bot_daily_loss", "40", 40.0),
    ],
)
def test_every_config_key_is_stored_natively_and_resolves(cli, key, given, resolved):
    assert cli("config", "set", key, given).exit_code == 0
    directory = config_file().parent
    name = next(item.name for item in SETTINGS if item.config_key == key)
    api = resolve_settings(environ={}, directory=directory)
    bot = resolve_bot_settings(environ={}, directory=directory)
    value = getattr(api, name, None) if hasattr(api, name) else getattr(bot, name)
    assert value == resolved
    raw = load_config(directory)[key]
    assert not isinstance(raw, str) or key == "endpoint"  # numbers, booleans and lists stay typed


def test_config_set_lists_the_known_keys_for_an_unknown_one(cli):
    refused = cli("config", "set", "colour", "blue")
    assert refused.exit_code == 2
    assert all(key in refused.stderr for key in CONFIG_KEYS)


def test_help_names_every_environment_variable_the_table_declares(cli):
    root = cli("--help").stdout + cli("bot", "run", "--help").stdout
    declared = [item for item in SETTINGS if item.env and item.flag]
    assert declared
    for item in declared:
        assert item.env in root, item.name


def test_a_bad_value_names_its_source_from_the_table(tmp_path):
    (tmp_path / "config.toml").write_text('bot_max_open = "many"\n')
    with pytest.raises(UsageError, match="bot_max_open in config.toml must be a whole number"):
        resolve_bot_settings(environ={}, directory=tmp_path)
    with pytest.raises(UsageError, match="DERIVKIT_BOT_MAX_STAKE must be a number"):
        resolve_bot_settings(environ={"DERIVKIT_BOT_MAX_STAKE": "x"}, directory=tmp_path / "none")
