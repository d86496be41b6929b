"""TradeTicket: price and buy a contract on the selected symbol.

The user picks a contract (every type of every product in :data:`~derivkit.tui.products.PRODUCTS`
that the symbol offers) and fills in the product's fields: typed text, or a choice among the
symbol's own ranges (multiplier, growth rate, deal cancellation, turbos barrier or payout per
point, vanilla strike), read from ``contracts_for`` when the ticket opens. A live quote (a
``proposal`` stream, replaced whenever the inputs change) shows the price and what the contract
pays or stops at. Buy (button or Enter) opens :class:`ConfirmTrade`; once confirmed, the order goes
to ``place`` (the main screen, which sends it once in its own worker, so closing the ticket never
cancels a buy) and the ticket waits for :meth:`buy_finished`. While a buy is under way, further Buy
presses do nothing, and the ticket stays open: the buy names the quote's proposal, which the
server forgets with its stream, so the quote stream lives until the buy is answered (a buy that
reaches the server after the ``forget`` is refused as an unknown proposal).

One widget per field key, whatever the product (``#input-<key>``, an Input or a Select), so a value
entered for one product carries over to the next; a field the user has not touched takes the new
product's default (a vanilla's duration starts at minutes, not ticks).

Concurrency: the quote worker (group ``quote``, exclusive) is cancelled, and its stream
forgotten, on every change of inputs and when the ticket closes, never while a buy is under way;
the offers worker (group ``offers``) ends with the ticket.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass

from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.timer import Timer
from textual.widgets import Button, Input, Label, Select

from derivkit.core import AnySpec, ContractOffer, DerivClient, Proposal
from derivkit.formatting import money
from derivkit.tui.messages import BuyFinished, OffersLoaded, QuoteFailed, QuoteReceived
from derivkit.tui.products import (
    PRODUCTS,
    Choice,
    Field,
    Offers,
    choice_by_key,
    choices_offered,
)
from derivkit.tui.screens.confirm import ConfirmTrade
from derivkit.tui.trading import Order, load_offers, watch_quote

__all__ = ["Account", "TradeTicket"]

#: Seconds of quiet typing before the quote is re-asked.
REQUOTE_DELAY = 0.3
#: Terminals shorter than this get borderless (one-line) inputs, so a multiplier's ticket fits
#: in 24 rows.
TALL = 32


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
            for item in product.fields(choice, Offers(), {}):
                known = fields.setdefault(item.key, item)
                if known.is_choice != item.is_choice or known.row != item.row:
                    raise AssertionError(f"field {item.key!r} changes kind between products")
    return list(fields.values())


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
        self._offers = Offers()
        self._choices = choices_offered(self._offers)
        self._choice: Choice = self._choices[0]
        self._defaults = {item.key: item.default for item in self._fields}  # last put in
        self._options: dict[str, list[tuple[str, str]]] = {
            item.key: list(item.options or ()) for item in self._fields if item.is_choice
        }
        self._spec: AnySpec | None = None
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
                self._choice_options(),
                value=self._choice.key,
                allow_blank=False,
                id="ticket-contract",
            )
            for row, row_id in enumerate(("ticket-fields", "ticket-orders")):
                with Horizontal(id=row_id, classes="ticket-row"):
                    for item in self._fields:
                        if item.row == row:
                            yield from self._compose_field(item)
            yield Label("", id="ticket-quote")
            yield Label("", id="ticket-longcode")
            yield Label("", id="ticket-error")
            with Horizontal(id="ticket-buttons"):
                yield Button("Buy", variant="success", id="ticket-buy", disabled=True)
                yield Button("Close", id="ticket-close")
            yield Label("enter buy · esc close", id="ticket-hint")

    def _compose_field(self, item: Field) -> ComposeResult:
        with Vertical(classes="ticket-field", id=f"field-{item.key}"):
            yield Label(item.label, id=f"label-{item.key}")
            if item.is_choice:
                yield Select(
                    list(item.options or ()),
                    prompt="—",
                    id=f"input-{item.key}",
                    classes="ticket-option",
                )
            else:
                yield Input(item.default, placeholder=item.placeholder, id=f"input-{item.key}")

    def _choice_options(self) -> list[tuple[str, str]]:
        return [(f"{c.product.name} · {c.label}", c.key) for c in self._choices]

    def on_mount(self) -> None:
        self._fit(self.app.size.height)
        self._show_error("")
        self._show_fields()
        self._requote_now()
        self.query_one("#ticket-contract", Select).focus()
        self.run_worker(
            load_offers(self._client, self._symbol, self._account.currency, self.post_message),
            name="offers",
            group="offers",
            exit_on_error=False,
        )

    def on_resize(self, event: events.Resize) -> None:
        self._fit(event.size.height)

    def _fit(self, height: int) -> None:
        compact = height < TALL
        for widget in self.query("Input, Select, Button"):
            if isinstance(widget, Input | Select | Button):
                widget.compact = compact

    # -- inputs ----------------------------------------------------------------------------

    def values(self) -> dict[str, str]:
        values: dict[str, str] = {}
        for item in self._fields:
            widget = self.query_one(f"#input-{item.key}")
            if isinstance(widget, Select):
                value = widget.value
                values[item.key] = "" if value is Select.BLANK else str(value)
            else:
                assert isinstance(widget, Input)
                values[item.key] = widget.value
        return values

    @property
    def choice(self) -> Choice:
        return self._choice

    def options(self, key: str) -> list[str]:
        """The values a choice field offers now (``contract``: the contract list's keys)."""
        if key == "contract":
            return [choice.key for choice in self._choices]
        return [value for _, value in self._options.get(key, [])]

    def _show_fields(self) -> None:
        """Show the fields of the chosen contract, with their labels and choices for this
        symbol; a text field the user has not touched takes this product's default."""
        choice = self._choice
        wanted = choice.product.fields(choice, self._offers, self.values())
        fields = {item.key: item for item in wanted}
        rows = {item.row for item in fields.values()}
        for row, row_id in enumerate(("ticket-fields", "ticket-orders")):
            self.query_one(f"#{row_id}").display = row in rows
        for known in self._fields:
            item = fields.get(known.key)
            self.query_one(f"#field-{known.key}").display = item is not None
            if item is None:
                continue
            self.query_one(f"#label-{item.key}", Label).update(item.label)
            widget = self.query_one(f"#input-{item.key}")
            if isinstance(widget, Select):
                self._offer_choices(widget, item)
            else:
                assert isinstance(widget, Input)
                if widget.value == self._defaults[item.key] and widget.value != item.default:
                    widget.value = item.default
                self._defaults[item.key] = item.default

    def _offer_choices(self, select: Select[str], item: Field) -> None:
        """Give ``select`` the field's choices, keeping its value if it is still one."""
        options = list(item.options or ())
        values = [value for _, value in options]
        current = select.value
        if self._options.get(item.key) != options:
            select.set_options(options)
            self._options[item.key] = options
        if current in values:
            select.value = current
        elif item.default in values:
            select.value = item.default
        elif values:
            select.value = values[0]

    @on(Select.Changed, "#ticket-contract")
    def _contract_changed(self, event: Select.Changed) -> None:
        choice = choice_by_key(str(event.value))
        if choice is None or choice == self._choice:
            return
        self._choice = choice
        self._show_fields()
        self._requote_soon()

    @on(Select.Changed, ".ticket-option")
    def _option_changed(self) -> None:
        self._requote_soon()

    @on(Input.Changed)
    def _input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "input-duration":
            self._show_fields()  # a vanilla's strikes (and turbos' choices) follow the expiry
        self._requote_soon()

    def on_offers_loaded(self, message: OffersLoaded) -> None:
        """The symbol's own contracts: only those in the list, with the symbol's ranges."""
        if message.symbol != self._symbol:
            return
        if message.error is not None:
            self._show_error(f"The symbol's contract list is unavailable: {message.error}")
            return
        offers = [offer for offer in message.offers if isinstance(offer, ContractOffer)]
        self._offers = Offers(offers, loaded=True)
        self._choices = choices_offered(self._offers) or self._choices
        if self._choice not in self._choices:
            self._choice = self._choices[0]
        select = self.query_one("#ticket-contract", Select)
        select.set_options(self._choice_options())
        select.value = self._choice.key
        self._show_fields()
        self._requote_now()

    def _requote_soon(self) -> None:
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.set_timer(REQUOTE_DELAY, self._requote_now)

    def _wanted_spec(self) -> AnySpec:
        choice = self._choice
        return choice.product.spec(choice, self._symbol, self.values(), self._account.currency)

    def _requote_now(self) -> None:
        """Re-ask the quote for the inputs as they are (no-op if the contract is the same)."""
        self._timer = None
        if self.buying:
            return
        try:
            spec = self._wanted_spec()
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
        spec = self._spec
        if message.serial != self._serial or spec is None:
            return
        if self.buying:
            return  # the screen says "Buying…" until the answer
        proposal = message.quote
        assert isinstance(proposal, Proposal)
        self._proposal = proposal
        text = self._choice.product.quote_text(spec, proposal, self._account.currency)
        self._show_quote(text, longcode=proposal.longcode)

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
        error = self.query_one("#ticket-error", Label)
        error.update(Content(text).stylize("bold red"))
        error.display = bool(text)

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
        try:
            wanted = self._wanted_spec()
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
        product = self._choice.product
        confirm = ConfirmTrade(
            "Buy this contract?",
            [
                product.describe(self._choice, spec),
                product.quote_text(spec, proposal, currency),
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
        self.buying = True  # the quote stream goes on: its proposal is the one being bought
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
        if self.buying:  # closing would forget the proposal being bought
            self.app.bell()
            self._show_error("A buy is under way: the ticket closes when it is answered.")
            return
        self.dismiss(None)
