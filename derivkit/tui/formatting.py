"""Formats only the dashboard needs: signed changes at a pip size, and signed percentages.

Prices and money come from :mod:`derivkit.formatting`, shared with the CLI and the bot.
"""

from __future__ import annotations

__all__ = ["change", "percent"]


def change(value: float | None, pip_size: int | None) -> str:
    """A signed price difference at the symbol's pip size, e.g. ``+1.25`` (``0.00`` unsigned)."""
    if value is None:
        return "-"
    places = pip_size if pip_size is not None else 2
    rounded = round(value, places)
    return f"{rounded:+.{places}f}" if rounded else f"{0:.{places}f}"


def percent(value: float | None) -> str:
    """A signed percentage with two decimals, e.g. ``-0.35%`` (``0.00%`` unsigned)."""
    if value is None:
        return "-"
    rounded = round(value, 2)
    return f"{rounded:+.2f}%" if rounded else "0.00%"
