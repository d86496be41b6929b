"""PricePanel: the selected symbol's name, its last price in big digits, and its change."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import Digits, Label

from derivkit.formatting import price
from derivkit.tui.formatting import change, percent
from derivkit.tui.watchlist import Quote
from derivkit.tui.widgets.quiet import update_in_place

__all__ = ["PricePanel"]


class PricePanel(Vertical):
    """Passive: :meth:`show` paints a quote (or the empty state); colour follows the last tick.
    Showing what is shown already does nothing; the labels are of a fixed size (the stylesheet),
    so a new symbol or price repaints them without a relayout of the screen."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._shown: tuple[object, ...] | None = None

    def on_mount(self) -> None:
        self.border_title = "Last price"

    def compose(self) -> ComposeResult:
        yield Label("No symbol selected", id="price-title")
        yield Digits("", id="price-digits")
        yield Label("", id="price-plain")  # instead of the big digits on a narrow terminal
        yield Label("", id="price-change")

    def show(self, quote: Quote | None) -> None:
        shown = (
            None
            if quote is None
            else (
                quote.symbol,
                quote.display_name,
                quote.last,
                quote.pip_size,
                quote.direction,
                quote.open,
            )
        )
        if shown == self._shown and self._shown is not None:
            return
        self._shown = shown
        title = self.query_one("#price-title", Label)
        digits = self.query_one("#price-digits", Digits)
        plain = self.query_one("#price-plain", Label)
        line = self.query_one("#price-change", Label)
        if quote is None:
            update_in_place(title, "No symbol selected")
            digits.update("")
            update_in_place(plain, "")
            update_in_place(line, "")
            return
        name = f" · {quote.display_name}" if quote.display_name else ""
        update_in_place(title, Content.assemble((quote.symbol, "bold"), name))
        text = price(quote.last, quote.pip_size) if quote.last is not None else ""
        digits.update(text)
        update_in_place(plain, Content(text).stylize("bold"))
        for widget in (digits, plain):
            widget.set_class(quote.direction > 0, "-up")
            widget.set_class(quote.direction < 0, "-down")
        if quote.last is None:
            update_in_place(line, "waiting for the first tick…")
        else:
            update_in_place(
                line,
                f"{change(quote.change, quote.pip_size)}  ({percent(quote.change_pct)}) since open",
            )
