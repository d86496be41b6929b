"""deploy/ without Docker: what the compose file, the Caddyfile and the Dockerfile ask of
derivkit is what derivkit accepts (the command, every environment variable through the one
settings table, the webhook path and port the proxy forwards to, the extras installed)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml
from cryptography.fernet import Fernet
from typer.testing import CliRunner

from derivkit.cli import app
from derivkit.settings import SETTINGS, resolve_bot_settings, resolve_database_url
from derivkit.storage import KEY_ENV

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
#: Read by derivkit outside the settings table (the storage key; an instance's lease name).
OTHER_VARIABLES = {KEY_ENV, "DERIVKIT_BOT_INSTANCE", "DERIVKIT_CONFIG_DIR", "DERIVKIT_DATA_DIR"}


def operator_env() -> dict[str, str]:
    """deploy/env.example as an operator fills it in."""
    values = {}
    for line in (DEPLOY / "env.example").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, value = line.partition("=")
            values[name] = value
    values["DERIVKIT_STORAGE_KEY"] = Fernet.generate_key().decode()
    values["POSTGRES_PASSWORD"] = "pw"
    return values


def substituted(value: str, env: dict[str, str]) -> str:
    """Compose's ``${NAME}`` and ``${NAME:?message}`` (a missing one fails, as compose does)."""

    def one(match: re.Match[str]) -> str:
        name = match.group(1)
        assert env.get(name), f"compose needs {name}, which env.example does not set"
        return env[name]

    return re.sub(r"\$\{(\w+)(?::\?[^}]*)?\}", one, value)


def bot_service() -> dict:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text())["services"]["bot"]


def bot_environment() -> dict[str, str]:
    env = operator_env()
    return {name: substituted(str(v), env) for name, v in bot_service()["environment"].items()}


def test_every_variable_the_bot_service_sets_is_one_derivkit_reads():
    known = {item.env for item in SETTINGS if item.env} | OTHER_VARIABLES
    unknown = set(bot_environment()) - known
    assert not unknown, f"compose sets variables derivkit never reads: {sorted(unknown)}"


def test_the_bot_service_environment_resolves_to_a_fleet_instance_behind_the_proxy():
    environ = bot_environment()
    settings = resolve_bot_settings(environ=environ, directory=None)
    assert settings.multi_user
    assert settings.token == environ["DERIVKIT_BOT_TOKEN"]
    assert settings.webhook == "https://bot.example.com/telegram"
    host, port = settings.listen_address()
    assert (host, settings.connection_cap) == ("0.0.0.0", 5)
    url = resolve_database_url(environ=environ)
    assert url is not None and url.startswith("postgresql://") and "@postgres:5432/" in url
    # the Caddyfile forwards the webhook's path to the port the instances listen on
    caddyfile = (DEPLOY / "Caddyfile").read_text()
    path = settings.webhook.removeprefix("https://bot.example.com")
    assert re.search(rf"handle {re.escape(path)}\s*{{", caddyfile), caddyfile
    assert re.search(rf"dynamic a bot {port}\b", caddyfile), caddyfile
    assert (
        "{$BOT_HOSTNAME}" in caddyfile
        and "BOT_HOSTNAME"
        in yaml.safe_load((DEPLOY / "compose.yaml").read_text())["services"]["proxy"]["environment"]
    )


def test_the_command_the_image_runs_is_accepted():
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    entrypoint = re.search(r'^ENTRYPOINT \["(\w+)"\]', dockerfile, re.M)
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert entrypoint is not None and entrypoint.group(1) in scripts
    result = CliRunner().invoke(app, [*bot_service()["command"], "--help"])
    assert result.exit_code == 0, result.output
    for flag in ("--webhook", "--listen", "--connection-cap", "--database"):
        assert flag in result.output  # what the README's fleet command line passes


def test_the_image_installs_extras_that_exist():
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    installed = re.search(r"pip install [^']*'\.\[([\w,]+)\]'", dockerfile)
    assert installed is not None
    assert set(installed.group(1).split(",")) <= set(extras)
    for copied in re.findall(r"^COPY (\S+(?: \S+)*) \S+$", dockerfile, re.M):
        for source in copied.split():
            assert (ROOT / source).exists(), source
