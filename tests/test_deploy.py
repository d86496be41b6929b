"""deploy/ without Docker: what the compose file, the Caddyfile and the Dockerfile ask of
derivkit is what derivkit accepts (the command, every environment variable through the one
settings table, the webhook path and port the proxy forwards to, the extras installed); and, where
Caddy is installed (``.ci/run`` installs it and sets ``DERIVKIT_REQUIRE_CADDY=1``: there these
tests fail rather than skip), that Caddy accepts the Caddyfile and that its proxy, in front of
one dead and two live instances, gets every webhook delivered (answered 5xx where it failed, so
that Telegram sends it again) and keeps the secret token out of its log."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import shutil
import socket
import subprocess
import tomllib
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest
import yaml
from aiohttp import web
from cryptography.fernet import Fernet
from typer.testing import CliRunner

from derivkit.cli import app
from derivkit.settings import SETTINGS, resolve_bot_settings, resolve_database_url
from derivkit.storage import KEY_ENV

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
#: Read by derivkit outside the settings table (the storage key; an instance's lease name).
OTHER_VARIABLES = {KEY_ENV, "DERIVKIT_BOT_INSTANCE", "DERIVKIT_CONFIG_DIR", "DERIVKIT_DATA_DIR"}
REQUIRE_CADDY_ENV = "DERIVKIT_REQUIRE_CADDY"
HOSTNAME = "bot.example.com"


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


# -- Caddy itself (the binary; no Docker) --------------------------------------------------------


@pytest.fixture
def caddy() -> str:
    """The ``caddy`` binary: skipped where it is not installed, a failure where it must be."""
    found = shutil.which("caddy")
    if found is None:
        if os.environ.get(REQUIRE_CADDY_ENV, "") not in ("", "0"):
            pytest.fail(f"caddy is required here ({REQUIRE_CADDY_ENV}) but not installed")
        pytest.skip("caddy is not installed")
    return found


def caddy_env() -> dict[str, str]:
    return {**os.environ, "BOT_HOSTNAME": HOSTNAME}


def test_caddy_accepts_the_caddyfile(caddy):
    result = subprocess.run(
        [caddy, "validate", "--adapter", "caddyfile", "--config", str(DEPLOY / "Caddyfile")],
        env=caddy_env(), capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _handlers(node: object) -> Iterator[dict]:
    if isinstance(node, dict):
        if "handler" in node:
            yield node
        for value in node.values():
            yield from _handlers(value)
    elif isinstance(node, list):
        for item in node:
            yield from _handlers(item)


def plain_http_config(caddy: str, port: int, upstreams: list[str]) -> dict:
    """The deploy Caddyfile as Caddy adapts it, served on plain HTTP at ``port``, with a fixed
    list of ``upstreams`` where Docker's DNS would give the instances (everything else as is:
    the host, the path, the load balancing, the health checks)."""
    adapted = subprocess.run(
        [caddy, "adapt", "--adapter", "caddyfile", "--config", str(DEPLOY / "Caddyfile")],
        env=caddy_env(), capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    config = json.loads(adapted.stdout)
    (server,) = config["apps"]["http"]["servers"].values()
    server["listen"] = [f"127.0.0.1:{port}"]
    server["automatic_https"] = {"disable": True}
    (proxy,) = [h for h in _handlers(server) if h["handler"] == "reverse_proxy"]
    assert proxy.pop("dynamic_upstreams")["name"] == "bot"
    proxy["upstreams"] = [{"dial": address} for address in upstreams]
    config["admin"] = {"disabled": True}
    return config


@contextlib.contextmanager
def running_caddy(caddy: str, config: dict, directory) -> Iterator[None]:
    path = directory / "caddy.json"
    path.write_text(json.dumps(config))
    env = {**caddy_env(), "XDG_DATA_HOME": str(directory), "XDG_CONFIG_HOME": str(directory)}
    with (directory / "caddy.log").open("w") as log:
        process = subprocess.Popen(
            [caddy, "run", "--config", str(path)], env=env, stdout=subprocess.DEVNULL, stderr=log
        )
        try:
            yield
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


async def _listening(port: int, timeout: float = 20.0) -> None:
    async with asyncio.timeout(timeout):
        while True:
            with contextlib.suppress(OSError):
                _, writer = await asyncio.open_connection("127.0.0.1", port)
                writer.close()
                await writer.wait_closed()
                return
            await asyncio.sleep(0.02)


async def test_the_proxy_delivers_every_webhook_past_a_dead_instance_and_logs_no_secret(
    caddy, tmp_path
):
    """What Telegram sees when one of three instances is dead: each webhook is answered 200
    once a live instance has it, body and secret header intact, or 5xx so that Telegram sends
    it again (Caddy 2.6.2 answers 502 to a POST whose first pick refused the connection: its
    retry cannot send the body again); sent again as Telegram does, every update arrives. Caddy
    logs the headers of a request it failed, but never the secret token."""
    received: list[tuple[str, dict, str | None]] = []

    def instance(name: str) -> web.Application:
        async def hook(request: web.Request) -> web.Response:
            secret = request.headers.get("X-Telegram-Bot-Api-Secret-Token")
            received.append((name, await request.json(), secret))
            return web.Response()

        app = web.Application()
        app.router.add_post("/telegram", hook)
        return app

    runners = []
    live = []
    for name in ("live-1", "live-2"):
        runner = web.AppRunner(instance(name))
        await runner.setup()
        port = _free_port()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        runners.append(runner)
        live.append(f"127.0.0.1:{port}")
    dead = f"127.0.0.1:{_free_port()}"  # nobody listens there: the connection is refused
    port = _free_port()
    url = f"http://127.0.0.1:{port}/telegram"
    headers = {"Host": HOSTNAME, "X-Telegram-Bot-Api-Secret-Token": "s3cret"}
    statuses: list[int] = []
    try:
        config = plain_http_config(caddy, port, [live[0], dead, live[1]])
        with running_caddy(caddy, config, tmp_path):
            await _listening(port)
            async with aiohttp.ClientSession() as session:
                for update_id in range(1, 10):
                    body = {"update_id": update_id, "message": {"text": "x" * 500}}
                    for _ in range(10):  # Telegram sends it again until it is answered 2xx
                        async with session.post(url, json=body, headers=headers) as reply:
                            statuses.append(reply.status)
                        if reply.status == 200:
                            break
                async with session.post(
                    f"http://127.0.0.1:{port}/elsewhere", json={}, headers=headers
                ) as reply:
                    assert reply.status == 404  # only the webhook path is forwarded
    finally:
        for runner in runners:
            await runner.cleanup()
    log = (tmp_path / "caddy.log").read_text()
    assert set(statuses) <= {200, 502}, (statuses, log[-3000:])
    assert sorted(update["update_id"] for _, update, _ in received) == list(range(1, 10))
    assert statuses.count(200) == len(received)  # a 200 is one delivery, a 502 none
    assert all(update["message"]["text"] == "x" * 500 for _, update, _ in received)
    assert {secret for _, _, secret in received} == {"s3cret"}
    print(f"statuses {statuses}; delivered to {[name for name, _, _ in received]}")
    if 502 in statuses:  # Caddy logged each failed request, with its headers
        assert '"status":502' in log and '"Content-Type"' in log, log[-3000:]
    assert "X-Telegram-Bot-Api-Secret-Token" not in log and "s3cret" not in log
