"""StateRelay: the client's ``on_state_change`` hook, made before the dashboard exists.

A :class:`~derivkit.core.DerivClient` takes its hook at construction, before any app is built;
the relay is that hook and forwards each state to whichever screen attached itself later. The
client calls it on its event loop, which is the dashboard's loop, so ``post_message`` is safe.
States reported while nothing is attached are dropped: an attaching screen reads
``client.state`` first.
"""

from __future__ import annotations

from textual.message_pump import MessagePump

from derivkit.tui.messages import ConnectionStateChanged

__all__ = ["StateRelay"]


class StateRelay:
    """Call it with a connection state; it posts :class:`ConnectionStateChanged` to the target."""

    def __init__(self) -> None:
        self._target: MessagePump | None = None

    def __call__(self, state: str) -> None:
        if self._target is not None:
            self._target.post_message(ConnectionStateChanged(state))

    def attach(self, target: MessagePump) -> None:
        self._target = target

    def detach(self, target: MessagePump) -> None:
        if self._target is target:
            self._target = None
