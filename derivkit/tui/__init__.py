"""derivkit.tui: the live dashboard (``derivkit dashboard``), a Textual app.

Needs the ``tui`` extra (``pip install 'derivkit[tui]'``). Build a connected
:class:`~derivkit.core.DerivClient` for market data (with a :class:`StateRelay` as its
``on_state_change``) and, with a token, an opened :class:`AccountLink`, then
``await run_dashboard(client, symbols, relay=relay, account=link)``, or drive ``DerivDashboard``
yourself.
"""

from derivkit.tui.account_link import AccountLink
from derivkit.tui.app import DEFAULT_SYMBOLS, DerivDashboard, run_dashboard
from derivkit.tui.relay import StateRelay

__all__ = ["DEFAULT_SYMBOLS", "AccountLink", "DerivDashboard", "StateRelay", "run_dashboard"]
