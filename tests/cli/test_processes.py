"""The real entry point in a subprocess: Ctrl-C during a stream, a dropped connection."""

from __future__ import annotations

import queue
import signal
import threading

from tests.cli.conftest import spawn


class Lines:
    """Lines of a process's stdout, read by a thread, waited for with a timeout."""

    def __init__(self, process) -> None:
        self._queue: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._pump, args=(process.stdout,), daemon=True).start()

    def _pump(self, stream) -> None:
        for line in stream:
            self._queue.put(line)
        self._queue.put(None)

    def next(self, timeout: float = 10.0) -> str | None:
        return self._queue.get(timeout=timeout)


def test_ctrl_c_during_a_stream_exits_130_without_traceback():
    with spawn("--sim", "ticks", "1HZ100V") as process:
        lines = Lines(process)
        assert "1HZ100V" in (lines.next() or "")
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=10) == 130
        stderr = process.stderr.read()
    assert "Traceback" not in stderr and "Interrupted" in stderr


def test_ctrl_c_during_balance_watch(sim):
    with spawn(*sim.args(), "balance", "--watch") as process:
        lines = Lines(process)
        assert "USD" in (lines.next() or "")
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=10) == 130


def test_stream_survives_a_dropped_connection(sim):
    with spawn(*sim.args(), "--json", "ticks", "1HZ100V", "--count", "6") as process:
        lines = Lines(process)
        assert lines.next() and lines.next()
        accepted = sim.simulator.connections_accepted
        assert sim.call(sim.simulator.faults.drop_connections) >= 1
        rest = [lines.next() for _ in range(4)]
        assert all(rest), rest
        assert process.wait(timeout=10) == 0
        stderr = process.stderr.read()
    assert sim.simulator.connections_accepted > accepted
    assert "connection lost; reconnecting" in stderr and "Reconnected." in stderr
