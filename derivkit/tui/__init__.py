"""derivkit.tui: the live dashboard (``derivkit dashboard``), a Textual app.

Needs the ``tui`` extra (``pip install 'derivkit[tui]'``). Build a connected
:class:`~derivkit.core.DerivClient` (with a :class:`StateRelay` as its ``on_state_change``), then
``await run_dashboard(client, symbols, relay=relay)``, or drive ``DerivDashboard`` yourself.
"""

from derivkit.tui.app import DEFAULT_SYMBOLS, DerivDashboard, run_dashboard
from derivkit.tui.relay import StateRelay

__all__ = ["DEFAULT_SYMBOLS", "DerivDashboard", "StateRelay", "run_dashboard"]
