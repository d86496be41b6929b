"""Fixtures for CLI tests: an isolated environment, a runner, and a simulator in a thread.

The threaded simulator lets a test drive the CLI in-process (CliRunner, which runs its own event
loop) or as a subprocess, while the test keeps a handle on the server (faults, accounts).
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from derivkit.cli import app
from derivkit.sim import RateLimits, Simulator

REAL_TOKEN = "real-money-token-0001"


@pytest.fixture(autouse=True)
def _isolated(isolated_env) -> None:
    """Every CLI test runs in :func:`tests.conftest.isolated_env`."""


@pytest.fixture
def cli() -> Callable[..., Result]:
    runner = CliRunner()

    def invoke(*args: str, input: str | None = None) -> Result:
        return runner.invoke(app, list(args), input=input)

    return invoke


@dataclass
class ThreadedSim:
    """A Simulator on its own event loop in a background thread."""

    speed: float = 20.0
    simulator: Simulator | None = None
    loop: asyncio.AbstractEventLoop = field(default_factory=asyncio.new_event_loop)
    _thread: threading.Thread | None = None

    def start(self) -> ThreadedSim:
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()
        self.simulator = Simulator(
            seed=7,
            speed=self.speed,
            tokens=["demo-token-0001"],
            real_tokens=[REAL_TOKEN],
            rate_limits=RateLimits.unlimited(),
        )
        self.run(self.simulator.start())
        return self

    def run(self, coroutine: Any, timeout: float = 10) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def call(self, function: Callable[[], Any]) -> Any:
        async def in_loop() -> Any:
            return function()

        return self.run(in_loop())

    def stop(self) -> None:
        assert self.simulator is not None
        self.run(self.simulator.stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        assert self._thread is not None
        self._thread.join(5)
        self.loop.close()

    @property
    def url(self) -> str:
        assert self.simulator is not None
        return self.simulator.url

    @property
    def token(self) -> str:
        assert self.simulator is not None
        return self.simulator.token

    def args(self, token: str | None = None) -> list[str]:
        """Global options that point the CLI at this simulator."""
        return ["--endpoint", self.url, "--token", token or self.token]


@pytest.fixture
def sim() -> Iterator[ThreadedSim]:
    threaded = ThreadedSim().start()
    yield threaded
    threaded.stop()


def spawn(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    """The real ``derivkit`` entry point in a subprocess (line-buffered text pipes)."""
    return subprocess.Popen(
        [sys.executable, "-c", "from derivkit.cli import main; main()", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        bufsize=1,
        env={**os.environ, **(env or {}), "PYTHONUNBUFFERED": "1"},
    )
