"""AccountPanel: login id, a DEMO/REAL badge, and the streaming balance; or a no-token note."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import Label

__all__ = ["ACCOUNT_LOST", "MARKET_DATA_ONLY", "TOKEN_REJECTED", "AccountPanel"]

MARKET_DATA_ONLY = "market data only — no token"
TOKEN_REJECTED = "token rejected — market data only"
ACCOUNT_LOST = "account connection closed — market data only"


class AccountPanel(Vertical):
    """Passive: the screen calls :meth:`show_account`, :meth:`show_balance` or
    :meth:`show_market_data_only`."""

    def on_mount(self) -> None:
        self.border_title = "Account"
        self.query_one("#account-note", Label).display = False

    def compose(self) -> ComposeResult:
        yield Label("", id="account-line")
        yield Label("", id="account-balance")
        yield Label("", id="account-note")

    def show_account(self, loginid: str, *, real: bool) -> None:
        badge = (" REAL ", "bold reverse red") if real else (" DEMO ", "bold reverse green")
        self.query_one("#account-line", Label).update(Content.assemble(badge, " ", loginid))
        self.set_class(real, "-real")

    def show_balance(self, text: str) -> None:
        self.query_one("#account-balance", Label).update(Content(text).stylize("bold"))

    def show_market_data_only(self) -> None:
        self.query_one("#account-line", Label).update(Content(MARKET_DATA_ONLY).stylize("dim"))
        self.query_one("#account-balance", Label).update("")

    def show_note(self, text: str, *, problem: bool = False) -> None:
        """A line under the balance: the account's trouble (in red), or nothing."""
        note = self.query_one("#account-note", Label)
        note.update(Content(text).stylize("bold red" if problem else "dim"))
        note.display = bool(text)
        self.set_class(problem, "-problem")
