"""UpdateOrders: new take profit / stop loss amounts for an open contract, before confirming.

Shows one input per order the contract lets change now (a multiplier: both; a turbos: take
profit), filled with the amount set today (empty: none). An empty input removes that order.
Dismisses with the changes only (``{"take_profit": 8.0, "stop_loss": None}``: set one, remove
the other), or None on escape / Cancel; nothing is sent from here: the main screen asks for
confirmation, then sends the update once.
"""

from __future__ import annotations

from collections.abc import Mapping

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label

from derivkit.formatting import CURRENCY_DECIMALS

__all__ = ["ORDER_LABELS", "UpdateOrders", "parse_changes"]

ORDER_LABELS = {"take_profit": "Take profit", "stop_loss": "Stop loss"}


def _shown(value: float | None, currency: str) -> str:
    if value is None:
        return ""
    return f"{value:.{CURRENCY_DECIMALS.get(currency, 2)}f}"


def parse_changes(
    typed: Mapping[str, str], current: Mapping[str, float | None]
) -> dict[str, float | None]:
    """The orders whose typed amount differs from ``current`` (empty or ``none``: remove).
    Raises ValueError (a message for the user) for an amount that is not a positive number."""
    changes: dict[str, float | None] = {}
    for key, text in typed.items():
        text = text.strip()
        label = ORDER_LABELS.get(key, key)
        new: float | None
        if text.lower() in ("", "none"):
            new = None
        else:
            try:
                new = round(float(text), 2)
            except ValueError:
                raise ValueError(f"{label} must be an amount, or empty to remove it") from None
            if not new > 0:
                raise ValueError(f"{label} must be more than 0 (or empty to remove it)")
        if new != current.get(key):
            changes[key] = new
    return changes


class UpdateOrders(ModalScreen[dict[str, float | None] | None]):
    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="update.cancel", tooltip="Close, change nothing"),
    ]

    def __init__(
        self, title: str, current: Mapping[str, float | None], currency: str, note: str = ""
    ) -> None:
        """``current`` has one entry per order that may be changed (None: not set now)."""
        super().__init__()
        self._title = title
        self._current = dict(current)
        self._currency = currency
        self._note = note

    def compose(self) -> ComposeResult:
        with Vertical(id="update"):
            yield Label(Content(self._title).stylize("bold"), id="update-title")
            with Horizontal(classes="ticket-row"):
                for key, value in self._current.items():
                    with Vertical(classes="ticket-field"):
                        yield Label(f"{ORDER_LABELS[key]} ({self._currency})")
                        yield Input(
                            _shown(value, self._currency),
                            placeholder="none",
                            id=f"update-{key}",
                        )
            if self._note:
                yield Label(Content(self._note).stylize("dim"), id="update-note")
            yield Label("", id="update-error")
            with Horizontal(id="update-buttons"):
                yield Button("Review", variant="primary", id="update-review")
                yield Button("Cancel", id="update-cancel")
            yield Label("enter review · empty removes an order · esc cancel", id="update-hint")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def typed(self) -> dict[str, str]:
        return {key: self.query_one(f"#update-{key}", Input).value for key in self._current}

    @on(Input.Submitted)
    @on(Button.Pressed, "#update-review")
    def _review(self) -> None:
        error = self.query_one("#update-error", Label)
        try:
            changes = parse_changes(self.typed(), self._current)
        except ValueError as problem:
            error.update(Content(str(problem)).stylize("bold red"))
            return
        if not changes:
            error.update(Content("Nothing changed.").stylize("bold red"))
            return
        self.dismiss(changes)

    @on(Button.Pressed, "#update-cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
