"""Fixtures shared by the front-end test suites."""

from __future__ import annotations

import pytest

from derivkit.settings import SETTINGS

#: Settings a developer's shell may carry (every environment variable of the settings table, and
#: the storage key); no test may see them.
SETTINGS_ENV = (*(item.env for item in SETTINGS if item.env), "DERIVKIT_STORAGE_KEY")


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


@pytest.fixture(scope="session")
def postgres():
    """One throwaway PostgreSQL server for the whole run (see :mod:`tests.pgserver`): skipped
    where PostgreSQL is not installed, a failure where it must be (``.ci/run``)."""
    from tests.pgserver import PostgresServer, PostgresUnavailable, required

    try:
        server = PostgresServer()
        server.start()
    except PostgresUnavailable as error:
        if required():
            pytest.fail(f"PostgreSQL is required here but could not be started: {error}")
        pytest.skip(f"no PostgreSQL: {error}")
    try:
        yield server
    finally:
        server.stop()


_databases = iter(range(1, 1_000_000))


@pytest.fixture
async def postgres_url(postgres) -> str:
    """A fresh, empty database on the shared server (``postgresql://`` URL)."""
    return await postgres.create_database(f"test_{next(_databases)}")


@pytest.fixture(params=["sqlite", "postgresql"])
async def database_url(request, tmp_path) -> str:
    """Each storage test runs twice: on an SQLite file and on a fresh PostgreSQL database."""
    from derivkit.storage import default_url

    if request.param == "sqlite":
        return default_url(tmp_path)
    server = request.getfixturevalue("postgres")
    return await server.create_database(f"test_{next(_databases)}")
