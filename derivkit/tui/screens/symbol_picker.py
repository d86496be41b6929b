"""SymbolPicker: a modal that asks for one symbol to watch, checked against the server's list.

Dismisses with the symbol's canonical spelling (``r_75`` -> ``R_75``), or None on escape. An unknown
or already-watched symbol is refused in place: the typed text stays and the reason shows under it.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.suggester import SuggestFromList
from textual.validation import ValidationResult, Validator
from textual.widgets import Input, Label, OptionList
from textual.widgets.option_list import Option

__all__ = ["KnownSymbol", "SymbolPicker"]


class KnownSymbol(Validator):
    """Valid when the text names a symbol in ``known`` (any case) that is not watched yet.

    With an empty ``known`` (the symbol list could not be loaded) any symbol passes; the server
    then has the last word.
    """

    def __init__(self, known: Mapping[str, str], watched: Collection[str]) -> None:
        super().__init__()
        self._by_lower = {symbol.lower(): symbol for symbol in known}
        self._watched = watched

    def canonical(self, text: str) -> str | None:
        text = text.strip()
        if not text:
            return None
        if not self._by_lower:
            return text
        return self._by_lower.get(text.lower())

    def validate(self, value: str) -> ValidationResult:
        if not value.strip():
            return self.failure("Type a symbol, e.g. R_75.")
        symbol = self.canonical(value)
        if symbol is None:
            return self.failure(f"Unknown symbol {value.strip()!r}: not an active symbol here.")
        if symbol in self._watched:
            return self.failure(f"{symbol} is already in the watchlist.")
        return self.success()


class SymbolPicker(ModalScreen[str | None]):
    """Type a symbol (tab completes) or pick one from the filtered list."""

    BINDINGS = [
        Binding(
            "escape",
            "cancel",
            "Cancel",
            id="picker.cancel",
            tooltip="Close the picker without adding a symbol",
        ),
        Binding(
            "tab",
            "complete",
            "Complete",
            show=False,
            priority=True,
            id="picker.complete",
            tooltip="Accept the suggested symbol (or move on if there is none)",
        ),
    ]

    def __init__(self, known: Mapping[str, str], watched: Collection[str]) -> None:
        """``known`` maps each symbol to its display name; ``watched`` are refused."""
        super().__init__()
        self._known = dict(known)
        self._watched = set(watched)
        self._validator = KnownSymbol(self._known, self._watched)

    def compose(self) -> ComposeResult:
        with Vertical(id="picker"):
            yield Label("[b]Add a symbol[/b]", id="picker-title")
            yield Input(
                placeholder="Symbol, e.g. R_75 or 1HZ50V",
                suggester=SuggestFromList(sorted(self._known), case_sensitive=False),
                validators=[self._validator],
                validate_on=["submitted"],
                id="picker-input",
            )
            yield Label("", id="picker-error")
            yield OptionList(*self._options(""), id="picker-options")
            hint = "enter add · tab complete · esc cancel"
            if not self._known:
                hint = "symbol list unavailable: the server will check · " + hint
            yield Label(hint, id="picker-hint")

    def _options(self, text: str) -> list[Option]:
        needle = text.strip().lower()
        return [
            Option(Content.assemble((f"{symbol:<9}", "bold"), " ", name), id=symbol)
            for symbol, name in sorted(self._known.items())
            if symbol not in self._watched and (needle in symbol.lower() or needle in name.lower())
        ]

    @on(Input.Changed, "#picker-input")
    def _filter(self, event: Input.Changed) -> None:
        self._show_error("")
        options = self.query_one("#picker-options", OptionList)
        options.clear_options()
        options.add_options(self._options(event.value))
        options.display = options.option_count > 0

    @on(Input.Submitted, "#picker-input")
    def _submit(self, event: Input.Submitted) -> None:
        result = event.validation_result
        if result is not None and not result.is_valid:
            self._show_error(result.failure_descriptions[0])
            return
        self.dismiss(self._validator.canonical(event.value))

    @on(OptionList.OptionSelected, "#picker-options")
    def _pick(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def _show_error(self, message: str) -> None:
        error = self.query_one("#picker-error", Label)
        error.update(message)
        error.set_class(bool(message), "-visible")

    def action_cancel(self) -> None:
        self.dismiss(None)

    def action_complete(self) -> None:
        """Tab in the input takes the suggestion shown after the cursor; elsewhere, or with
        nothing to take, it moves the focus on as usual."""
        field = self.query_one("#picker-input", Input)
        if field.has_focus:
            before = field.value
            field.cursor_position = len(before)
            field.action_cursor_right()  # at the end of the text, this accepts the suggestion
            if field.value != before:
                return
        self.focus_next()
