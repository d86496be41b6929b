"""Every prompt of the CLI under a real Ctrl-C: the real entry point on a pseudo-terminal (its
controlling terminal, so ``\\x03`` is turned into SIGINT by the terminal driver, as when a person
types it), checked on the simulator's side and on disk: nothing happens after Ctrl-C."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from derivkit.cli.output import Output
from derivkit.cli.prompts import ctrl_c_waits

# The child makes the pty its controlling terminal before running the CLI.
ON_A_TERMINAL = (
    "import fcntl, sys, termios; fcntl.ioctl(0, termios.TIOCSCTTY, 0); "
    "from derivkit.cli import main; main()"
)
CTRL_C = b"\x03"


class Terminal:
    """The CLI in a subprocess whose stdin, stdout and stderr are one pseudo-terminal."""

    def __init__(self, *args: str) -> None:
        self.master, slave = os.openpty()
        self.process = subprocess.Popen(
            [sys.executable, "-c", ON_A_TERMINAL, *args],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            start_new_session=True,  # a session of its own, so the pty can be its terminal
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        os.close(slave)
        self.screen = b""
        self._changed = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        while True:
            try:
                chunk = os.read(self.master, 4096)
            except OSError:  # EIO: the child closed its side
                chunk = b""
            with self._changed:
                self.screen += chunk
                self._changed.notify_all()
            if not chunk:
                return

    def wait_for(self, text: str, timeout: float = 20) -> None:
        deadline = time.monotonic() + timeout
        with self._changed:
            while text.encode() not in self.screen:
                left = deadline - time.monotonic()
                shown = self.screen.decode(errors="replace")
                assert left > 0, f"{text!r} never shown; screen: {shown}"
                self._changed.wait(left)

    def type(self, keys: bytes) -> None:
        os.write(self.master, keys)

    def exit_code(self, timeout: float = 20) -> int:
        try:
            return self.process.wait(timeout)
        finally:
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait()

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        os.close(self.master)


@pytest.fixture
def terminal():
    opened: list[Terminal] = []

    def open_terminal(*args: str) -> Terminal:
        opened.append(Terminal(*args))
        return opened[-1]

    yield open_terminal
    for term in opened:
        term.close()


def test_ctrl_c_at_the_buy_prompt_buys_nothing_even_if_y_follows(terminal, sim):
    term = terminal(*sim.args(), "buy", "R_100", "--type", "CALL", "-d", "5m")
    term.wait_for("[y/N]")
    term.type(CTRL_C)
    term.type(b"y\n")  # what the user typed next, believing the command had stopped
    assert term.exit_code() == 130
    account = sim.simulator.accounts[sim.token]
    assert sim.call(lambda: list(account.transactions)) == []
    assert sim.call(lambda: dict(account.contracts)) == {}
    assert b"nothing bought" in term.screen
    assert b"Traceback" not in term.screen


def test_a_yes_at_the_prompt_still_buys_once(terminal, sim):
    term = terminal(*sim.args(), "buy", "R_100", "--type", "CALL", "-d", "5m")
    term.wait_for("[y/N]")
    term.type(b"y\n")
    assert term.exit_code() == 0
    account = sim.simulator.accounts[sim.token]
    actions = sim.call(lambda: [t.action_type for t in account.transactions])
    assert actions == ["buy"]


@pytest.mark.parametrize(
    ("command", "prompt", "stored"),
    [
        # The space after the colon is written once echo is off: typing then stays hidden.
        (("config", "set-token"), "API token: ", "token.enc"),
        (("bot", "set-token"), "Bot token: ", "bot-token.enc"),
    ],
)
def test_ctrl_c_at_a_token_prompt_stores_nothing(terminal, command, prompt, stored):
    term = terminal(*command)
    term.wait_for(prompt)
    term.type(b"abc123")  # half typed (hidden), then Ctrl-C
    term.type(CTRL_C)
    term.type(b"def456\n")
    assert term.exit_code() == 130
    assert not (Path(os.environ["DERIVKIT_CONFIG_DIR"]) / stored).exists()
    assert b"Traceback" not in term.screen and b"abc123" not in term.screen


async def test_ctrl_c_once_a_buy_is_sent_waits_for_its_outcome(capsys):
    """The buy's reply still arrives and is shown: Ctrl-C cannot hide a buy that happened."""
    out = Output()
    outcome = asyncio.get_running_loop().create_future()
    with ctrl_c_waits(out, "the buy", not_done="nothing bought."):
        os.kill(os.getpid(), signal.SIGINT)  # without the guard: KeyboardInterrupt here
        asyncio.get_running_loop().call_soon(outcome.set_result, "bought")
        assert await outcome == "bought"
    for _ in range(3):  # the warning is scheduled from the signal handler
        await asyncio.sleep(0)
    assert "the buy was already sent and cannot be called back" in capsys.readouterr().err
