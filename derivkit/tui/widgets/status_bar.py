"""StatusBar: connection state, latency, server time, reconnects, stream gaps and the endpoint."""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Static

from derivkit.formatting import utc
from derivkit.tui.widgets.quiet import update_in_place

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

    def show(
        self,
        *,
        state: str,
        reconnects: int,
        gaps: int,
        streams: int,
        endpoint: str,
        latency: float | None = None,
        server_epoch: int | None = None,
    ) -> None:
        ping = "—" if latency is None else f"{latency * 1000:.0f} ms"
        clock = "—" if server_epoch is None else utc(server_epoch)[11:] + " UTC"
        update_in_place(
            self,
            Content.assemble(
                ("●", STATE_STYLES.get(state, "")),
                " ",
                (state, "bold"),
                f"  {ping}  {clock}  reconnects {reconnects}  gaps {gaps}  streams {streams}  ",
                (endpoint, "dim"),
            ),
        )
        for known in STATE_STYLES:
            self.set_class(known == state, f"-{known}")
