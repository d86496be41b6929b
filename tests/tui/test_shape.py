"""The dashboard package's shape: passive widgets, no CLI dependency, bindings with ids."""

from __future__ import annotations

from pathlib import Path

from textual.binding import Binding

import derivkit.tui
from derivkit.tui import DerivDashboard
from derivkit.tui.screens.main import WatchlistScreen
from derivkit.tui.screens.symbol_picker import SymbolPicker
from tests.imports import imported_modules

PACKAGE = Path(derivkit.tui.__file__).parent


def test_widgets_never_import_the_core_and_nothing_imports_the_cli():
    widgets = {
        (path.name, name)
        for path in (PACKAGE / "widgets").glob("*.py")
        for name in imported_modules(path)
        if name.startswith("derivkit.core")
    }
    assert widgets == set()
    cli = {
        (path.name, name)
        for path in PACKAGE.rglob("*.py")
        for name in imported_modules(path)
        if name.startswith("derivkit.cli")
    }
    assert cli == set()


def test_every_binding_has_an_id_and_a_tooltip():
    owners = (DerivDashboard, WatchlistScreen, SymbolPicker)
    bindings = [b for owner in owners for b in owner.BINDINGS if isinstance(b, Binding)]
    assert len(bindings) == sum(len(owner.BINDINGS) for owner in owners) >= 6
    assert all(b.id and b.tooltip for b in bindings)
    ids = [b.id for b in bindings]
    assert len(ids) == len(set(ids))
    keys = {b.key for b in bindings}
    assert {"q", "a", "d", "delete", "ctrl+p", "escape"} <= keys
