"""DigitPanel: last-digit statistics of the selected symbol (a :class:`DigitStats`).

Passive: the screen calls :meth:`show` with the statistics (or None). One line per digit: its
share as a bar, its count and how many ticks ago it was last seen; then even/odd, over/under
and the current streaks.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import Static

from derivkit.tui.ticklog import OVER, UNDER, DigitStats
from derivkit.tui.widgets.quiet import update_in_place

__all__ = ["DigitPanel", "digit_lines"]

BAR_WIDTH = 10


def digit_lines(stats: DigitStats, *, compact: bool = False) -> list[str]:
    """The panel's text, line by line (also what tests read)."""
    if not stats.count:
        return ["waiting for ticks…"]
    most = max(stats.counts) or 1
    lines = []
    pairs = range(0, 10, 2) if compact else range(10)
    for digit in pairs:
        cells = [digit, digit + 1] if compact else [digit]
        parts = []
        for d in cells:
            share = stats.share(stats.counts[d])
            seen = stats.last_seen[d]
            ago = "-" if seen is None else str(seen)
            bar = "█" * round(BAR_WIDTH * stats.counts[d] / most)
            if compact:
                parts.append(f"{d} {share:4.1f}% {ago:>3}")
            else:
                parts.append(f"{d} {bar:<{BAR_WIDTH}} {share:4.1f}% {stats.counts[d]:>4}  {ago:>4}")
        lines.append("   ".join(parts))
    parity, parity_run = stats.parity_streak
    streak_digit, digit_run = stats.digit_streak
    lines.append(f"even {stats.share(stats.even):.1f}%  odd {stats.share(stats.odd):.1f}%")
    lines.append(
        f"over {OVER} {stats.share(stats.over):.1f}%  under {UNDER} {stats.share(stats.under):.1f}%"
    )
    lines.append(f"streak: {parity} ×{parity_run} · digit {streak_digit} ×{digit_run}")
    return lines


class DigitPanel(Vertical):
    def compose(self) -> ComposeResult:
        yield Static("", id="digits-body")

    def on_mount(self) -> None:
        self.border_title = "Last digits"
        self.border_subtitle = "n window"

    def show(self, symbol: str | None, stats: DigitStats | None) -> None:
        body = self.query_one("#digits-body", Static)
        if symbol is None or stats is None:
            self.border_title = "Last digits"
            update_in_place(body, "No symbol selected")
            return
        self.border_title = f"Last digits · {symbol} · {stats.count}/{stats.window} ticks"
        compact = self.size.width and self.size.width < 44
        header = "" if compact else "  share        %  count  ago"
        lines = digit_lines(stats, compact=bool(compact))
        update_in_place(body, Content("\n".join([header, *lines] if header else lines)))
