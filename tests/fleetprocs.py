"""Bot instances as real processes (``derivkit bot run`` in webhook mode on PostgreSQL), for the
fleet test and the fleet benchmark: started, waited for, killed, stopped."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["BotProcess", "buy_and_confirm", "start_instances", "tails"]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class BotProcess:
    name: str
    webhook: str
    process: asyncio.subprocess.Process
    stderr: list[str] = field(default_factory=list)
    log: Path | None = None  # every line of its stderr, as it came
    running: asyncio.Event = field(default_factory=asyncio.Event)
    ended: asyncio.Event = field(default_factory=asyncio.Event)
    _reader: asyncio.Task[None] | None = None

    async def wait_running(self, timeout: float = 60.0) -> None:
        async with asyncio.timeout(timeout):
            done, _ = await asyncio.wait(
                [
                    asyncio.ensure_future(self.running.wait()),
                    asyncio.ensure_future(self.ended.wait()),
                ],
                return_when=asyncio.FIRST_COMPLETED,
            )
        if not self.running.is_set():
            raise AssertionError(f"{self.name} ended: {''.join(self.stderr)[-3000:]}")

    def kill(self) -> None:
        """SIGKILL: no cleanup at all (its leases and locks must be recovered by the others)."""
        self.process.kill()

    async def stop(self) -> None:
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGINT)
            try:
                async with asyncio.timeout(20):
                    await self.process.wait()
            except TimeoutError:
                self.process.kill()
                await self.process.wait()
        if self._reader is not None:
            with contextlib.suppress(Exception):
                await self._reader


async def _read(stream: asyncio.StreamReader, bot: BotProcess) -> None:
    log = None if bot.log is None else bot.log.open("a", encoding="utf-8")
    try:
        while line := await stream.readline():
            text = line.decode(errors="replace")
            bot.stderr.append(text)
            if log is not None:
                log.write(text)
                log.flush()
            if "Bot running" in text:
                bot.running.set()
    finally:
        bot.ended.set()
        if log is not None:
            log.close()


def tails(bots: list[BotProcess], lines: int = 60) -> str:
    """The last ``lines`` of each instance's log, for a failure's message."""
    parts = []
    for bot in bots:
        where = f" ({bot.log})" if bot.log is not None else ""
        state = "running" if bot.process.returncode is None else f"ended {bot.process.returncode}"
        parts.append(f"--- {bot.name}, {state}{where}:\n" + "".join(bot.stderr[-lines:]))
    return "\n".join(parts)


async def start_instances(
    count: int,
    *,
    endpoint: str,
    api_url: str,
    bot_token: str,
    database: str,
    storage_key: str,
    home: Path,
    extra: tuple[str, ...] = (),
) -> list[BotProcess]:
    """``count`` bot processes in multi-user mode, each with its own webhook port."""
    started = []
    for index in range(count):
        port = _free_port()
        webhook = f"http://127.0.0.1:{port}/hook"
        env = {
            **os.environ,
            "DERIVKIT_BOT_TOKEN": bot_token,
            "DERIVKIT_STORAGE_KEY": storage_key,
            "DERIVKIT_CONFIG_DIR": str(home / f"config{index}"),
            "DERIVKIT_DATA_DIR": str(home / f"data{index}"),
            "DERIVKIT_BOT_INSTANCE": f"instance-{index}",
            "PYTHONUNBUFFERED": "1",
        }
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            "from derivkit.cli import main; main()",
            "--endpoint",
            endpoint,
            "bot",
            "run",
            "--mode",
            "multi-user",
            "--database",
            database,
            "--api-url",
            api_url,
            "--webhook",
            webhook,
            "--listen",
            f"127.0.0.1:{port}",
            "--no-send-limit",
            "--connect-rate",
            "1000",
            *extra,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
            env=env,
        )
        bot = BotProcess(f"instance-{index}", webhook, process, log=home / f"instance-{index}.log")
        assert process.stderr is not None
        bot._reader = asyncio.create_task(_read(process.stderr, bot))
        started.append(bot)
    for bot in started:
        await bot.wait_running()
    return started


async def buy_and_confirm(api: Any, users: list[int], command: str, timeout: float = 60.0) -> None:
    """Each user sends ``command`` (a /buy) and taps Buy as soon as their own card shows, as
    a person would (a card is valid for 30 s; a hundred quotes under load may take longer)."""
    marks = {user: len(api.transcript(user)) for user in users}
    for user in users:
        api.user_sends(command, user_id=user)
    waiting = set(users)
    async with asyncio.timeout(timeout):
        while waiting:
            for user in sorted(waiting):
                card = next(
                    (
                        m
                        for m in api.transcript(user)[marks[user] :]
                        if m.buttons == ["Buy", "Cancel"] and "Confirm within" in (m.text or "")
                    ),
                    None,
                )
                if card is not None:
                    api.user_taps(card.message_id, label="Buy", user_id=user)
                    waiting.discard(user)
            await asyncio.sleep(0.02)
