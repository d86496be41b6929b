"""The ``derivkit`` command line (Typer). Heavy modules are imported lazily inside commands."""

from __future__ import annotations

import typer

from derivkit import __version__

app = typer.Typer(
    name="derivkit",
    no_args_is_help=True,
    help="Deriv API v3 from the terminal: quotes, trades and an offline simulator.",
    pretty_exceptions_show_locals=False,
)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"derivkit {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: bool = typer.Option(
        False, "--version", callback=_print_version, is_eager=True, help="Show the version and exit."
    ),
) -> None:
    """Deriv API v3 from the terminal."""


def main() -> None:
    """Console-script entry point."""
    app()
