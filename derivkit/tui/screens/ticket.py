"""TradeTicket: price and buy a contract on the selected symbol.

The user picks a contract (every type of every product in :data:`~derivkit.tui.products.PRODUCTS`)
and fills in the product's fields; a live quote (a ``proposal`` stream, replaced whenever the
inputs change) shows the payout and what the contract pays for. Buy (button or Enter) opens
:class:`ConfirmTrade`; once confirmed, the order goes to ``place`` (the main screen, which sends it
once in its own worker, so closing the ticket never cancels a buy) and the ticket waits for
:meth:`buy_finished`. While a buy is under way, further Buy presses do nothing.

Concurrency: the quote worker (group ``quote``, exclusive) is cancelled, and its stream
forgotten, on every change of inputs and when the ticket closes.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.timer import Timer
from textual.widgets import Button, Input, Label, Select

from derivkit.core import ContractSpec, DerivClient, Proposal
from derivkit.formatting import DURATION_UNITS, money
from derivkit.tui.messages import BuyFinished, QuoteFailed, QuoteReceived
from derivkit.tui.products import PRODUCTS, Choice, Field, choice_by_key
from derivkit.tui.screens.confirm import ConfirmTrade
from derivkit.tui.trading import Order, watch_quote

__all__ = ["Account", "TradeTicket"]

#: Seconds of quiet typing before the quote is re-asked.
REQUOTE_DELAY = 0.3


@dataclass(frozen=True, slots=True)
class Account:
    loginid: str
    currency: str
    real: bool


def _all_fields() -> list[Field]:
    """Every field of every product, once per key, in first-seen order."""
    fields: dict[str, Field] = {}
    for product in PRODUCTS:
        for choice in product.choices():
            for item in product.fields(choice):
                fields.setdefault(item.key, item)
    return list(fields.values())


def describe_spec(spec: ContractSpec, label: str) -> str:
    unit = DURATION_UNITS.get(spec.duration_unit, spec.duration_unit)
    if spec.duration == 1:
        unit = unit.rstrip("s")
    barrier = f" · barrier {spec.barrier}" if spec.barrier is not None else ""
    return f"{label} ({spec.contract_type}) on {spec.symbol} · {spec.duration} {unit}{barrier}"


class TradeTicket(ModalScreen[None]):
    BINDINGS = [
        Binding("escape", "close", "Close", id="ticket.close", tooltip="Close the ticket"),
    ]

    def __init__(
        self,
        client: DerivClient,
        symbol: str,
        account: Account,
        place: Callable[[Order], bool],
        *,
        known_contracts: Callable[[], set[int]],
        refusal: str | None = None,
    ) -> None:
        """``place`` takes a confirmed order (False if it cannot be sent now); ``refusal``, if
        given, says why this account may not buy (e.g. real money without --real-money)."""
        super().__init__()
        self._client = client
        self._symbol = symbol
        self._account = account
        self._place = place
        self._known = known_contracts
        self._refusal = refusal
        self._fields = _all_fields()
        self._choices = [c for product in PRODUCTS for c in product.choices()]
        self._choice: Choice = self._choices[0]
        self._spec: ContractSpec | None = None
        self._proposal: Proposal | None = None
        self._serials = itertools.count(1)
        self._serial = 0
        self._timer: Timer | None = None
        self.buying = False

    # -- layout ----------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        account = self._account
        badge = (" REAL ", "bold reverse red") if account.real else (" DEMO ", "bold reverse green")
        with Vertical(id="ticket"):
            yield Label(
                Content.assemble(
                    ("Trade ", "bold"), (self._symbol, "bold"), "  ", badge, " ", account.loginid
                ),
                id="ticket-title",
            )
            yield Select(
                [(f"{c.product.name} · {c.label}", c.key) for c in self._choices],
                value=self._choice.key,
                allow_blank=False,
                id="ticket-contract",
            )
            with Horizontal(id="ticket-fields"):
                for item in self._fields:
                    with Vertical(classes="ticket-field", id=f"field-{item.key}"):
                        yield Label(item.label)
                        yield Input(
                            item.default, placeholder=item.placeholder, id=f"input-{item.key}"
                        )
            yield Label("", id="ticket-quote")
            yield Label("", id="ticket-longcode")
            yield Label("", id="ticket-error")
            with Horizontal(id="ticket-buttons"):
                yield Button("Buy", variant="success", id="ticket-buy", disabled=True)
                yield Button("Close", id="ticket-close")
            yield Label("enter buy · esc close", id="ticket-hint")

    def on_mount(self) -> None:
        self._show_fields()
        self._requote_now()
        self.query_one(Select).focus()

    # -- inputs ----------------------------------------------------------------------------

    def values(self) -> dict[str, str]:
        return {
            item.key: self.query_one(f"#input-{item.key}", Input).value for item in self._fields
        }

    def _show_fields(self) -> None:
        wanted = {item.key for item in self._choice.product.fields(self._choice)}
        for item in self._fields:
            self.query_one(f"#field-{item.key}").display = item.key in wanted

    @on(Select.Changed, "#ticket-contract")
    def _contract_changed(self, event: Select.Changed) -> None:
        choice = choice_by_key(str(event.value))
        if choice is None or choice == self._choice:
            return
        self._choice = choice
        self._show_fields()
        self._requote_soon()

    @on(Input.Changed)
    def _input_changed(self) -> None:
        self._requote_soon()

    def _requote_soon(self) -> None:
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.set_timer(REQUOTE_DELAY, self._requote_now)

    def _requote_now(self) -> None:
        """Re-ask the quote for the inputs as they are (no-op if the contract is the same)."""
        self._timer = None
        if self.buying:
            return
        choice = self._choice
        try:
            spec = choice.product.spec(choice, self._symbol, self.values(), self._account.currency)
        except ValueError as error:
            self._spec = self._proposal = None
            self._serial = next(self._serials)  # late quotes of the old contract are ignored
            self.workers.cancel_group(self, "quote")
            self._show_quote(str(error), problem=True)
            return
        if spec == self._spec:
            return
        self._spec, self._proposal = spec, None
        self._serial = serial = next(self._serials)
        self._show_quote("quoting…")
        self.run_worker(
            watch_quote(self._client, spec, serial, self.post_message),
            name="quote",
            group="quote",
            exclusive=True,
            exit_on_error=False,
        )

    # -- quotes ----------------------------------------------------------------------------

    def on_quote_received(self, message: QuoteReceived) -> None:
        if message.serial != self._serial or self._spec is None:
            return
        proposal = message.quote
        assert isinstance(proposal, Proposal)
        self._proposal = proposal
        currency = self._account.currency
        profit = proposal.payout - proposal.ask_price
        ratio = f" ({profit / proposal.ask_price:+.1%})" if proposal.ask_price else ""
        self._show_quote(
            f"Price {money(proposal.ask_price, currency)} · payout "
            f"{money(proposal.payout, currency)} · profit if it wins {money(profit, currency)}"
            f"{ratio}",
            longcode=proposal.longcode,
        )

    def on_quote_failed(self, message: QuoteFailed) -> None:
        if message.serial == self._serial:
            self._proposal = None
            self._show_quote(message.reason, problem=True)

    def _show_quote(self, text: str, *, problem: bool = False, longcode: str = "") -> None:
        quote = self.query_one("#ticket-quote", Label)
        quote.update(Content(text).stylize("bold red" if problem else "bold"))
        self.query_one("#ticket-longcode", Label).update(Content(longcode).stylize("dim"))
        self._update_buy_button()

    def _show_error(self, text: str) -> None:
        """Why the last Buy did nothing (kept until the next Buy; quotes do not overwrite it)."""
        self.query_one("#ticket-error", Label).update(Content(text).stylize("bold red"))

    def _update_buy_button(self) -> None:
        button = self.query_one("#ticket-buy", Button)
        proposal = self._proposal
        if self.buying:
            button.label = "Buying…"
        elif proposal is not None:
            button.label = f"Buy for {money(proposal.ask_price, self._account.currency)}"
        else:
            button.label = "Buy"
        button.disabled = self.buying or proposal is None
        button.refresh(layout=True)  # a label change alone keeps the old width: a cut-off price

    # -- buying ----------------------------------------------------------------------------

    @property
    def quote_is_current(self) -> bool:
        """Whether the quote shown is for the inputs as they are now."""
        choice = self._choice
        try:
            wanted = choice.product.spec(
                choice, self._symbol, self.values(), self._account.currency
            )
        except ValueError:
            return False
        return self._proposal is not None and wanted == self._spec

    @on(Input.Submitted)
    @on(Button.Pressed, "#ticket-buy")
    def action_buy(self) -> None:
        """Ask for confirmation of the quoted contract (nothing happens while a buy is on)."""
        if self.buying:
            self.app.bell()
            return
        self._show_error("")
        if self._refusal is not None:
            self._show_error(self._refusal)
            return
        spec, proposal = self._spec, self._proposal
        if spec is None or proposal is None or not self.quote_is_current:
            # the quote on screen is not (yet) for these inputs: never buy what is not shown
            self.app.bell()
            self._requote_now()
            return
        order = Order(spec, proposal, self._account.loginid, self._account.real, self._known())
        currency = self._account.currency
        confirm = ConfirmTrade(
            "Buy this contract?",
            [
                describe_spec(spec, self._choice.label),
                f"Price {money(proposal.ask_price, currency)} · payout "
                f"{money(proposal.payout, currency)}",
                proposal.longcode,
            ],
            f"Buy for {money(proposal.ask_price, currency)}",
            account=self._account.loginid,
            real=self._account.real,
        )
        self.app.push_screen(confirm, lambda yes: self._confirmed(order, bool(yes)))

    def _confirmed(self, order: Order, yes: bool) -> None:
        if not yes or self.buying:
            return
        if not self._place(order):
            self._show_error("The account is not connected: nothing bought.")
            return
        self.buying = True
        self.workers.cancel_group(self, "quote")
        self._show_quote("Buying… (sent once; it is never re-sent)")

    def buy_finished(self, message: BuyFinished) -> None:
        """The main screen's answer to our order: close on success or an unknown outcome."""
        self.buying = False
        if message.contract_id is not None or message.unknown:
            self.dismiss(None)
            return
        self._spec = None  # quote again: a refused proposal id is used up
        self._requote_now()
        self._show_error(f"Not bought: {message.error}")

    @on(Button.Pressed, "#ticket-close")
    def action_close(self) -> None:
        self.dismiss(None)
