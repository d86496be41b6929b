"""The one output helper of the CLI: data to stdout (a Rich table or JSON), the rest to stderr.

Under ``--json`` stdout carries only JSON (one document, or one object per line for streams);
messages, spinners and errors always go to stderr. Colours follow the terminal and ``NO_COLOR``.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager, suppress
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

__all__ = ["Column", "Output"]

SPINNER_DELAY = 0.3


class Column:
    """A table column: a key into each row, a header, and alignment."""

    def __init__(self, key: str, header: str | None = None, *, numeric: bool = False) -> None:
        self.key = key
        self.header = header or key.replace("_", " ").title()
        self.numeric = numeric


class Output:
    """Where every command writes. One per invocation."""

    def __init__(self, *, json_mode: bool = False, verbose: bool = False) -> None:
        self.json_mode = json_mode
        self.verbose = verbose
        # soft_wrap: a line is never broken by Rich (piped or redirected text stays one line per
        # message; a terminal wraps it by itself).
        self.console = Console(highlight=False, soft_wrap=True)
        self.errors = Console(stderr=True, highlight=False, soft_wrap=True)

    # -- data --------------------------------------------------------------------------------

    def data(self, payload: Any, human: Any = None, *, err: bool = False) -> None:
        """Print one result: ``payload`` as JSON under --json, else ``human`` (or payload).

        ``err``: the human form is a remark (``Saved ...``) and goes to stderr; the JSON form is
        still the command's result, on stdout.
        """
        if self.json_mode:
            self._json(payload)
        else:
            (self.errors if err else self.console).print(payload if human is None else human)

    def table(
        self,
        rows: Sequence[dict[str, Any]],
        columns: Sequence[Column],
        *,
        title: str | None = None,
        payload: Any = None,
        empty: str = "Nothing to show.",
    ) -> None:
        """Rows as a table (human) or as a JSON list (``payload`` when given, else the rows)."""
        if self.json_mode:
            self._json(rows if payload is None else payload)
            return
        if not rows:
            self.errors.print(empty)
            return
        if not self.console.is_terminal:
            self._tsv(rows, columns)
            return
        table = Table(title=title, header_style="bold", title_justify="left")
        for column in columns:
            table.add_column(column.header, justify="right" if column.numeric else "left")
        for row in rows:
            table.add_row(*(_cell(row.get(column.key)) for column in columns))
        self.console.print(table)

    def _tsv(self, rows: Sequence[dict[str, Any]], columns: Sequence[Column]) -> None:
        """Piped output: a header line, then one tab-separated line per row, untruncated."""
        lines = ["\t".join(column.header for column in columns)]
        for row in rows:
            lines.append("\t".join(str(_cell(row.get(column.key))) for column in columns))
        sys.stdout.write("\n".join(lines) + "\n")
        sys.stdout.flush()

    def csv(self, rows: Sequence[dict[str, Any]], keys: Sequence[str]) -> None:
        """``--csv``: the raw values (not formatted for reading) under a header of ``keys``,
        for spreadsheets and ``derivkit backtest --history``."""
        import csv

        writer = csv.DictWriter(sys.stdout, fieldnames=list(keys), extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
        sys.stdout.flush()

    def stream_item(self, payload: Any, human: Any) -> None:
        """One item of a stream: a JSON line under --json, else a line of text."""
        if self.json_mode:
            sys.stdout.write(json.dumps(payload, separators=(",", ":"), default=str) + "\n")
            sys.stdout.flush()
        else:
            self.console.print(human)

    def _json(self, payload: Any) -> None:
        sys.stdout.write(json.dumps(payload, indent=2, default=str) + "\n")
        sys.stdout.flush()

    # -- messages ------------------------------------------------------------------------------

    def note(self, message: str) -> None:
        """A human-facing remark (stderr, so stdout stays data)."""
        self.errors.print(message)

    def warn(self, message: str) -> None:
        self.errors.print(Text("Warning: ", style="yellow bold") + Text(message))

    def error(self, message: str) -> None:
        self.errors.print(Text("Error: ", style="red bold") + Text(message))

    @asynccontextmanager
    async def waiting(self, message: str) -> AsyncIterator[None]:
        """Show a spinner on stderr if the wrapped wait lasts longer than ~0.3 s."""
        if not self.errors.is_terminal:
            yield
            return
        status = self.errors.status(message)

        async def show_later() -> None:
            await asyncio.sleep(SPINNER_DELAY)
            status.start()

        shower = asyncio.create_task(show_later())
        try:
            yield
        finally:
            shower.cancel()
            with suppress(asyncio.CancelledError):
                await shower
            status.stop()


def _cell(value: Any) -> Text | str:
    if value is None:
        return ""
    if isinstance(value, Text):
        return value
    return str(value)
