"""Fault injection for tests: ``sim.faults``.

* ``drop_connections()`` — abort every client socket now (no close frame; clients see an abrupt
  drop).
* ``delay`` — seconds added before each outgoing message is written (replies and stream messages;
  order is preserved).
* ``token_delay`` — ``{token: seconds}``: extra delay of every message to a connection authorized
  with that token (one slow account among many), except the ``authorize`` reply itself.
* ``mute`` — while True, requests are read (and reset the idle timer) but ignored, and nothing is
  sent: no replies and no stream messages.
* ``pause_symbol(symbol)`` / ``resume_symbol(symbol)`` — stop / restart tick generation for a
  symbol; simulated time skipped while paused has no ticks, and contracts on it wait.

All attributes are plain values read by the server on the event loop; set them from the same loop.
"""

from __future__ import annotations

from collections.abc import Callable


class Faults:
    def __init__(
        self,
        drop: Callable[[], int],
        pause: Callable[[str], None],
        resume: Callable[[str], None],
    ) -> None:
        self.delay: float = 0.0
        self.token_delay: dict[str, float] = {}
        self.mute: bool = False
        self._drop = drop
        self._pause = pause
        self._resume = resume
        self.paused: set[str] = set()

    def drop_connections(self) -> int:
        """Abort every open client connection; returns how many were dropped."""
        return self._drop()

    def pause_symbol(self, symbol: str) -> None:
        self._pause(symbol)
        self.paused.add(symbol)

    def resume_symbol(self, symbol: str) -> None:
        self._resume(symbol)
        self.paused.discard(symbol)

    def reset(self) -> None:
        """Clear delay and mute and resume every paused symbol."""
        self.delay = 0.0
        self.token_delay.clear()
        self.mute = False
        for s in list(self.paused):
            self.resume_symbol(s)
