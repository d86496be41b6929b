"""Rewriting a Static (or Label) whose size the stylesheet fixes, without a relayout.

``Static.update`` lays the whole screen out again by default (the text might change the widget's
size): a reflow of every widget and a redraw of every scroll bar, on each key press that moves
the selection (the price panel's labels) and each repaint of the digits. Where the stylesheet
gives the widget a fixed width and height (``dashboard.tcss`` says which), a repaint of the widget
is enough. Older Textual (the 3.2 floor) has no such option; there the update lays out as before.
"""

from __future__ import annotations

import inspect

from textual.visual import VisualType
from textual.widgets import Static

__all__ = ["update_in_place"]

_CAN_SKIP_LAYOUT = "layout" in inspect.signature(Static.update).parameters


def update_in_place(widget: Static, content: VisualType) -> None:
    """Show ``content`` in ``widget`` (of a fixed size) with a repaint, not a relayout."""
    if _CAN_SKIP_LAYOUT:
        widget.update(content, layout=False)
    else:
        widget.update(content)
