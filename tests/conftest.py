"""Fixtures shared by the front-end test suites."""

from __future__ import annotations

import pytest

from derivkit.settings import SETTINGS

#: Settings a developer's shell may carry (every environment variable of the settings table);
#: no test may see them.
SETTINGS_ENV = tuple(item.env for item in SETTINGS if item.env)


@pytest.fixture
def isolated_env(tmp_path, monkeypatch) -> None:
    """No derivkit settings from the environment; config and data dirs under ``tmp_path``;
    no colour; a wide terminal, so one-line messages stay on one line."""
    for name in SETTINGS_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DERIVKIT_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("DERIVKIT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "160")
