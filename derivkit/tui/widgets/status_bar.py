"""StatusBar: connection state, reconnects, stream gaps and the endpoint, on one line."""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Static

__all__ = ["StatusBar"]

STATE_STYLES = {
    "connected": "green",
    "connecting": "yellow",
    "reconnecting": "yellow",
    "closed": "red",
    "idle": "dim",
}


class StatusBar(Static):
    """Passive: :meth:`show` repaints it; the CSS class ``-<state>`` follows the state."""

    def show(self, *, state: str, reconnects: int, gaps: int, streams: int, endpoint: str) -> None:
        self.update(
            Content.assemble(
                ("●", STATE_STYLES.get(state, "")),
                " ",
                (state, "bold"),
                f"   reconnects {reconnects}   stream gaps {gaps}   streams {streams}   ",
                (endpoint, "dim"),
            )
        )
        for known in STATE_STYLES:
            self.set_class(known == state, f"-{known}")
