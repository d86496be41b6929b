"""DiffedTable: a DataTable whose repaints redraw only the rows that changed.

The table remembers what each cell shows (text and style) and skips cells that did not change.
DataTable's own ``update_cell`` bumps one table-wide counter that every render cache is keyed on,
so a single changed cell re-renders every visible row (about 1.5 ms a row through Rich): with
fifty symbols ticking, that was most of the dashboard's CPU. So a changed cell is written into the
table's data directly, only that row's cached renders are dropped (before the next render), and
only that row's region is refreshed. This leans on DataTable internals (``_data`` and its render
caches, the same from Textual 3.2 to 8); where they are missing the table falls back to
``update_cell``, and ``tests/tui/test_tables.py`` checks what is drawn on both CI jobs.

Rows keep their keys; nothing is cleared and re-added, except when :meth:`hide_columns` changes
which columns show (for narrow terminals) or :meth:`order_rows` their order: then the table is
rebuilt from the remembered cells.
Subclasses declare their ``COLUMNS``. Mutated only on the event loop.
"""

from __future__ import annotations

from typing import Any, ClassVar

from rich.console import JustifyMethod
from rich.text import Text
from textual.geometry import Region
from textual.strip import Strip
from textual.widgets import DataTable
from textual.widgets.data_table import ColumnKey, RowKey

__all__ = ["Cell", "Column", "DiffedTable"]

Cell = tuple[str, str]  # text, style
Column = tuple[str, str, int, bool]  # key, header, width, right-aligned


class DiffedTable(DataTable[Text]):
    """Rows by key, each a dict of column key -> :data:`Cell`."""

    COLUMNS: ClassVar[tuple[Column, ...]] = ()

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._shown: dict[str, dict[str, Cell]] = {}
        self._right = {key for key, _, _, right in self.COLUMNS if right}
        self._hidden: frozenset[str] = frozenset()
        self._stale: set[RowKey] = set()  # rows written quietly, their renders not yet dropped
        self._quiet = all(
            hasattr(self, name)
            for name in ("_data", "_cell_render_cache", "_row_render_cache", "_line_cache")
        )
        self._add_columns()

    def _add_columns(self) -> None:
        for key, header, width, _ in self.COLUMNS:
            if key not in self._hidden:
                self.add_column(Text(header, justify=self._justify(key)), key=key, width=width)

    def _row(self, cells: dict[str, Cell]) -> list[Text]:
        return [self._styled(k, cells[k]) for k, *_ in self.COLUMNS if k not in self._hidden]

    def hide_columns(self, keys: frozenset[str]) -> bool:
        """Show every column but ``keys``; rebuilds the table (keeping the cursor's row) only
        if that changes anything. True if it did."""
        if keys == self._hidden:
            return False
        self._hidden = keys
        self._rebuild([str(row.key.value) for row in self.ordered_rows], columns=True)
        return True

    def order_rows(self, keys: list[str]) -> bool:
        """Put the rows in the order of ``keys`` (every row's key, once), rebuilding the table
        (keeping the cursor's row) only if the order changes; True if it did. Rare by design
        (a row added or settled), so a rebuild costs less than a sort keyed on a column that
        may be hidden."""
        if [str(row.key.value) for row in self.ordered_rows] == keys:
            return False
        self._rebuild(keys, columns=False)
        return True

    def _rebuild(self, order: list[str], *, columns: bool) -> None:
        selected = None
        if self.row_count:
            selected = self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value
        self.clear(columns=columns)
        self._stale.clear()
        if columns:
            self._add_columns()
        for key in order:
            self.add_row(*self._row(self._shown[key]), key=key)
        if selected is not None:
            self.move_cursor(row=self.get_row_index(selected))

    def _justify(self, key: str) -> JustifyMethod:
        return "right" if key in self._right else "left"

    def _styled(self, key: str, cell: Cell) -> Text:
        text, style = cell
        return Text(
            text, style=style, justify=self._justify(key), no_wrap=True, overflow="ellipsis"
        )

    def has_row(self, key: str) -> bool:
        return key in self._shown

    def put_row(self, key: str, cells: dict[str, Cell]) -> int:
        """Add the row, or rewrite its cells that changed; how many cells were written."""
        shown = self._shown.get(key)
        if shown is None:
            self._shown[key] = dict(cells)
            self.add_row(*self._row(cells), key=key)
            return len(cells)
        updated = 0
        for column, cell in cells.items():
            if shown[column] != cell:
                shown[column] = cell
                if column not in self._hidden:
                    self._write(key, column, self._styled(column, cell))
                    updated += 1
        if updated and self._quiet:
            self._refresh_row_key(RowKey(key))
        return updated

    def _write(self, key: str, column: str, value: Text) -> None:
        if not self._quiet:
            self.update_cell(key, column, value)
            return
        row_key = RowKey(key)
        self._data[row_key][ColumnKey(column)] = value
        self._stale.add(row_key)

    def _refresh_row_key(self, row_key: RowKey) -> None:
        index = self._row_locations.get(row_key)
        if index is not None:
            self.refresh_row(index)

    def _drop_stale_renders(self) -> None:
        """Forget the cached renders of the rows written since the last render (and every
        cached line, which is cheap to rebuild from the rows)."""
        if not self._stale:
            return
        stale, self._stale = self._stale, set()
        caches: tuple[Any, ...] = (self._cell_render_cache, self._row_render_cache)
        for cache in caches:  # both keyed by (row key, ...); LRUCache has keys(), no __iter__
            for cache_key in [k for k in cache.keys() if k[0] in stale]:  # noqa: SIM118
                cache.discard(cache_key)
        self._line_cache.clear()
        renderables = getattr(self, "_row_renderable_cache", None)  # Textual >= 4
        if renderables is not None:
            renderables.clear()

    def render_lines(self, crop: Region) -> list[Strip]:
        self._drop_stale_renders()
        return super().render_lines(crop)

    def drop_row(self, key: str) -> bool:
        """Remove the row; False if there was none."""
        if self._shown.pop(key, None) is None:
            return False
        self.remove_row(key)
        return True

    def column_filled(self, column: str) -> bool:
        """Whether any row shows something in ``column``."""
        return any(cells[column][0] for cells in self._shown.values())

    def shown_text(self, key: str, column: str) -> str:
        """The text shown in one cell."""
        return self._shown[key][column][0]
