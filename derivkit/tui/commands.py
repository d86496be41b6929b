"""The command palette's watchlist commands (ctrl+p), derived from the screen's current state.

The provider knows the screen only through :class:`WatchlistControls`, so it imports no screen.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Protocol, runtime_checkable

from textual.command import DiscoveryHit, Hit, Hits, Provider

__all__ = ["WatchlistCommands", "WatchlistControls"]


@runtime_checkable
class WatchlistControls(Protocol):
    """What a screen offers the palette."""

    def watched_symbols(self) -> list[str]: ...

    def addable_symbols(self) -> list[tuple[str, str]]:
        """Known symbols not watched yet, with their display names."""
        ...

    def action_add_symbol(self) -> None: ...

    def add_symbol(self, symbol: str) -> bool: ...

    def remove_symbol(self, symbol: str) -> None: ...


Command = tuple[str, str, Callable[[], object]]  # name, help, callback


class WatchlistCommands(Provider):
    """Add symbol…, Remove <symbol> for each watched one, Watch <symbol> for each other one."""

    def _commands(self) -> tuple[list[Command], list[Command]]:
        """(commands shown before typing, commands found only by searching)."""
        controls = self.screen
        if not isinstance(controls, WatchlistControls):
            return [], []
        shown: list[Command] = [
            ("Add symbol…", "Pick a symbol to watch (key: a)", controls.action_add_symbol)
        ]
        shown += [
            (
                f"Remove {symbol}",
                "Stop watching it and forget its stream (key: d)",
                partial(controls.remove_symbol, symbol),
            )
            for symbol in controls.watched_symbols()
        ]
        searchable: list[Command] = [
            (f"Watch {symbol}", name, partial(controls.add_symbol, symbol))
            for symbol, name in controls.addable_symbols()
        ]
        return shown, searchable

    async def discover(self) -> Hits:
        shown, _ = self._commands()
        for name, help_text, callback in shown:
            yield DiscoveryHit(name, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        shown, searchable = self._commands()
        for name, help_text, callback in shown + searchable:
            score = max(matcher.match(name), matcher.match(help_text) * 0.9)
            if score > 0:
                yield Hit(score, matcher.highlight(name), callback, text=name, help=help_text)
