"""ConfirmTrade: the last question before money moves, naming the account and the price (also
asked before the dashboard stops a strategy, which names no account: ``account=None``).

Dismisses with True once (a second Enter or click changes nothing), False on escape or Cancel.
On a real-money account the confirm button stays disabled until the user ticks the extra
"real money" box.
"""

from __future__ import annotations

from collections.abc import Sequence

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Label

__all__ = ["REAL_MONEY_BOX", "ConfirmTrade"]

REAL_MONEY_BOX = "Yes, this is REAL money"


class ConfirmTrade(ModalScreen[bool]):
    BINDINGS = [
        Binding(
            "escape",
            "cancel",
            "Cancel",
            id="confirm.cancel",
            tooltip="Close without trading",
        ),
    ]

    def __init__(
        self,
        title: str,
        lines: Sequence[str],
        confirm: str,
        *,
        account: str | None,
        real: bool,
    ) -> None:
        super().__init__()
        self._title = title
        self._lines = list(lines)
        self._confirm = confirm
        self._account = account
        self._real = real
        self._answered = False

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm", classes="-real" if self._real else ""):
            yield Label(Content(self._title).stylize("bold"), id="confirm-title")
            for line in self._lines:
                yield Label(line, classes="confirm-line")
            badge = (
                (" REAL MONEY ", "bold reverse red")
                if self._real
                else (" DEMO ", "bold reverse green")
            )
            if self._account is not None:
                yield Label(
                    Content.assemble("Account ", badge, " ", self._account), id="confirm-account"
                )
            if self._real:
                yield Checkbox(REAL_MONEY_BOX, id="confirm-real")
            with Horizontal(id="confirm-buttons"):
                yield Button(
                    self._confirm, variant="success", id="confirm-yes", disabled=self._real
                )
                yield Button("Cancel", id="confirm-no")
            yield Label("enter confirm · esc cancel", id="confirm-hint")

    def on_mount(self) -> None:
        target = "#confirm-real" if self._real else "#confirm-yes"
        self.query_one(target).focus()

    @on(Checkbox.Changed, "#confirm-real")
    def _real_ticked(self, event: Checkbox.Changed) -> None:
        self.query_one("#confirm-yes", Button).disabled = not event.value

    @on(Button.Pressed, "#confirm-yes")
    def _yes(self) -> None:
        self._answer(True)

    @on(Button.Pressed, "#confirm-no")
    def _no(self) -> None:
        self._answer(False)

    def action_cancel(self) -> None:
        self._answer(False)

    def _answer(self, value: bool) -> None:
        if self._answered:
            return
        self._answered = True
        self.dismiss(value)
